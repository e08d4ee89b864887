"""Whether a recording's writer is still at work, as its file's lock tells (docs/format.md).

The writer holds an exclusive ``flock`` on its file from creation until it
closes it, and the kernel drops the lock when the process dies (SIGKILL
included; docs/format.md §Reading, step 6). Asking for a shared lock without
waiting is the probe: refused means a writer holds the file. `LogReader`
asks it of the file it has open (its ``status``), the stores of a path
(`storage.stores.liveness`), so a catalog and a reader always agree whether a
footer-less recording is ``running`` or ``incomplete``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os

__all__ = ["lock_held", "writer_holds_lock"]


def lock_held(fd: int) -> bool | None:
    """True while a writer holds its lock on the open file ``fd``, False when none does, None
    when the file system has no locks (nothing then tells)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    return False


def writer_holds_lock(path: str) -> bool | None:
    """`lock_held` for the file at ``path``; None also when it cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return lock_held(fd)
    finally:
        os.close(fd)

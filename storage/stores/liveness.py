"""Whether a recording's writer is still at work: the file's lock, then the pid, then time.

The lock is asked exactly as `LogReader.status` asks it
(`storage.format.lock`), so a catalog and a reader agree whether a
footer-less recording is ``running`` or ``incomplete``. Where the lock cannot
tell (a file system without locks, a writer on another host), the header's
pid and the file's age are the fallbacks (`writer_alive`).
"""

from __future__ import annotations

import os
import socket
import time

from ..format.lock import writer_holds_lock

__all__ = ["DEFAULT_STALE_AFTER", "process_alive", "writer_alive"]

DEFAULT_STALE_AFTER = 24 * 3600.0
_HOST = socket.gethostname()


def process_alive(host: str, pid: int, started_us: int) -> bool | None:
    """Whether the writer ``pid`` on ``host`` still runs: True, False, or None (cannot tell).

    Only this host's processes can be checked. On Linux a pid whose process
    started after the recording did was reused, so the writer is gone.
    """
    if pid <= 0 or (host and host != _HOST):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    except OverflowError:
        return False  # a pid no process can have (a damaged or hostile header)
    except OSError:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        fields = stat[stat.rindex(b")") + 2:].split()
        if fields[0] in (b"Z", b"X"):
            return False  # exited, not yet reaped
        started = _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return True
    return started <= started_us / 1e6 + 5.0  # slack: boot time has 1 s resolution


def writer_alive(path: str, host: str, pid: int, started_us: int, *,
                 stale_after: float = DEFAULT_STALE_AFTER) -> bool:
    """Whether a process is still writing the recording file at ``path``.

    The writer's lock answers, as it does for `LogReader.status`: held means
    alive; not held means the writer closed the file or died, even if its
    process lives on (a footer that could not be written is not ``running``
    forever). Where the lock cannot tell (a file system without locks) the
    header's pid is checked on this host; a writer on another host (a shared
    directory, whose locks may not reach here) counts as alive until the file
    has not grown for ``stale_after`` seconds.
    """
    held = writer_holds_lock(path)
    if held is not None and (held or not _elsewhere(host)):
        return held
    if not os.path.exists(path):
        return False
    if not _elsewhere(host):
        alive = process_alive(host, pid, started_us)
        if alive is not None:
            return alive
    try:
        return time.time() - os.path.getmtime(path) < stale_after
    except OSError:
        return False


def _elsewhere(host: str) -> bool:
    return bool(host) and host != _HOST


_BOOT: list[float] = []


def _boot_time() -> float:
    if not _BOOT:
        with open("/proc/stat", "rb") as f:
            for line in f:
                if line.startswith(b"btime "):
                    _BOOT.append(float(line.split()[1]))
                    break
            else:
                raise ValueError("no btime")
    return _BOOT[0]

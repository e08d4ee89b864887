"""Where a recorder made directly (SPEC §9) works: a private spool directory.

``$TMPDIR/flowtape-spool-<uid>`` holds the working file of an
``ExecutionRecorder`` made without a store or path; ``save()`` and the
storage facades copy it out, so the file goes when the recorder does. Another
user who could write there could swap a spooled file and have ``save()``
publish forged events, so the directory must be this user's alone (issue
10.15).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

from storage import RecordingWriteError

__all__ = ["UnsafeSpool", "private_spool_dir", "remove_quietly"]


class UnsafeSpool(RecordingWriteError):
    """The spool directory exists but others could tamper with what is spooled there."""


def private_spool_dir() -> str:
    """``$TMPDIR/flowtape-spool-<uid>``, created 0700; refused (`UnsafeSpool`) when it is
    not a real directory owned by this user and closed to everyone else (issue 10.15)."""
    uid = os.getuid()
    path = os.path.join(tempfile.gettempdir(), f"flowtape-spool-{uid}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    st = os.lstat(path)
    problem = None
    if not stat.S_ISDIR(st.st_mode):
        problem = "is not a directory (a symlink or a file)"
    elif st.st_uid != uid:
        problem = f"belongs to uid {st.st_uid}, not to this user (uid {uid})"
    elif st.st_mode & 0o022:
        problem = f"can be written by others (mode {stat.S_IMODE(st.st_mode):o})"
    if problem is not None:
        raise UnsafeSpool(
            f"not recording: the spool directory {path} {problem}, so another user could "
            "swap what is spooled there; remove it (flowtape recreates it owner-only) or "
            "record into a store")
    return path


def remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)

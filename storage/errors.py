"""Every error flowtape raises, under one root (SPEC §11).

::

    FlowtapeError
     ├── RecordingNotFoundError     (also FileNotFoundError)
     ├── AmbiguousIdError           (also LookupError)
     ├── InvalidIdError             (also ValueError)
     ├── RecordingReadError
     │    ├── CorruptRecordingError
     │    │    └── NotARecordingError
     │    └── UnsupportedVersionError
     ├── RecordingWriteError        (also OSError)
     ├── StoreError
     │    └── MissingExtraError     (also ImportError)
     ├── PatchError                 (also ValueError)
     ├── LineTooLong                (internal: the writer's signal that an encoded line is
     │                               over the limit; the recorder truncates and goes on)
     ├── recorder.RecorderError     (also ValueError: a bad option; recorder/errors.py)
     ├── recorder.ReplayDivergenceError (also LookupError: re-execution met a call
     │                               the recording cannot answer)
     ├── recorder.RecordedNodeError (a recorded node error whose class cannot be rebuilt)
     └── replayer.ReplayerError     (replayer/errors.py)
          ├── EventNotFoundError    (also IndexError, KeyError)
          └── StateUnknownError

`recorder` and `replayer` add their own subclasses in their own ``errors``
modules. Each message says what happened, to which file or id, and what the
user can do about it. Foreign errors (zstd, zlib, msgspec, sqlite3) are
translated where they arise, never passed on raw; the format room's
``FrameError`` is its internal signal, which readers turn into
`CorruptRecordingError`.
"""

from __future__ import annotations

import os

__all__ = [
    "AmbiguousIdError",
    "CorruptRecordingError",
    "FlowtapeError",
    "InvalidIdError",
    "LineTooLong",
    "MissingExtraError",
    "NotARecordingError",
    "PatchError",
    "RecordingNotFoundError",
    "RecordingReadError",
    "RecordingWriteError",
    "StoreError",
    "UnsupportedVersionError",
]


class FlowtapeError(Exception):
    """The root of every error flowtape raises."""


class RecordingNotFoundError(FlowtapeError, FileNotFoundError):
    """No recording has this path, id or id prefix."""

    def __init__(self, what: str | os.PathLike[str], hint: str = "") -> None:
        self.what = os.fspath(what)
        msg = f"no recording found for {self.what!r}"
        if hint:
            msg += f"; {hint}"
        super().__init__(msg)

    def __str__(self) -> str:  # FileNotFoundError would print errno-style text
        return str(self.args[0])


class AmbiguousIdError(FlowtapeError, LookupError):
    """An id prefix or suffix matches more than one recording."""

    def __init__(self, prefix: str, candidates: list[str]) -> None:
        self.prefix = prefix
        self.candidates = candidates
        shown = ", ".join(candidates[:8]) + (" …" if len(candidates) > 8 else "")
        super().__init__(
            f"{prefix!r} matches {len(candidates)} recordings as an id prefix or suffix "
            f"({shown}); type more characters of the id"
        )


class InvalidIdError(FlowtapeError, ValueError):
    """A string given as a recording id is not one (ids are ``[0-9A-Za-z_-]+``)."""

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(
            f"{value!r} is not a recording id: ids contain only letters, digits, '_' and '-'; "
            "to open a file, pass its path"
        )


class RecordingReadError(FlowtapeError):
    """A recording could not be read. Carries the file it is about."""

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        self.path = os.fspath(path)
        super().__init__(f"{self.path}: {message}")


class CorruptRecordingError(RecordingReadError):
    """Bytes in a recording are damaged: a frame fails to decode or its checksum.

    The message offers ``--recover`` only for damage a recovering reader can
    step over — anything past the header. Without its header (frame 0, or no
    frame at byte offset 0) nothing in the file can be read.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        reason: str,
        *,
        frame: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.frame = frame
        self.offset = offset
        where = []
        if frame is not None:
            where.append(f"frame {frame}")
        if offset is not None:
            where.append(f"byte offset {offset}")
        at = f" at {', '.join(where)}" if where else ""
        past_header = frame > 0 if frame is not None else bool(offset)
        hint = ("run `flowtape verify` for details, or read with --recover to skip damaged "
                "frames" if past_header else "nothing in a recording can be read without its "
                "header; `flowtape verify` reports what is wrong")
        super().__init__(path, f"corrupt recording{at}: {reason}; {hint}")


class NotARecordingError(CorruptRecordingError):
    """The file is not a flowtape recording at all: empty, foreign bytes, a foreign header.

    Nothing was damaged and nothing can be recovered, so the message points
    at the path, not at ``--recover``.
    """

    def __init__(self, path: str | os.PathLike[str], what: str) -> None:
        self.frame = None
        self.offset = 0
        RecordingReadError.__init__(
            self, path, f"not a flowtape recording: {what}; check the path names a file "
            "flowtape recorded (.jsonl.zst, .jsonl.gz or .jsonl)")


class UnsupportedVersionError(RecordingReadError):
    """The recording was written by a newer flowtape (format version too new)."""

    def __init__(self, path: str | os.PathLike[str], found: object, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            path,
            f"format version {found!r} is newer than this flowtape reads (up to {supported}); "
            f"upgrade flowtape to a release that reads format version {found!r}",
        )


class RecordingWriteError(FlowtapeError, OSError):
    """Writing a recording failed (disk full, permissions). Raised only in strict mode."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else super().__str__()


class StoreError(FlowtapeError):
    """A store could not do what was asked: a bad URL, no store there, catalog trouble, an
    object store that cannot be reached, or its optional extra not installed
    (`MissingExtraError`)."""


class MissingExtraError(StoreError, ImportError):
    """A store needs an optional extra that is not installed; the message says what to
    install (``pip install 'flowtape[s3]'``). Also an ImportError, as a missing module is."""


class PatchError(FlowtapeError, ValueError):
    """A patch does not apply to the document (a path that is not there, a failed test).

    Also a ValueError, the builtin a caller would catch for a bad argument.
    """


class LineTooLong(FlowtapeError):
    """Raised by `LogWriter.append` when an encoded line exceeds ``max_line``; nothing was kept.

    The recorder catches it and records the oversized payloads truncated.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(f"an encoded event line of {size} bytes is over the limit")

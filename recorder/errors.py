"""Errors the recorder raises, under `storage.FlowtapeError`.

::

    FlowtapeError
     └── RecorderError
          └── RecordingWriteError is storage's (strict mode re-raises it)

Recording never raises into a workflow except in ``strict=True`` mode.
"""

from __future__ import annotations

from storage import FlowtapeError, RecordingWriteError

__all__ = ["RecorderError", "RecordingWriteError"]


class RecorderError(FlowtapeError):
    """The recorder was used in a way it cannot honour (e.g. a bad option)."""

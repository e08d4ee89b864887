"""Errors the recorder raises, under `storage.FlowtapeError`.

::

    FlowtapeError
     ├── RecorderError (also a ValueError): a bad option to record_workflow / @node
     └── RecordingWriteError is storage's (strict mode re-raises it)

Recording never raises into a workflow except in ``strict=True`` mode; a bad
option is refused before anything is recorded.
"""

from __future__ import annotations

from storage import FlowtapeError, RecordingWriteError

__all__ = ["RecorderError", "RecordingWriteError"]


class RecorderError(FlowtapeError, ValueError):
    """The recorder was asked for something it cannot honour (a bad option): the
    message names the option, the value given and the values it takes."""

"""Errors the replayer raises, under `storage.FlowtapeError`.

::

    FlowtapeError
     └── ReplayerError
          └── EventNotFoundError   (also IndexError / KeyError)

Reading errors (`CorruptRecordingError`, `RecordingNotFoundError`, …) come
from `storage` unchanged.
"""

from __future__ import annotations

from storage import FlowtapeError

__all__ = ["EventNotFoundError", "ReplayerError"]


class ReplayerError(FlowtapeError):
    """The replayer was asked for something the recording cannot give."""


class EventNotFoundError(ReplayerError, IndexError, KeyError):
    """No event has this seq / position in the recording."""

    def __init__(self, path: str, what: str, count: int) -> None:
        self.path = path
        super().__init__(
            f"{path}: no event {what} (the recording has {count} events, seq 0..{count - 1})"
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])

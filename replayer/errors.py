"""Errors the replayer raises, under `storage.FlowtapeError`.

::

    FlowtapeError
     └── ReplayerError
          ├── EventNotFoundError   (also IndexError / KeyError)
          └── StateUnknownError    (the state there was truncated or lost)

Reading errors (`CorruptRecordingError`, `RecordingNotFoundError`, …) come
from `storage` unchanged.
"""

from __future__ import annotations

from storage import FlowtapeError, UnknownState
from storage._words import plural

__all__ = ["EventNotFoundError", "ReplayerError", "StateUnknownError"]


class ReplayerError(FlowtapeError):
    """The replayer was asked for something the recording cannot give."""


class EventNotFoundError(ReplayerError, IndexError, KeyError):
    """No event has this seq / position in the recording."""

    def __init__(self, path: str, what: str, count: int) -> None:
        self.path = path
        held = f"{plural(count, 'event')}, seq 0..{count - 1}" if count else "no events"
        super().__init__(f"{path}: no event {what} (the recording has {held})")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class StateUnknownError(ReplayerError):
    """A question about the state that the recording cannot answer (see `UnknownState`).

    ``unknown`` says why: a truncated snapshot (with its size), or state
    events lost to damage.
    """

    def __init__(self, path: str, seq: int, unknown: UnknownState) -> None:
        self.path = path
        self.seq = seq
        self.unknown = unknown
        super().__init__(f"{path}: what the state event at seq {seq} changed is not known; "
                         f"{unknown}")

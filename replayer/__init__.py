"""flowtape's read side: open, step through, compare and export recordings.

::

    from replayer import Replayer

    r = Replayer.open("latest")
    r.jump_to_event(42)
    print(r.current, r.get_state_at_event(42))
"""

from storage import Span

from ._published import ExecutionReplayer, ReplayMetadata
from ._replayer import Replayer, Summary
from .errors import EventNotFoundError, ReplayerError

__all__ = [
    "EventNotFoundError",
    "ExecutionReplayer",
    "ReplayMetadata",
    "Replayer",
    "ReplayerError",
    "Span",
    "Summary",
]

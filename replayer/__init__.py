"""flowtape's read side: open, step through, compare and export recordings.

::

    from replayer import Replayer

    r = Replayer.open("latest")
    r.jump_to_event(42)
    print(r.current, r.get_state_at_event(42))
"""

from storage import RecordingDiff, RegressionPolicy, Span

from ._compat import (
    ExecutionReplayer,
    FileRecordingStorage,
    InMemoryRecordingStorage,
    ReplayMetadata,
)
from ._diff import diff
from ._replayer import Replayer, Summary
from .errors import EventNotFoundError, ReplayerError, StateUnknownError
from .export import EXPORTERS, export, write_export
from .terminal import Stepper, print_report

__all__ = [
    "EXPORTERS",
    "EventNotFoundError",
    "ExecutionReplayer",
    "FileRecordingStorage",
    "InMemoryRecordingStorage",
    "RecordingDiff",
    "RegressionPolicy",
    "ReplayMetadata",
    "Replayer",
    "ReplayerError",
    "Span",
    "StateUnknownError",
    "Stepper",
    "Summary",
    "diff",
    "export",
    "print_report",
    "write_export",
]

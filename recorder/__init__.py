"""flowtape's recorder: capture what a workflow does while it runs.

::

    from recorder import record_workflow, node

    @node
    def fetch(url): ...

    with record_workflow("etl") as rec:
        fetch("https://example.org")
        rec.snapshot({"rows": 10})
"""

from ._context import get_current_recorder
from ._node import node
from ._options import RecorderOptions
from ._payload import DEFAULT_REDACT_KEYS, DEFAULT_REDACT_PATTERNS, REDACTED
from ._published import ExecutionRecorder, RecordingMetadata, StateSnapshot
from ._teams import TeamRecorder
from ._workflow import (
    WorkflowRecording,
    disable_workflow_recording,
    enable_workflow_recording,
    record_workflow,
)
from .errors import (
    RecordedNodeError,
    RecorderError,
    RecordingWriteError,
    ReplayDivergenceError,
)
from .reexec import Divergence, ReexecReport, Reexecution, reexecute

__all__ = [
    "DEFAULT_REDACT_KEYS",
    "DEFAULT_REDACT_PATTERNS",
    "REDACTED",
    "Divergence",
    "ExecutionRecorder",
    "RecordedNodeError",
    "RecorderError",
    "RecorderOptions",
    "RecordingMetadata",
    "RecordingWriteError",
    "ReexecReport",
    "Reexecution",
    "ReplayDivergenceError",
    "StateSnapshot",
    "TeamRecorder",
    "WorkflowRecording",
    "disable_workflow_recording",
    "enable_workflow_recording",
    "get_current_recorder",
    "node",
    "record_workflow",
    "reexecute",
]

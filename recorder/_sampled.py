"""The recorder of a run that sampling left out: every method does nothing.

``record_workflow(..., sample_rate=...)`` decides once per run (SPEC §4). A
run left out gets `SampledOutRecorder`, whose recording methods are bound to
no-ops here, once, the way structlog binds the methods of a filtering logger
below its level: the recorder never asks "am I enabled?" on each call, and
``@node`` just calls the function. It writes no file, no store entry, no
event; its ``path`` is None and its ``metadata.event_count`` 0.
"""

from __future__ import annotations

from typing import Any

from ._context import Frame, NodeSpan, Span
from ._node import NodeSite
from ._published import ExecutionRecorder, RecordingMetadata

__all__ = ["SampledOutRecorder"]


def _no_seq(*args: Any, **kwargs: Any) -> int:
    """What a recording method returns when nothing was recorded: no seq."""
    return -1


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


class SampledOutRecorder(ExecutionRecorder):
    """An `ExecutionRecorder` for a run that is not recorded (``enabled`` is False)."""

    enabled = False

    def __init__(self, workflow_name: str, **kwargs: Any) -> None:
        super().__init__(workflow_name, **kwargs)
        self._payload = _nothing

    # What every recording path comes down to, so nothing below can reach the disk.
    _open = _nothing
    _begin_workflow = _nothing
    _end_workflow = _nothing
    _emit = _no_seq
    _implicit_root = _nothing

    def _close(self, status: str | None = None) -> None:
        return None

    # The public methods, bound to no-ops once.
    checkpoint = _no_seq
    event = _no_seq
    snapshot = _nothing
    record_state_snapshot = _nothing
    record_workflow_start = _nothing
    record_workflow_complete = _nothing
    record_node_start = _no_seq
    record_node_complete = _no_seq
    record_team_start = _no_seq
    record_team_complete = _no_seq
    record_team_member_communication = _no_seq
    record_recursion_enter = _no_seq
    record_recursion_exit = _no_seq

    def finalize(self) -> RecordingMetadata:
        return self._metadata

    def node_start(self, node_id: str, inputs: Any = None, node_type: str | None = None, *,
                   attempt: int | None = None, has_inputs: bool = True) -> NodeSpan:
        return NodeSpan(self, -1, 0, None, True, None, node_id, 1, None, None)

    def node_end(self, span: NodeSpan, outputs: Any = None,
                 exc: BaseException | None = None, *, has_outputs: bool = True,
                 error: dict[str, Any] | None = None,
                 extra: dict[str, Any] | None = None) -> int:
        return -1

    def call_node(self, site: NodeSite, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return site.fn(*args, **kwargs)

    async def acall_node(self, site: NodeSite, args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> Any:
        return await site.fn(*args, **kwargs)

    def open_stream(self, site: NodeSite, args: tuple[Any, ...], kwargs: dict[str, Any]
                    ) -> tuple[Any, None]:
        return site.fn(*args, **kwargs), None

    def span_start(self, start_kind: str, node: str, data: Any, *,
                   depth_step: int = 0) -> Span:
        return Span(self, -1, 0, None, True, None, node)

    def span_end(self, span: Span, end_kind: str, data: Any = None) -> int:
        return -1

    def root_frame(self) -> Frame:
        return Frame(self, None, 0, None, True)

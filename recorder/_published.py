"""`ExecutionRecorder`: the recorder users get, with the earlier-published API (SPEC §9).

It is `RecorderCore` plus what instrumentation written against the earlier
workflow recorder calls: the ``record_*`` methods, ``finalize()``,
``metadata``, ``events``/``snapshots`` (read back from the log, not a second
copy kept in memory) and ``await save(path)``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from typing import Any

from storage import (
    Event,
    LogReader,
    StateSnapshot,
    copy_recording,
    file_checksum,
    is_valid_id,
    iter_snapshots,
    new_recording_id,
)

from ._options import RecorderOptions
from ._recorder import RecorderCore, status_for_exception
from ._values import error_payload

__all__ = ["ExecutionRecorder", "RecordingMetadata", "StateSnapshot"]


class RecordingMetadata:
    """Live facts about a recording (the earlier API's ``recorder.metadata``).

    Counts are read from the recorder as it runs; ``started_at`` (epoch
    seconds) may be set before ``save`` and is what a store then records.
    """

    def __init__(self, rec: RecorderCore) -> None:
        self._rec = rec
        self._started_at: float | None = None
        self.file_size_bytes: int = 0
        self.checksum: str | None = None
        #: Where `save` wrote the recording (``.gz`` added when compressing), else None.
        self.file_path: str | None = None

    @property
    def recording_id(self) -> str:
        return self._rec.recording_id

    @property
    def workflow_name(self) -> str:
        return self._rec.workflow_name

    @property
    def workflow_id(self) -> str:
        return self._rec.recording_id

    @property
    def tags(self) -> list[str]:
        return self._rec.tags

    @property
    def started_at(self) -> float:
        if self._started_at is not None:
            return self._started_at
        wall = self._rec._started_wall
        return wall.timestamp() if wall is not None else 0.0

    @started_at.setter
    def started_at(self, value: float | dt.datetime) -> None:
        self._started_at = value.timestamp() if isinstance(value, dt.datetime) else float(value)

    @property
    def started_at_overridden(self) -> bool:
        return self._started_at is not None

    @property
    def event_count(self) -> int:
        return self._rec._seq

    @property
    def node_count(self) -> int:
        return self._rec._kind_counts.get("node_start", 0)

    @property
    def team_count(self) -> int:
        return self._rec._kind_counts.get("team_start", 0)

    @property
    def recursion_max_depth(self) -> int:
        return self._rec._max_depth

    @property
    def duration_seconds(self) -> float:
        return self._rec.summary().duration_ns / 1e9

    @property
    def success(self) -> bool | None:
        outcome = self._rec._outcome
        return None if outcome is None else outcome[0] == "completed"

    @property
    def status(self) -> str:
        outcome = self._rec._outcome
        return "running" if outcome is None else outcome[0]

    def to_dict(self) -> dict[str, Any]:
        """The metadata as a plain dict (the earlier API's field names)."""
        return {k: getattr(self, k) for k in (
            "recording_id", "workflow_name", "workflow_id", "tags", "started_at", "event_count",
            "node_count", "team_count", "recursion_max_depth", "duration_seconds", "success",
            "file_size_bytes", "checksum", "file_path")}

    def __repr__(self) -> str:
        return f"RecordingMetadata({self.to_dict()!r})"


class ExecutionRecorder(RecorderCore):
    """Records one workflow run into one recording file.

    Made by `record_workflow` (the usual way) or directly, as the
    earlier-published API did: ``ExecutionRecorder("etl")`` then
    ``record_workflow_start(...)`` … ``finalize()`` / ``await save(path)``.
    """

    def __init__(  # noqa: PLR0917 - the published signature takes these positionally
        self,
        workflow_name: str,
        workflow_id: str | None = None,
        record_inputs: bool = True,
        record_outputs: bool = True,
        record_state_snapshots: bool = False,
        compress: bool = True,
        tags: list[str] | tuple[str, ...] | None = None,
        *,
        options: RecorderOptions | None = None,
    ) -> None:
        if options is None:
            options = RecorderOptions(
                codec="gzip" if compress else "none",
                tags=list(tags or ()),
                record_inputs=record_inputs,
                record_outputs=record_outputs,
                record_state_snapshots=record_state_snapshots,
            )
        super().__init__(workflow_name, options,
                         workflow_id if workflow_id and is_valid_id(workflow_id)
                         else new_recording_id())
        #: True inside record_workflow: it writes the run's start and end itself.
        self._managed = False
        self._metadata = RecordingMetadata(self)
        self._pending_outcome: tuple[str, Any, Any] | None = None
        self._open_spans: dict[tuple[str, str], list[Any]] = {}
        self.saved_path: str | None = None

    @property
    def metadata(self) -> RecordingMetadata:
        return self._metadata

    # --- workflow ---------------------------------------------------------------
    def record_workflow_start(self, initial_context: Any = None) -> None:
        """Start the run. Inside `record_workflow` the start is already written: tolerated."""
        if self._root is not None:
            if initial_context is not None:
                self._named("custom", "workflow_context", initial_context)
            return
        if initial_context is not None:
            self.options.inputs = initial_context
        self._begin_workflow()

    def record_workflow_complete(self, final_state: Any = None, success: bool = True,
                                 error: Any = None) -> None:
        """End the run (inside `record_workflow`, the outcome is written at exit)."""
        err = _error_dict(error) if (error is not None or not success) else None
        if err is None and not success:
            err = {"type": "WorkflowFailed", "message": "the workflow reported failure"}
        status = "completed" if success else "failed"
        if self._managed:
            self._pending_outcome = (status, final_state, err)
            return
        if self._root is None:
            self._begin_workflow()
        self._end_workflow(status, final_state, error=err)

    def finalize(self) -> RecordingMetadata:
        """Close the recording (writing its footer); returns the metadata."""
        if not self._closed:
            if self._root is None:
                self._begin_workflow()
            if not self._workflow_ended:
                self._end_workflow("completed")
            self._close()
        return self._metadata

    # --- nodes, teams, recursion ------------------------------------------------------
    def record_node_start(self, node_id: str, inputs: Any = None,
                          node_type: str | None = None) -> int:
        span = self.node_start(node_id, inputs, node_type, has_inputs=inputs is not None)
        self._open_spans.setdefault(("node", node_id), []).append(span)
        return span.seq

    def record_node_complete(self, node_id: str, outputs: Any = None,
                             duration_seconds: float | None = None, error: Any = None) -> int:
        stack = self._open_spans.get(("node", node_id))
        extra = {"duration_seconds": duration_seconds} if duration_seconds is not None else None
        err = _error_dict(error) if error is not None else None
        if not stack:  # a complete without a start: record it unpaired
            parent, depth = self._enclosing()
            kind = "node_error" if err else "node_complete"
            data: dict[str, Any] = {"error": self._payload(err, "error")} if err else (
                {"outputs": self._payload(outputs, "outputs")}
                if outputs is not None and self._record_outputs else {})
            return self._emit(kind, node_id, None, parent, depth, 1,
                              {**data, **(extra or {})} or None,
                              urgent=err is not None)
        return self.node_end(stack.pop(), outputs, has_outputs=outputs is not None, error=err,
                             extra=extra)

    def record_team_start(self, team_id: str, formation: str | None = None,
                          member_count: int = 0, context: Any = None) -> int:
        data: dict[str, Any] = {"member_count": member_count}
        if formation is not None:
            data["formation"] = formation
        if context is not None:
            data["context"] = self._payload(context, "data")
        span = self.span_start("team_start", team_id, data)
        self._open_spans.setdefault(("team", team_id), []).append(span)
        return span.seq

    def record_team_complete(self, team_id: str, final_output: Any = None,
                             duration_seconds: float | None = None, success: bool = True) -> int:
        data: dict[str, Any] = {"success": success}
        if final_output is not None and self._record_outputs:
            data["outputs"] = self._payload(final_output, "outputs")
        if duration_seconds is not None:
            data["duration_seconds"] = duration_seconds
        stack = self._open_spans.get(("team", team_id))
        if not stack:
            parent, depth = self._enclosing()
            return self._emit("team_complete", team_id, None, parent, depth, None, data)
        return self.span_end(stack.pop(), "team_complete", data)

    def record_team_member_communication(self, team_id: str, from_member: str, to_member: str,
                                         message: Any) -> int:
        parent, depth = self._enclosing()
        data = {"from": from_member, "to": to_member, "message": self._payload(message, "data")}
        return self._emit("team_message", team_id, None, parent, depth, None, data)

    def record_recursion_enter(self, operation_type: str, identifier: str) -> int:
        span = self.span_start("recursion_enter", str(identifier),
                               {"operation": operation_type}, depth_step=1)
        self._open_spans.setdefault(("recursion", f"{operation_type}\0{identifier}"),
                                    []).append(span)
        return span.seq

    def record_recursion_exit(self, operation_type: str, identifier: str) -> int:
        stack = self._open_spans.get(("recursion", f"{operation_type}\0{identifier}"))
        if not stack:
            parent, depth = self._enclosing()
            return self._emit("recursion_exit", str(identifier), None, parent, depth, None,
                              {"operation": operation_type})
        return self.span_end(stack.pop(), "recursion_exit")

    @property
    def _recursion_depth(self) -> int:
        return self._enclosing()[1]

    @property
    def _recursion_max_depth(self) -> int:
        return self._max_depth

    def record_state_snapshot(self, state: Any, node_id: str | None = None,
                              execution_stack: list[str] | None = None) -> int | None:
        return self.snapshot(state, node_id, execution_stack)

    # --- reading back -------------------------------------------------------------------
    def _read_back(self) -> list[Event]:
        writer = self._writer
        path = self.path
        if writer is None or path is None or not os.path.exists(path):
            return []
        if not writer.closed:
            with writer.lock:
                writer.flush()
        with LogReader.open(path, recover=True) as reader:
            return list(reader.iter_events())

    @property
    def events(self) -> list[Event]:
        """The run so far, in order, read back from the log."""
        return self._read_back()

    @property
    def snapshots(self) -> list[StateSnapshot]:
        """Every recorded state so far, rebuilt from keyframes and patches."""
        return iter_snapshots(self._read_back())

    async def save(self, path: str | os.PathLike[str]) -> RecordingMetadata:
        """Finish the recording and write it to ``path`` in flowtape's format.

        Adds ``.gz`` when the recorder compresses and the name lacks it.
        Returns the metadata with ``file_size_bytes`` and ``checksum`` (sha256).
        """
        return await asyncio.to_thread(self.save_sync, path)

    def save_sync(self, path: str | os.PathLike[str]) -> RecordingMetadata:
        """The synchronous body of `save`."""
        self.finalize()
        target = os.fspath(path)
        codec = "gzip" if self.options.codec != "none" else "none"
        if codec == "gzip" and not target.endswith(".gz"):
            target += ".gz"
        parent = os.path.dirname(os.path.abspath(target))
        os.makedirs(parent, exist_ok=True)
        meta = self._metadata
        src = self.path
        assert src is not None

        def edit(header: Any) -> None:
            if meta.started_at_overridden:
                header.started_at = dt.datetime.fromtimestamp(meta.started_at, dt.UTC).strftime(
                    "%Y-%m-%dT%H:%M:%S.%fZ")

        copy_recording(src, target, codec=codec, edit_header=edit)
        meta.file_size_bytes = os.path.getsize(target)
        meta.checksum = file_checksum(target)
        meta.file_path = target
        self.saved_path = target
        return meta

    # --- context manager protocol ---------------------------------------------------------
    def __enter__(self) -> ExecutionRecorder:
        """``with ExecutionRecorder("etl") as rec:`` — the run ends with the block."""
        return self

    def __exit__(self, et: Any, exc: BaseException | None, tb: Any) -> None:
        if self._managed or self._closed:
            return  # record_workflow ends its own recorder
        if exc is not None and not self._workflow_ended:
            self._implicit_root()
            self._end_workflow(status_for_exception(exc), exc=exc)
        self.finalize()


def _error_dict(error: Any) -> dict[str, Any]:
    if isinstance(error, BaseException):
        return error_payload(error)
    if isinstance(error, dict):
        return {"type": str(error.get("type", "Error")), "message": str(error.get("message", "")),
                **{k: v for k, v in error.items() if k not in ("type", "message")}}
    return {"type": "Error", "message": str(error)}

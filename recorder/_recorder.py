"""`RecorderCore`: turns what a workflow does into events on disk.

Every event goes through `RecorderCore._emit`: stamp ``seq``/``ts``/``lane``,
build an `Event`, encode it straight into the writer's buffer under the
writer's lock (so ``seq`` order is file order). Payloads are masked before
that (`_payload.Redactor`); values msgspec cannot encode, and payloads over
the size limit, take `_slowpath.append_slow`, which never raises into the
workflow. A plain ``@node`` call does not come here at all: `_step` records
its two events in one pass, and falls back to `node_start`/`node_end` for
anything unusual.

Spans (workflow, nodes, teams, members, recursion) nest through the
``FRAME`` contextvar (`_context.Frame`). Where the file goes is
`_placement`'s job; the earlier-published ``record_*`` API of SPEC §9 is the
subclass `_published.ExecutionRecorder`, which is what users get.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from storage import Event, Footer, LogWriter, RecordingWriteError

from ._bookends import footer_now, header_for, masked_inputs, plain_value
from ._context import FRAME, Frame, NodeSpan, Span, current_lane, leave, running_loop, thread_lanes
from ._notes import Notes
from ._options import MAX_PAYLOAD_CAP, RecorderOptions
from ._payload import Redactor
from ._placement import DiscardWriter, Placement
from ._slowpath import append_slow, enc_hook, encode_value
from ._state import StateHistory
from ._streams import open_recorded_stream
from ._teams import TeamRecorder
from ._values import error_payload

if TYPE_CHECKING:
    from ._node import NodeSite

__all__ = ["RecorderCore", "status_for_exception"]

_perf_ns = time.perf_counter_ns


def status_for_exception(exc: BaseException | None) -> str:
    """The footer status a run ends with when ``exc`` left it (None: completed)."""
    if exc is None:
        return "completed"
    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | GeneratorExit):
        return "cancelled"
    if isinstance(exc, TimeoutError):
        return "timed_out"
    return "failed"


class RecorderCore:
    """Records one workflow run into one recording file (see the module docstring).

    Users get the subclass `ExecutionRecorder`; a run that sampling left out gets
    `_sampled.SampledOutRecorder`, whose methods do nothing, chosen once per run.
    """

    #: False only for a sampled-out run's recorder (which records nothing).
    enabled = True
    #: True for a re-execution's recorder: a `record_workflow` inside it joins its run.
    absorbs_runs = False

    def __init__(self, workflow_name: str, options: RecorderOptions, recording_id: str) -> None:
        self.options = options
        self.workflow_name = workflow_name
        self.recording_id = recording_id
        self.tags: list[str] = list(options.tags)
        redactor = self._redactor = Redactor.from_option(options.redact, options.redact_patterns)
        #: ``_payload(value, path)``: the value as recorded, masked (SPEC §4); a redact=
        #: callable may raise, so then the payload is withheld rather than the error raised.
        self._payload: Callable[[Any, str], Any] = (
            redactor.payload_guarded if redactor.can_raise else redactor.payload)
        self._inputs_masked: Any = None  # opts.inputs after redaction, computed once
        self._record_inputs = options.record_inputs
        self._record_outputs = options.record_outputs
        self._record_state = options.record_state_snapshots
        # A payload never outgrows a frame (SPEC §3: frames hold at most 16 MiB, and an
        # event line may hold a few payloads), whatever max_payload_bytes says.
        self._max_payload = min(options.max_payload_bytes, MAX_PAYLOAD_CAP)
        self._max_line = self._max_payload
        self._notes = Notes(recording_id, strict=options.strict)
        self._placement = Placement(options, recording_id, self._notes)
        self._writer: LogWriter | DiscardWriter | None = None
        #: The writer while `_step` may record a node call in one pass (the file is open
        #: and nothing asks for the general path: a redact= callable, inputs or outputs
        #: off); else None.
        self._hot: LogWriter | None = None
        self._seq = 0
        self._t0 = 0
        self._started_wall: dt.datetime | None = None
        self._ended_ns: int | None = None
        self._kind_counts: defaultdict[str, int] = defaultdict(int)
        self._max_depth = 0
        #: Attempt number of the last failed execution per (parent span, node, inputs).
        self._failures: dict[tuple[int | None, str, bytes], int] = {}
        self._states = StateHistory(options.keyframe_every)
        self._closed = False
        self._workflow_ended = False
        self._outcome: tuple[str, Any, Any] | None = None  # (status, outputs, error payload)
        self._root: int | None = None

    # --- lifecycle --------------------------------------------------------------
    @property
    def path(self) -> str | None:
        """Where the recording is (or will be) on disk; None before it starts, when it was
        sampled out, and when a keep policy dropped it."""
        return self._placement.final_path or self._placement.path

    @property
    def closed(self) -> bool:
        """True once the recording's footer has been written."""
        return self._closed

    @property
    def config(self) -> dict[str, Any]:
        """The record_* flags (also written to the header's ``config``)."""
        o = self.options
        return {
            "record_inputs": o.record_inputs,
            "record_outputs": o.record_outputs,
            "record_state_snapshots": o.record_state_snapshots,
            "compress": o.codec != "none",
            "codec": o.codec,
            "keyframe_every": o.keyframe_every,
            "max_payload_bytes": o.max_payload_bytes,
        }

    def _open(self) -> None:
        """Create the file and write the header (first event triggers it for direct use)."""
        if self._writer is not None:
            return
        self._t0 = _perf_ns()
        self._started_wall = dt.datetime.now(dt.UTC)
        writer = self._placement.open(self, self._header, self._t0, enc_hook)
        self._writer = writer
        if isinstance(writer, LogWriter):
            # Event times count from here: file creation and catalog set-up are not the run's.
            self._t0 = writer.origin_ns = _perf_ns()
            if not self._redactor.can_raise and self._record_inputs and self._record_outputs:
                self._hot = writer

    #: The header line this recording starts with (a re-execution's adds to it).
    _header = header_for

    def _begin_workflow(self) -> None:
        """Open the file and write ``workflow_start`` (the root span)."""
        self._open()
        data = {"inputs": masked_inputs(self)} \
            if self.options.inputs is not None and self._record_inputs else None
        self._root = self._emit("workflow_start", self.workflow_name, None, None, 0, None, data)

    def _end_workflow(self, status: str, outputs: Any = None, exc: BaseException | None = None,
                      error: dict[str, Any] | None = None) -> None:
        """Write ``workflow_complete`` / ``workflow_error`` once."""
        if self._workflow_ended:
            return
        self._workflow_ended = True
        if exc is not None:
            error = error_payload(exc)
        masked = self._payload(error, "error") if error is not None else None
        # The footer's error is the masked one: a secret never reaches any line (issue 9.1).
        self._outcome = (status, outputs, plain_value(masked))
        data: dict[str, Any] | None
        if error is not None:
            data = {"error": masked}
            if status != "failed":
                data["status"] = status
            self._emit("workflow_error", self.workflow_name, self._root, None, 0, None, data,
                       urgent=True)
        else:
            data = {"outputs": self._payload(outputs, "outputs")} \
                if outputs is not None and self._record_outputs else None
            self._emit("workflow_complete", self.workflow_name, self._root, None, 0, None, data)

    def _close(self, status: str | None = None) -> Footer | None:
        """Write the footer and trailer, apply the keep policy, tell the store."""
        if self._closed:
            return None
        if self._writer is None:
            self._open()
        self._closed = True
        self._hot = None
        if status is None:
            status = self._outcome[0] if self._outcome else "completed"
        error = self._outcome[2] if self._outcome else None
        writer = self._writer
        assert writer is not None
        notes = self._notes
        with writer.lock:
            try:
                writer.flush()
            except RecordingWriteError as exc:
                notes.io_failed(exc, raise_strict=False)
            if writer.failed is not None and not notes.io_reported:
                # It failed on the idle flusher's thread, which cannot log for us.
                failed = writer.failed
                notes.io_failed(RecordingWriteError(
                    f"writing recording {writer.path} failed: "
                    f"{getattr(failed, 'strerror', None) or failed}; the events written "
                    "before this point are kept"), raise_strict=False)
            self._ended_ns = _perf_ns()
            footer = self.summary(status, error)
            try:
                writer.close(footer, keyframes=self._states.keyframes)
            except RecordingWriteError as exc:
                notes.io_failed(exc, raise_strict=False)
            for note in footer.degraded:
                notes.note_degraded(note)
        self._placement.finish(writer, footer)
        if notes.strict and writer.failed is not None:
            raise RecordingWriteError(f"recording {self.path} is degraded: {writer.failed}")
        return footer

    def summary(self, status: str = "running", error: dict[str, Any] | None = None) -> Footer:
        """The footer as it would be written now (counts, duration, notes)."""
        return footer_now(self, status, error)

    # --- every event ------------------------------------------------------------------
    def _emit(  # noqa: PLR0917 - positional on the hot path: cheaper calls
        self,
        kind: str,
        node: str | None,
        span: int | None,
        parent: int | None,
        depth: int,
        attempt: int | None,
        data: Any,
        state: Any = None,
        patch: list[Any] | None = None,
        urgent: bool = False,
    ) -> int:
        """Append one event; returns its ``seq``. Never raises into the workflow (unless
        strict); -1 when the recording has ended."""
        writer = self._writer
        if writer is None:
            self._open()
            writer = self._writer
            assert writer is not None
        if running_loop() is None:  # current_lane() inlined for plain threads
            try:
                lane = thread_lanes.name
            except AttributeError:
                lane = current_lane()
        else:
            lane = current_lane()
        lock = writer.lock
        lock.acquire()  # cheaper than `with` here
        try:
            if writer.closed:
                # The recording has ended (a straggling thread or task): drop the event.
                # Under the lock, so it cannot race the footer; and the closed file's
                # descriptor number may already belong to another file.
                return -1
            seq = self._seq
            self._seq = seq + 1
            self._kind_counts[kind] += 1
            ev = Event(seq, _perf_ns() - self._t0, kind, node, span, parent, depth, lane,
                       attempt, data, state, patch)
            try:
                writer.append(ev, self._max_line, urgent)
            except RecordingWriteError as exc:
                self._notes.io_failed(exc)
            except Exception as exc:  # unencodable or oversized: the slow path
                append_slow(self, writer, ev, exc, urgent)
        finally:
            lock.release()
        return seq

    # --- spans --------------------------------------------------------------------------
    def _enclosing(self) -> tuple[int | None, int]:
        """(parent span seq, depth) for an event emitted now in this context."""
        frame = FRAME.get()
        if frame is not None and frame.rec is self:
            return frame.seq, frame.depth
        return self._implicit_root(), 0

    def _implicit_root(self) -> int | None:
        """The root span's seq. A recorder used directly (SPEC §9) without
        ``record_workflow_start`` starts its run at its first event, so every
        recording begins with ``workflow_start`` and nests under it."""
        if self._root is None and not self._closed and not self._workflow_ended:
            self._begin_workflow()
        return self._root

    def node_start(self, node_id: str, inputs: Any = None, node_type: str | None = None, *,
                   attempt: int | None = None, has_inputs: bool = True) -> NodeSpan:
        """Write ``node_start`` and enter its span; returns the span, for `node_end`."""
        outer = FRAME.get()
        if outer is not None and outer.rec is self:
            parent, depth = outer.seq, outer.depth
        else:
            parent, depth = self._implicit_root(), 0
        data: dict[str, Any] | None = None
        recorded: Any = None
        if has_inputs and self._record_inputs:
            recorded = self._payload(inputs, "inputs")
            if type(recorded) is dict:
                # Passed through unmasked (flat, readable): a copy, so the caller changing
                # it before the node ends cannot change what makes a later call a retry.
                recorded = dict(recorded)
            data = {"inputs": recorded}
        if node_type is not None:
            data = data or {}
            data["node_type"] = node_type
        if attempt is None:
            attempt = 1
            if self._failures:
                # A retry: the same node under the same parent, called again with the
                # inputs of an execution that failed (concurrent retries interleave).
                attempt += self._failures.get((parent, node_id, encode_value(recorded)), 0)
        seq = self._emit("node_start", node_id, None, parent, depth, attempt, data)
        span = NodeSpan(self, seq, depth, outer, True, parent, node_id, attempt, None, recorded)
        FRAME.set(span)
        return span

    def node_end(self, span: NodeSpan, outputs: Any = None,
                 exc: BaseException | None = None, *, has_outputs: bool = True,
                 error: dict[str, Any] | None = None,
                 extra: dict[str, Any] | None = None) -> int:
        """Leave the span and write ``node_complete`` or ``node_error``."""
        leave(span)
        seq, parent, depth, attempt, node_id = (span.seq, span.parent, span.depth,
                                                span.attempt, span.node)
        data: dict[str, Any] | None = None
        if exc is None and error is None:
            if self._failures:
                self._failures.pop((parent, node_id, encode_value(span.inputs)), None)
            if has_outputs and self._record_outputs:
                data = {"outputs": self._payload(outputs, "outputs")}
            if extra:
                data = {**(data or {}), **extra}
            return self._emit("node_complete", node_id, seq, parent, depth, attempt, data)
        self._failures[(parent, node_id, encode_value(span.inputs))] = attempt
        if exc is not None:
            error = error_payload(exc)
        data = {"error": self._payload(error, "error")}
        if extra:
            data.update(extra)
        return self._emit("node_error", node_id, seq, parent, depth, attempt, data, urgent=True)

    def call_node(self, site: NodeSite, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run one ``@node`` call on the general path: `node_start`, the call, `node_end`."""
        span = self.node_start(site.node_id, site.bind(args, kwargs), site.node_type)
        try:
            result = site.fn(*args, **kwargs)
        except BaseException as exc:
            self.node_end(span, exc=exc)
            raise
        self.node_end(span, result)
        return result

    async def acall_node(self, site: NodeSite, args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> Any:
        """`call_node` for an async ``@node``."""
        span = self.node_start(site.node_id, site.bind(args, kwargs), site.node_type)
        try:
            result = await site.fn(*args, **kwargs)
        except BaseException as exc:
            self.node_end(span, exc=exc)
            raise
        self.node_end(span, result)
        return result

    #: A stream ``@node``'s call, first iterated: its generator, and what records it.
    open_stream = open_recorded_stream

    def _failure_data(self, exc: BaseException) -> dict[str, Any]:
        """``status`` and masked ``error`` for the end event of a span whose body raised."""
        return {"status": status_for_exception(exc),
                "error": self._payload(error_payload(exc), "error")}

    def span_start(self, start_kind: str, node: str, data: Any, *,
                   depth_step: int = 0) -> Span:
        """Write a span's start event and enter it; returns the span, for `span_end`."""
        outer = FRAME.get()
        if outer is not None and outer.rec is self:
            parent, depth = outer.seq, outer.depth + depth_step
        else:
            parent, depth = self._implicit_root(), depth_step
        self._max_depth = max(self._max_depth, depth)
        seq = self._emit(start_kind, node, None, parent, depth, None, data)
        span = Span(self, seq, depth, outer, True, parent, node)
        FRAME.set(span)
        return span

    def span_end(self, span: Span, end_kind: str, data: Any = None) -> int:
        """Leave the span and write its end event (``span`` = the start's seq)."""
        leave(span)
        return self._emit(end_kind, span.node, span.seq, span.parent, span.depth, None, data)

    def team(self, team_id: str, formation: str | None = None,
             members: list[str] | tuple[str, ...] = (), context: Any = None) -> TeamRecorder:
        """Context manager for a team run; ``team.member(name)`` and ``team.message(...)``."""
        return TeamRecorder(self, team_id, formation, list(members), context)

    @contextmanager
    def recursion(self, operation_type: str, identifier: str) -> Iterator[int]:
        """Context manager around one level of recursion; depth is tracked per context."""
        span = self.span_start("recursion_enter", str(identifier),
                               {"operation": operation_type}, depth_step=1)
        try:
            yield span.seq
        finally:
            self.span_end(span, "recursion_exit")

    # --- state, checkpoints, custom events -----------------------------------------------
    def snapshot(self, state: Any, node_id: str | None = None,
                 execution_stack: list[str] | None = None) -> int | None:
        """Record the workflow state: a keyframe, or an RFC 6902 patch against the last one.

        The state is copied now; later changes to the caller's object do not
        reach the recording. Returns the event's seq (None when state
        recording is off or the recording has ended).
        """
        if not self._record_state or self._closed:
            return None
        if self._writer is None:
            self._open()
        return self._states.record(self, state, node_id, execution_stack)

    def checkpoint(self, name: str, data: Any = None) -> int:
        """A named checkpoint (kind ``checkpoint``, ``data.name`` = name, ``data.value`` = data)."""
        return self._named("checkpoint", name, data)

    def event(self, name: str, data: Any = None) -> int:
        """A custom event (kind ``custom``, ``data.name`` = name, ``data.value`` = data)."""
        return self._named("custom", name, data)

    def _named(self, kind: str, name: str, value: Any) -> int:
        frame = FRAME.get()
        if frame is not None and frame.rec is self:
            parent, depth = frame.seq, frame.depth
        else:
            parent, depth = (self._root if self._root is not None
                             else self._implicit_root()), 0
        if value is None:
            return self._emit(kind, None, None, parent, depth, None, {"name": name})
        return self._emit(kind, None, None, parent, depth, None,
                          {"name": name, "value": self._payload(value, "data")})

    def root_frame(self) -> Frame:
        """The frame of this run's root span, for the context it runs in."""
        return Frame(self, self._root, 0, None, True)

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.workflow_name!r} id={self.recording_id} "
                f"events={self._seq}{' closed' if self._closed else ''}>")

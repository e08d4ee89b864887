"""The recorder of a re-execution: it records the new run and answers ``@node`` calls.

`ReplayingRecorder` is an `ExecutionRecorder` chosen once, for the whole run,
the way a sampled-out run gets its own recorder: ``@node``'s fused fast path
is off for it (``_hot`` is None), so every call reaches `call_node`,
`acall_node` or `open_stream`, and the fast path of an ordinary recording
pays nothing for re-execution. Each call is planned by `Session.plan`, then:

* served — ``node_start``, then ``node_complete`` / ``node_error`` holding the
  recorded payload as it is (so the diff sees the same bytes), with
  ``data.source = "recorded"``; the function does not run;
* overridden — the same, with the given value and ``source = "override"``;
* live — the function runs inside its span as usual (``source = "live"``);
  the calls it makes are matched under its recorded counterpart.

The header carries ``replay_of`` and, for a fork, ``fork_seq``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING, Any

import msgspec

from storage import Header

from .._context import FRAME, NodeSpan, Span, current_lane
from .._published import ExecutionRecorder
from .._slowpath import encode_value
from .._streams import StreamSpan
from ..errors import ReplayDivergenceError
from .divergence import Divergence
from .session import Plan, Session

if TYPE_CHECKING:
    from .._node import NodeSite
    from .._options import RecorderOptions

__all__ = ["ReplayingRecorder"]

_SPAN_KINDS = {"team_start": "team", "team_member_start": "member",
               "recursion_enter": "recursion"}


class ReplayingRecorder(ExecutionRecorder):
    """Records a re-execution and answers its ``@node`` calls (see the module docstring)."""

    #: A workflow that records itself (its own ``record_workflow``) joins this run.
    absorbs_runs = True

    def __init__(self, workflow_name: str, *, options: RecorderOptions,
                 session: Session) -> None:
        super().__init__(workflow_name, options=options)
        self._session = session

    # --- the run ------------------------------------------------------------------------------
    def _open(self) -> None:
        super()._open()
        self._hot = None  # every call is planned: see the module docstring

    def _header(self) -> Header:
        header = super()._header()
        header.fork_seq = self._session.fork_seq
        return header

    def _begin_workflow(self) -> None:
        super()._begin_workflow()
        session = self._session
        session.root.lane = current_lane()
        if self._root is not None:
            session.places[self._root] = session.root

    def span_start(self, start_kind: str, node: str, data: Any, *,
                   depth_step: int = 0) -> Span:
        _, _, outer = self._session.place_of(self)  # (before the span is entered)
        span = super().span_start(start_kind, node, data, depth_step=depth_step)
        kind = _SPAN_KINDS.get(start_kind)
        if kind is not None and span.seq >= 0:
            self._session.open_span(outer, span.seq, kind, node)
        return span

    def span_end(self, span: Span, end_kind: str, data: Any = None) -> int:
        self._session.places.pop(span.seq, None)
        return super().span_end(span, end_kind, data)

    def node_end(self, span: NodeSpan, outputs: Any = None,
                 exc: BaseException | None = None, *, has_outputs: bool = True,
                 error: dict[str, Any] | None = None,
                 extra: dict[str, Any] | None = None) -> int:
        self._session.places.pop(span.seq, None)
        return super().node_end(span, outputs, exc, has_outputs=has_outputs, error=error,
                                extra=extra)

    # --- @node calls --------------------------------------------------------------------------
    def call_node(self, site: NodeSite, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        plan = self._session.plan(self, site, args, kwargs)
        if plan.action != "live":
            return self._answer(plan)
        span = self._start_live(plan)
        try:
            result = site.fn(*args, **kwargs)
        except BaseException as exc:
            self.node_end(span, exc=exc, extra={"source": "live"})
            raise
        self.node_end(span, result, extra={"source": "live"})
        return result

    async def acall_node(self, site: NodeSite, args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> Any:
        plan = self._session.plan(self, site, args, kwargs)
        if plan.action != "live":
            return self._answer(plan)
        span = self._start_live(plan)
        try:
            result = await site.fn(*args, **kwargs)
        except BaseException as exc:
            self.node_end(span, exc=exc, extra={"source": "live"})
            raise
        self.node_end(span, result, extra={"source": "live"})
        return result

    def open_stream(self, site: NodeSite, args: tuple[Any, ...], kwargs: dict[str, Any]
                    ) -> tuple[Any, StreamSpan | None]:
        plan = self._session.plan(self, site, args, kwargs)
        if plan.action == "live":
            stream = site.fn(*args, **kwargs)
            outer = FRAME.get()
            span = self._start_live(plan)
            FRAME.set(outer)  # entered around each step only (see recorder._streams)
            return stream, StreamSpan(self, span, {"source": "live"})
        if plan.action == "override":
            items = list(plan.value)
            plan.value = items
            plan.items_raw = [encode_value(self._payload(v, f"outputs[{i}]"))
                              for i, v in enumerate(items)]
        served = self._served_stream(plan)
        return (served if site.stream == "sync" else _async_twin(served)), None

    # --- writing them ---------------------------------------------------------------------------
    def _start(self, plan: Plan) -> int:
        data: dict[str, Any] = {"inputs": plan.masked}
        if plan.node_type is not None:
            data["node_type"] = plan.node_type
        seq = self._emit("node_start", plan.node, None, plan.parent, plan.depth, plan.attempt,
                         data)
        session = self._session
        if plan.recorded is not None:
            session.matcher.take(plan.recorded, seq)
        with session.matcher.lock:  # (calls come from many threads)
            session.sources[plan.action if plan.action != "serve" else "recorded"] += 1
            if plan.action == "live" and plan.recorded is not None:
                session.ran_live.add(plan.recorded.seq)
        if plan.divergence is not None:
            session.note(plan.divergence, seq)
        return seq

    def _start_live(self, plan: Plan) -> NodeSpan:
        seq = self._start(plan)
        span = NodeSpan(self, seq, plan.depth, FRAME.get(), True, plan.parent, plan.node,
                        plan.attempt, None, plan.masked)
        FRAME.set(span)
        self._session.open_place(seq, plan.place, plan.node, plan.recorded)
        return span

    def _end(self, plan: Plan, seq: int, kind: str, data: dict[str, Any]) -> None:
        key = (plan.parent, plan.node, plan.inputs)
        if kind == "node_error":
            self._failures[key] = plan.attempt  # a retry with these inputs is attempt + 1
        elif self._failures:
            self._failures.pop(key, None)
        self._emit(kind, plan.node, seq, plan.parent, plan.depth, plan.attempt, data,
                   urgent=kind == "node_error")

    def _echo(self, plan: Plan, seq: int) -> None:
        """Write what happened inside a served execution, as recorded, under its new start
        (``seq``): the new recording tells the same story, so the diff finds it equal."""
        r = plan.recorded
        if r is None or not r.inner or plan.action != "serve":
            return
        tape = self._session.tape
        moved = {r.seq: seq}
        shift = plan.depth - r.depth
        for e in tape.events_inside(r):
            parent = moved.get(e.parent, seq) if e.parent is not None else seq
            if e.kind == "state":
                self.snapshot(tape.state_at(e.seq))
                continue
            data = e.data
            if e.kind in ("node_complete", "node_error"):
                data = {**(data if isinstance(data, dict) else {}), "source": "recorded"}
            new = self._emit(e.kind, e.node, moved.get(e.span) if e.span is not None else None,
                             parent, e.depth + shift, e.attempt, data,
                             urgent=e.kind == "node_error")
            moved[e.seq] = new

    def _answer(self, plan: Plan) -> Any:
        """A served or overridden call: its two events, then its value (or error)."""
        seq = self._start(plan)
        self._echo(plan, seq)
        if plan.action == "override":
            self._end(plan, seq, "node_complete",
                      {"outputs": self._payload(plan.value, "outputs"), "source": "override"})
            return plan.value
        if plan.error is not None:
            assert plan.error_raw is not None
            self._end(plan, seq, "node_error",
                      {"error": msgspec.Raw(plan.error_raw), "source": "recorded"})
            raise plan.error
        assert plan.outputs_raw is not None
        self._end(plan, seq, "node_complete",
                  {"outputs": msgspec.Raw(plan.outputs_raw), "source": "recorded"})
        return plan.value

    def _served_stream(self, plan: Plan) -> Generator[Any, None, None]:
        """The items of a served (or overridden) stream, recorded as the consumer takes them."""
        seq = self._start(plan)
        self._echo(plan, seq)
        items, raws = plan.value, plan.items_raw or []
        source = "recorded" if plan.action == "serve" else "override"
        given = 0

        def end(kind: str, **more: Any) -> None:
            outputs = msgspec.Raw(b"[" + b",".join(raws[:given]) + b"]")
            self._end(plan, seq, kind, {**more, "outputs": outputs, "stream": True,
                                        "source": source})

        try:
            for item in items:
                given += 1
                yield item
        except GeneratorExit:
            end("node_complete", closed=True)
            raise
        if plan.error is not None:
            assert plan.error_raw is not None
            end("node_error", error=msgspec.Raw(plan.error_raw))
            raise plan.error
        if plan.closed:
            end("node_complete", closed=True)
            self._ended_stream(plan, seq, len(items))
            return
        end("node_complete")

    def _ended_stream(self, plan: Plan, seq: int, count: int) -> None:
        """The consumer asked for more items than the recorded stream gave before its
        consumer closed it: raise, or end the stream there (noted either way)."""
        session = self._session
        r = plan.recorded
        d = session.note(Divergence(
            kind="exhausted", seq=seq, recorded_seq=r.seq if r is not None else None,
            node=plan.node, path=list(plan.place.path),
            occurrence=r.occurrence if r is not None else 1, attempt=plan.attempt,
            recorded_count=count,
            reason=f"the recorded stream was closed by its consumer after {count} item(s); "
                   "this run asks for more",
            action="raised" if session.on_divergence == "raise" else "ended"))
        if session.on_divergence == "raise":
            raise ReplayDivergenceError(d)


async def _async_twin(served: Generator[Any, None, None]) -> AsyncGenerator[Any, None]:
    """A served stream for an async-generator node: the same items, awaited."""
    try:
        while True:
            try:
                item = next(served)
            except StopIteration:
                return
            yield item
    finally:
        served.close()

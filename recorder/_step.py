"""The ``@node`` hot path: a call's ``node_start`` and ``node_complete`` in one pass each.

SPEC §10 budgets one ``@node`` step (two events) at ≤ 2 times the floor pipeline
(build two events, encode, compress, write). `begin` and `end` are what a
plain step costs beyond that floor: they do inline what `RecorderCore.node_start`,
`node_end` and `_emit` do through several calls — bind the arguments, look up
the enclosing span and the lane once, take ``seq`` and append under the
writer's lock — and write byte for byte the lines the general path writes.

They are used only while the recorder says so (``rec._hot``: the file is
open, no ``redact=`` callable, inputs and outputs recorded). Anything
unusual leaves for the general path: `begin` returns None before it has
recorded anything (the wrapper then calls `RecorderCore.call_node`), and
`fail` hands a raising call to `RecorderCore.node_end`. Inputs whose keys are
all known to be readable and whose values are short scalars go into the line
as they are (nothing in them could need masking, and nothing can change them:
the dict is the binder's own); any other payload is masked by `Redactor.payload`
(encode once, scan the bytes, walk only on a hit).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from storage import Event, RecordingWriteError

from ._context import (
    FRAME,
    NodeSpan,
    current_lane,
    running_loop,
    task_lane,
    task_of,
    thread_lanes,
)
from ._slowpath import append_slow, encode_value

if TYPE_CHECKING:
    from ._node import NodeSite
    from ._recorder import RecorderCore

__all__ = ["begin", "end", "fail"]

_perf_ns = time.perf_counter_ns
_get_frame = FRAME.get
_set_frame = FRAME.set


def begin(site: NodeSite, rec: RecorderCore, args: tuple[Any, ...],
          kwargs: dict[str, Any]) -> NodeSpan | None:
    """Write ``node_start`` for a call of ``site`` and enter its span; None (nothing
    written) when the call must take the general path."""
    red = rec._redactor
    if not kwargs and len(args) == site.plain:
        inputs: Any = site.bind_plain(args)
        # The keys of a plain call are the parameter names: once the redactor knows them
        # all to be readable it always will (it never forgets a readable key).
        known = site.readable_for is red
        if not known and red.safe_keys.issuperset(inputs):
            known = True
            site.readable_for = red
    else:
        inputs = site.bind(args, kwargs)
        known = red.safe_keys.issuperset(inputs)
    if known:
        limit = red.min_text
        for v in inputs.values():
            t = type(v)
            if not (t is int or t is float or t is bool or v is None
                    or (t is str and len(v) < limit)):
                inputs = red.payload(inputs, "inputs")
                break
    else:
        inputs = red.payload(inputs, "inputs")
    outer = _get_frame()
    if outer is not None and outer.rec is rec:
        parent: int | None = outer.seq
        depth = outer.depth
    else:
        parent = rec._root
        if parent is None:
            return None  # a recorder used directly, before its run began
        depth = 0
    loop = running_loop()
    if loop is None:
        try:
            lane: str = thread_lanes.name
        except AttributeError:
            lane = current_lane()
    else:
        cached = task_lane()  # `current_lane`, inlined for a task that has been here before
        lane = cached[1] if cached is not None and cached[0] is task_of(loop) \
            else current_lane()
    node_id = site.node_id
    attempt = 1
    if rec._failures:
        # A retry: the same node under the same parent, called again with the inputs
        # (as captured at the call) of an execution that failed.
        attempt += rec._failures.get((parent, node_id, encode_value(inputs)), 0)
    node_type = site.node_type
    data = {"inputs": inputs} if node_type is None else {"inputs": inputs,
                                                          "node_type": node_type}
    writer = rec._hot
    if writer is None:
        return None  # the recording has just ended
    lock = writer.lock
    lock.acquire()
    try:
        if writer.closed:
            return None  # the recording has ended: the general path drops the events
        seq = rec._seq
        rec._seq = seq + 1
        rec._kind_counts["node_start"] += 1
        ev = Event(seq, _perf_ns() - rec._t0, "node_start", node_id, None, parent, depth,
                   lane, attempt, data)
        try:
            writer.append(ev, rec._max_line, False)
        except RecordingWriteError as exc:
            rec._notes.io_failed(exc)
        except Exception as exc:  # unencodable or oversized: the slow path
            append_slow(rec, writer, ev, exc, False)
    finally:
        lock.release()
    span = NodeSpan(rec, seq, depth, outer, True, parent, node_id, attempt, lane, inputs)
    _set_frame(span)
    return span


def end(span: NodeSpan, result: Any) -> None:
    """Leave the span of a call that returned ``result`` and write ``node_complete``."""
    rec = span.rec
    writer = rec._hot
    if writer is None:  # the recording ended during the call
        rec.node_end(span, result)
        return
    span.open = False
    if _get_frame() is span:  # `_context.leave`, inlined
        outer = span.outer
        while outer is not None and not outer.open:
            outer = outer.outer
        _set_frame(outer)
    if rec._failures:
        rec._failures.pop((span.parent, span.node, encode_value(span.inputs)), None)
    t = type(result)
    if not (t is int or t is float or t is bool or result is None):
        result = rec._redactor.payload(result, "outputs")
    lock = writer.lock
    lock.acquire()
    try:
        if writer.closed:
            return  # a straggler after the recording ended: dropped, as `_emit` does
        seq = rec._seq
        rec._seq = seq + 1
        # (node_complete is not counted: no count of it is kept in the footer or metadata)
        ev = Event(seq, _perf_ns() - rec._t0, "node_complete", span.node, span.seq,
                   span.parent, span.depth, span.lane, span.attempt, {"outputs": result})
        try:
            writer.append(ev, rec._max_line, False)
        except RecordingWriteError as exc:
            rec._notes.io_failed(exc)
        except Exception as exc:  # unencodable or oversized: the slow path
            append_slow(rec, writer, ev, exc, False)
    finally:
        lock.release()


def fail(span: NodeSpan, exc: BaseException) -> None:
    """Leave the span of a call that raised ``exc`` and write ``node_error`` (general path)."""
    span.rec.node_end(span, exc=exc)

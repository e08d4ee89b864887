"""The ``chrome`` export: Chrome trace-event JSON for Perfetto and chrome://tracing.

The document is ``{"traceEvents": [...], "displayTimeUnit": "ms", "otherData":
{...}}`` (the Trace Event Format). Every span is a complete event (``ph: "X"``,
``ts`` and ``dur`` in microseconds from the start of the recording) on process
1; each lane — the thread or asyncio task the span ran in — is a thread
(``tid``, an integer) named by ``thread_name`` metadata. A viewer draws the
complete events of one thread as a stack, so they must nest: a span that
would overlap another on its lane without nesting goes to an extra track of
that lane (``"MainThread (2)"``). Errors, team messages, checkpoints and custom
events are instant events (``ph: "i"``); a message also becomes a flow
(``ph: "s"`` / ``"f"``) from the sender's execution to the receiver's, drawn
as an arrow. Every span's ``args.status`` says how it ended (completed, failed,
cancelled, timed_out; running or incomplete without an end); failed spans carry
``cname: "terrible"``, timed-out ones ``"bad"``, cancelled ones ``"grey"``, and
each carries its error, if any, in ``args``.

The spans are drawn in start order, one at a time, by two passes over the
event views (`replayer.export.stream`): memory holds the open spans, 17
bytes a span for how each ended, and the errors and messages — not the spans.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from storage import Span

from .._replayer import Replayer
from .scan import ErrorMark, Mark, Scan, iter_marks, walk
from .stream import first_pass, spans_in_start_order
from .tree import end_ns, link_messages, span_index

__all__ = ["iter_chrome", "to_chrome"]

_enc = msgspec.json.Encoder()
_PID = 1
#: The trace viewer's reserved colour names for the statuses worth a colour.
_CNAMES = {"failed": "terrible", "timed_out": "bad", "cancelled": "grey"}


def _us(ns: int) -> float:
    return ns / 1000


class _Lanes:
    """Integer thread ids for lanes, with extra tracks where spans would not nest."""

    def __init__(self) -> None:
        self.tracks: dict[str | None, list[list[int]]] = {}
        self.tids: dict[tuple[str | None, int], int] = {}
        self.fresh: list[dict[str, Any]] = []
        """Metadata events for tids made since the caller last took them."""

    def tid(self, lane: str | None, track: int = 0) -> int:
        key = (lane, track)
        tid = self.tids.get(key)
        if tid is None:
            tid = self.tids[key] = len(self.tids) + 1
            name = lane if lane is not None else "(no lane)"
            if track:
                name += f" ({track + 1})"
            self.fresh.append({"name": "thread_name", "ph": "M", "pid": _PID, "tid": tid,
                               "args": {"name": name}})
            self.fresh.append({"name": "thread_sort_index", "ph": "M", "pid": _PID, "tid": tid,
                               "args": {"sort_index": tid}})
            self.tracks.setdefault(lane, [])
        return tid

    def place(self, lane: str | None, start: int, end: int) -> int:
        """The tid for a span [start, end] (spans must come in start order)."""
        tracks = self.tracks.setdefault(lane, [])
        for k, stack in enumerate(tracks):
            while stack and stack[-1] <= start:
                stack.pop()  # ended before this span starts
            if not stack or stack[-1] >= end:
                stack.append(end)
                return self.tid(lane, k)
        tracks.append([end])
        return self.tid(lane, len(tracks) - 1)

    def take(self) -> list[dict[str, Any]]:
        fresh, self.fresh = self.fresh, []
        return fresh


def _trace_events(replayer: Replayer, found: Scan, spans: Iterable[Span],
                  by_seq: dict[int, Span], marks: Iterable[Mark]) -> Iterator[dict[str, Any]]:
    """The trace events: ``spans`` in start order, then the errors and messages of
    ``found``, then ``marks``.

    ``by_seq`` holds the spans the instants name: every span, or those `first_pass`
    kept (only their tracks are remembered as ``spans`` go by).
    """
    header = replayer.header
    yield {"name": "process_name", "ph": "M", "pid": _PID,
           "args": {"name": f"{header.workflow} ({header.recording_id})"}}
    errors: dict[int, ErrorMark] = {}
    for e in found.errors:
        if e.span is not None:
            errors.setdefault(e.span, e)
    lanes = _Lanes()
    tid_of: dict[int, int] = {}
    for s in spans:
        end = end_ns(s, found.last_ts)
        tid = lanes.place(s.lane, s.start_ns, end)
        if s.start_seq in by_seq:
            tid_of[s.start_seq] = tid
        yield from lanes.take()
        args: dict[str, Any] = {"status": s.status, "attempt": s.attempt,
                                "start_seq": s.start_seq, "end_seq": s.end_seq,
                                "depth": s.depth}
        event: dict[str, Any] = {"name": s.node, "cat": s.kind, "ph": "X",
                                 "ts": _us(s.start_ns), "dur": _us(end - s.start_ns),
                                 "pid": _PID, "tid": tid, "args": args}
        if s.status in _CNAMES:
            event["cname"] = _CNAMES[s.status]
        err = errors.get(s.start_seq)
        if err is not None:
            args["error"] = {k: v for k, v in err.error.items() if k in ("type", "message")}
        yield event

    def tid_near(lane: str | None, span: int | None) -> int:
        """The track of ``span`` when it ran on ``lane``, else the lane's first track."""
        owner = by_seq.get(span) if span is not None else None
        if owner is not None and owner.lane == lane:
            return tid_of[owner.start_seq]
        return lanes.tid(lane)

    for e in found.errors:
        tid = tid_near(e.lane, e.span)
        yield from lanes.take()
        yield {"name": f"✗ {e.error.get('type') or 'error'}", "cat": "error", "ph": "i",
               "s": "t", "ts": _us(e.ts), "pid": _PID, "tid": tid, "cname": "terrible",
               "args": {**e.error, "seq": e.seq, "node": e.node}}
    for link in link_messages(found.messages, list(by_seq.values())):
        m = link.message
        tid = tid_near(m.lane, link.sender if link.sender is not None else m.parent)
        yield from lanes.take()
        yield {"name": f"{m.sender} → {m.receiver}", "cat": "message", "ph": "i", "s": "t",
               "ts": _us(m.ts), "pid": _PID, "tid": tid,
               "args": {"seq": m.seq, "team": m.team, "from": m.sender, "to": m.receiver,
                        "message": m.message}}
        receiver = by_seq.get(link.receiver) if link.receiver is not None else None
        if receiver is None:
            continue
        at = max(m.ts, receiver.start_ns)
        if at > end_ns(receiver, found.last_ts):
            continue  # the receiver had finished: no slice to bind the arrow's end to
        yield {"name": "message", "cat": "message", "ph": "s", "id": m.seq, "ts": _us(m.ts),
               "pid": _PID, "tid": tid}
        yield {"name": "message", "cat": "message", "ph": "f", "bp": "e", "id": m.seq,
               "ts": _us(at), "pid": _PID, "tid": tid_of[receiver.start_seq]}
    for mark in marks:
        tid = tid_near(mark.lane, mark.parent)
        yield from lanes.take()
        args = {"seq": mark.seq}
        if mark.value is not None:
            args["value"] = mark.value
        yield {"name": mark.name, "cat": mark.kind, "ph": "i", "s": "t", "ts": _us(mark.ts),
               "pid": _PID, "tid": tid, "args": args}


def iter_chrome(replayer: Replayer) -> Iterator[str]:
    """The trace document of ``replayer``'s run, in pieces (see the module docstring)."""
    yield '{"traceEvents":[\n'
    sep = ""
    ends = first_pass(replayer, marks=True)
    found = ends.found
    if ends.complete:
        events = _trace_events(replayer, found, spans_in_start_order(replayer, ends),
                               ends.kept, iter_marks(replayer) if ends.marks else ())
    else:  # damage names a span that had ended: hold them all
        found = walk(replayer, full=True, marks=True)
        events = _trace_events(replayer, found, found.spans, span_index(found.spans),
                               found.marks)
    for event in events:
        yield sep + _enc.encode(event).decode("utf-8")
        sep = ",\n"
    header, summary = replayer.header, replayer.summary
    other = {"recording_id": header.recording_id, "workflow": header.workflow,
             "started_at": header.started_at, "status": found.status,
             "event_count": summary.event_count, "duration_ns": summary.duration_ns}
    yield '\n],\n"displayTimeUnit":"ms",\n"otherData":' + _enc.encode(other).decode() + "}\n"


def to_chrome(replayer: Replayer) -> str:
    """The whole trace document (see `iter_chrome`)."""
    return "".join(iter_chrome(replayer))

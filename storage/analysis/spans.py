"""Spans: one per node, team, member, recursion level and the workflow itself.

A span runs from its start event to the end event whose ``span`` field
points back at it. Spans are built in one pass over slim views of the events
(payloads are not decoded), so a viewer or the diff can draw and align them
cheaply.
"""

from __future__ import annotations

import bisect
import contextlib
from array import array
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from ..format.events import END_KINDS, START_KINDS
from ..format.reader import LogReader
from .outcomes import OUTCOME_KINDS, end_status

__all__ = ["SPAN_KIND", "EventView", "Span", "SpanFold", "build_spans", "end_outcome",
           "iter_event_views", "iter_spans", "start_span", "view_data"]

#: Span kind for each start event kind.
SPAN_KIND = {
    "workflow_start": "workflow",
    "node_start": "node",
    "team_start": "team",
    "team_member_start": "member",
    "recursion_enter": "recursion",
}


class EventView(msgspec.Struct, gc=False):
    """The fields of an event line that spans need (payloads are skipped)."""

    seq: int
    ts: int
    kind: str
    node: str | None = None
    span: int | None = None
    parent: int | None = None
    depth: int = 0
    lane: str | None = None
    attempt: int | None = None
    data: msgspec.Raw = msgspec.Raw(b"")
    """Left undecoded; read only for the few kinds whose outcome lives in it."""


class _Outcome(msgspec.Struct, gc=False):
    """The keys of an end event's ``data`` that say how the span ended (the rest skipped)."""

    status: object = None
    error: object = None
    success: object = None


_outcome = msgspec.json.Decoder(_Outcome)
_data = msgspec.json.Decoder()


def view_data(view: EventView) -> Any:
    """The payload a slim view left undecoded, decoded now (None when there is none).

    The reader checked the whole line when it made the view, so this does not fail; a
    payload that would not decode anyway reads as None.
    """
    if not view.data:
        return None
    try:
        return _data.decode(view.data)
    except (msgspec.DecodeError, RecursionError):
        return None

#: End kinds whose ``data`` can change the span's status or carry its error; the
#: others (``node_complete`` holds outputs, maybe large) are not decoded.
_OUTCOME_KINDS = OUTCOME_KINDS | {"node_error"}


def end_outcome(view: EventView) -> tuple[str, dict[str, Any] | None]:
    """The status and error (``data.error``, or None) of the span ``view`` ends.

    The status follows `storage.analysis.outcomes.end_status`, the one rule every reader
    uses (docs/format.md §Spans); only the few keys it needs are decoded.
    """
    if view.kind not in _OUTCOME_KINDS or not view.data:
        return end_status(view.kind), None  # the kind alone decides (most ends: fast)
    outcome = _Outcome()
    # data that is not an object: the kind alone decides
    with contextlib.suppress(msgspec.DecodeError, RecursionError):
        outcome = _outcome.decode(view.data)
    error = outcome.error if isinstance(outcome.error, dict) else None
    said = {"status": outcome.status, "error": error, "success": outcome.success}
    return end_status(view.kind, said), error


class Span(msgspec.Struct, kw_only=True, gc=False):
    """One execution of a node, team, member, recursion level or the workflow."""

    kind: str
    """``node``, ``team``, ``member``, ``recursion`` or ``workflow``."""
    node: str
    start_seq: int
    end_seq: int | None = None
    start_ns: int = 0
    end_ns: int | None = None
    duration_ns: int | None = None
    status: str = "running"
    """``completed``, ``failed``, ``cancelled``, ``timed_out`` (from the end event, see
    `end_outcome`, which also gives the end's error), or ``running`` when the end is
    missing (a crash, or still going)."""
    parent: int | None = None
    """``start_seq`` of the enclosing span, or None for the root."""
    children: list[int] = []
    attempt: int = 1
    lane: str | None = None
    depth: int = 0


_views = msgspec.json.Decoder(list[EventView])
_view = msgspec.json.Decoder(EventView)


def iter_event_views(reader: LogReader) -> Iterator[EventView]:
    """Slim views of every readable event in ``reader``, frame by frame (payloads not decoded).

    The same events `LogReader.iter_events` gives, checked the same way.
    """
    return reader.iter_items(_views, _view)


#: The span kind each end kind closes.
_ENDS = {"workflow_complete": "workflow", "workflow_error": "workflow",
         "node_complete": "node", "node_error": "node", "team_complete": "team",
         "team_member_complete": "member", "recursion_exit": "recursion"}


class SpanFold:
    """Spans from event views in one pass, holding only the spans still open.

    `steps` follows the links the same way whoever reads it — `build_spans`
    keeps every span, `iter_spans` hands each one on at its end, the chrome
    export reads the starts and ends apart — so all agree span for span.
    Only sound links are followed, whatever the events say, so the spans
    form a tree (docs/format.md §Spans): an event whose seq does not increase
    is left out; a ``parent`` that is not an earlier start leaves the span a
    root; an end is taken only for an earlier start of its kind that has not
    ended yet.

    Besides the open spans it keeps the start seq of every span (8 bytes
    each), to tell a parent that has ended from a seq that never started one.
    """

    def __init__(self) -> None:
        self.open: dict[int, Span] = {}
        """The spans started and not ended yet, by start seq, in start order."""
        self.starts = array("q")
        """The start seq of every span so far, rising: a span's index here is its ordinal
        (its place in start order)."""

    def ordinal(self, start_seq: int) -> int:
        """The place in start order of the span that started at ``start_seq``."""
        return bisect.bisect_left(self.starts, start_seq)

    def steps(self, events: Iterable[EventView]) -> Iterator[tuple[bool, Span]]:
        """``(False, span)`` at each span's start event (not ended yet); ``(True, span)`` at
        its end event, filled in; then ``(True, span)`` for each span never ended, in start
        order, with ``status`` ``running``. The span is the same object at both steps."""
        open_, starts = self.open, self.starts
        last = -1
        for e in events:
            seq, kind = e.seq, e.kind
            if seq <= last:
                continue
            last = seq
            if kind in START_KINDS:
                up = e.parent
                if up is not None and up not in open_:  # an ended span, or none at all
                    i = bisect.bisect_left(starts, up)
                    if i == len(starts) or starts[i] != up:
                        up = None
                s = start_span(e, up)
                open_[seq] = s
                starts.append(seq)
                yield False, s
            elif kind in END_KINDS and e.span is not None:
                s = open_.get(e.span)  # type: ignore[assignment]
                if s is None or s.kind != _ENDS[kind]:
                    continue
                del open_[e.span]
                s.end_seq = seq
                s.end_ns = e.ts
                s.duration_ns = e.ts - s.start_ns
                s.status = end_outcome(e)[0]
                yield True, s
        rest = list(open_.values())
        open_.clear()
        for s in rest:
            yield True, s


def start_span(e: EventView, parent: int | None) -> Span:
    """The span the start event ``e`` opens (not ended yet), under ``parent``."""
    return Span(kind=SPAN_KIND[e.kind], node=e.node or "", start_seq=e.seq, start_ns=e.ts,
                parent=parent, attempt=e.attempt or 1, lane=e.lane, depth=e.depth)


def iter_spans(events: Iterable[EventView]) -> Iterator[Span]:
    """Each span at its end event — those never ended (a crash, a cut) after the last event,
    in start order, ``running`` — holding only the open ones (`SpanFold`).

    The spans are those `build_spans` gives, field for field, except ``children``,
    left empty: a child's ``parent`` names it.
    """
    for ended, s in SpanFold().steps(events):
        if ended:
            yield s


def build_spans(events: Iterable[EventView]) -> list[Span]:
    """Spans in start order, with children and end times filled in (`SpanFold`)."""
    spans: list[Span] = []
    by_start: dict[int, Span] = {}
    for ended, s in SpanFold().steps(events):
        if not ended:
            spans.append(s)
            by_start[s.start_seq] = s
            if s.parent is not None:
                by_start[s.parent].children.append(s.start_seq)
    return spans

"""Spans: one per node, team, member, recursion level and the workflow itself.

A span runs from its start event to the end event whose ``span`` field
points back at it. Spans are built in one pass over slim views of the events
(payloads are not decoded), so a viewer or the diff can draw and align them
cheaply.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from ..format.events import END_KINDS, START_KINDS
from ..format.reader import LogReader
from .outcomes import OUTCOME_KINDS, end_status

__all__ = ["SPAN_KIND", "EventView", "Span", "build_spans", "end_outcome", "iter_event_views",
           "view_data"]

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
    outcome = _Outcome()
    if view.kind in _OUTCOME_KINDS and view.data:
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


def build_spans(events: Iterable[EventView]) -> list[Span]:
    """Spans in start order, with children and end times filled in.

    Only sound links are followed, whatever the events say, so the spans form
    a tree (docs/format.md §Spans): an event whose seq does not increase is
    left out; a ``parent`` that is not an earlier start leaves the span a
    root; an end is taken only for an earlier start of its kind that has not
    ended yet.
    """
    spans: list[Span] = []
    by_start: dict[int, Span] = {}
    last = -1
    for e in events:
        seq, kind = e.seq, e.kind
        if seq <= last:
            continue
        last = seq
        if kind in START_KINDS:
            parent = by_start.get(e.parent) if e.parent is not None else None
            s = Span(kind=SPAN_KIND[kind], node=e.node or "", start_seq=seq, start_ns=e.ts,
                     parent=parent.start_seq if parent is not None else None,
                     attempt=e.attempt or 1, lane=e.lane, depth=e.depth)
            spans.append(s)
            by_start[seq] = s
            if parent is not None:
                parent.children.append(seq)
        elif kind in END_KINDS and e.span is not None:
            s = by_start.get(e.span)  # type: ignore[assignment]
            if s is None or s.end_seq is not None or s.kind != _ENDS[kind]:
                continue
            s.end_seq = seq
            s.end_ns = e.ts
            s.duration_ns = e.ts - s.start_ns
            s.status = end_outcome(e)[0]
    return spans

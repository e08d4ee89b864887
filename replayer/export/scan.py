"""What the exporters read from a recording, in one pass.

The exporters want the spans (as `Replayer.spans` gives them), the messages
team members sent, the error of each failed span and the checkpoints and
custom events. `walk` reads all of it in one pass over slim event views
(only the few kinds that need it have their payload decoded), so exporting
a big recording never holds its decoded events; the text reports, which need
totals and the spans around an error rather than every span, keep only
those. Each span's status follows `storage.analysis.outcomes.end_status` (a member or
team says how it ended in its end event; a cancelled run is ``cancelled``),
and a span that never ended is ``running`` only while the recording's writer
lives, ``incomplete`` after. The spans as a tree, and which member executions
a message went between, are in `replayer.export.tree`; how things are worded, in
`replayer.export.text` and `replayer._text`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from storage import END_KINDS, START_KINDS, EventView, Span, build_spans
from storage.analysis.outcomes import OUTCOME_KINDS, end_status
from storage.analysis.spans import SPAN_KIND, view_data

from .._replayer import Replayer
from .._text import headline

__all__ = ["MARK_KINDS", "Collector", "ErrorMark", "Mark", "Message", "Scan", "collecting",
           "iter_marks", "mark_of", "run_status", "walk"]


#: Kinds whose payload a scan decodes (everything else stays undecoded bytes).
_MESSAGE = "team_message"
#: Kinds drawn as marks: checkpoints and custom events.
MARK_KINDS = ("checkpoint", "custom")
#: End kinds that may carry an error: always (``*_error``), or when a member or team says so.
_ERRORS = frozenset({"node_error", "workflow_error", "team_complete", "team_member_complete"})


class Message(msgspec.Struct, kw_only=True, gc=False):
    """One ``team_message`` event."""

    seq: int
    ts: int
    lane: str | None
    parent: int | None
    team: str
    sender: str
    receiver: str
    message: Any


class ErrorMark(msgspec.Struct, kw_only=True, gc=False):
    """An end event that carries an error, and its error payload: a ``node_error`` or
    ``workflow_error``, or a ``team_member_complete`` / ``team_complete`` with ``data.error``."""

    seq: int
    ts: int
    kind: str
    node: str
    span: int | None
    """``start_seq`` of the span the error ended."""
    lane: str | None
    error: dict[str, Any]
    """``type``, ``message``, ``traceback``, ``causes`` — whatever the recording holds."""

    @property
    def headline(self) -> str:
        """``Type: message``."""
        return headline(self.error)


class Mark(msgspec.Struct, kw_only=True, gc=False):
    """One ``checkpoint`` or ``custom`` event."""

    seq: int
    ts: int
    kind: str
    name: str
    lane: str | None
    parent: int | None
    value: Any = None


class Scan(msgspec.Struct, kw_only=True):
    """What one pass over a recording found (see `walk`)."""

    status: str = "incomplete"
    """How the run ended, as the reader tells it (`run_status`)."""
    spans: list[Span] = []
    """Every span (``full=True``), else only the first ``first`` spans and those an error
    or the end of the recording left open: an error's span and its enclosing spans,
    and the spans still running."""
    messages: list[Message] = []
    errors: list[ErrorMark] = []
    marks: list[Mark] = []
    last_ts: int = 0
    """The largest ``ts`` seen: where still-running spans are drawn to end."""
    counts: dict[str, int] = {}
    """Spans per kind (``node``, ``team``, ``member``, ``recursion``, ``workflow``)."""
    message_count: int = 0
    error_count: int = 0
    """Ends with an error seen (``errors`` holds at most ``max_errors`` of them)."""
    lanes: list[str | None] = []
    """The lanes spans ran on, in order of first appearance."""
    max_depth: int = 0
    slowest: list[Span] = []
    """The slowest finished spans other than the workflow, slowest first."""


class Collector:
    """Picks messages, errors and marks out of the event views going past."""

    def __init__(self, out: Scan, messages: bool, errors: int, marks: bool) -> None:
        self.out, self.messages, self.errors, self.marks = out, messages, errors, marks

    def see(self, v: EventView) -> Any:
        """Take what ``v`` holds for the scan; returns its decoded data for `OUTCOME_KINDS`."""
        kind, out = v.kind, self.out
        out.last_ts = max(out.last_ts, v.ts)
        if kind in _ERRORS:
            outcome = kind in OUTCOME_KINDS
            if not outcome and len(out.errors) >= self.errors:
                out.error_count += 1  # a node error past those kept: no need to decode it
                return None
            data = view_data(v)
            err = data.get("error") if isinstance(data, dict) else None
            if err is None and not kind.endswith("_error"):
                return data  # a member or team that ended without an error
            out.error_count += 1
            if len(out.errors) < self.errors:
                out.errors.append(ErrorMark(
                    seq=v.seq, ts=v.ts, kind=kind, node=v.node or "", span=v.span, lane=v.lane,
                    error=err if isinstance(err, dict) else {"message": "" if err is None
                                                             else str(err)}))
            return data if outcome else None
        if kind == _MESSAGE:
            out.message_count += 1
            if self.messages:
                d = view_data(v)
                d = d if isinstance(d, dict) else {}
                out.messages.append(Message(
                    seq=v.seq, ts=v.ts, lane=v.lane, parent=v.parent, team=v.node or "",
                    sender=str(d.get("from", "")), receiver=str(d.get("to", "")),
                    message=d.get("message")))
        elif kind in MARK_KINDS and self.marks:
            out.marks.append(mark_of(v))
        return None


def mark_of(v: EventView) -> Mark:
    """The `Mark` a checkpoint or custom event's view makes (its payload decoded)."""
    d = view_data(v)
    d = d if isinstance(d, dict) else {}
    return Mark(seq=v.seq, ts=v.ts, kind=v.kind, name=str(d.get("name", v.kind)), lane=v.lane,
                parent=v.parent, value=d.get("value"))


def iter_marks(replayer: Replayer) -> Iterator[Mark]:
    """The checkpoints and custom events of ``replayer``, one at a time, in order."""
    for v in replayer.event_views():
        if v.kind in MARK_KINDS:
            yield mark_of(v)


def collecting(views: Iterable[EventView], collect: Collector,
               outcomes: dict[int, tuple[int, str]]) -> Iterator[EventView]:
    """``views`` as they go by, each one seen by ``collect``, and in ``outcomes`` the last
    outcome event naming each span: span start -> (its seq, the status it says)."""
    for v in views:
        data = collect.see(v)
        if v.kind in OUTCOME_KINDS and v.span is not None:
            outcomes[v.span] = (v.seq, end_status(v.kind, data))
        yield v


def walk(replayer: Replayer, *, full: bool, first: int = 0, messages: bool = True,
         marks: bool = False, max_errors: int = 1 << 62, slowest: int = 5) -> Scan:
    """One pass over ``replayer``'s events: spans, what the flags ask for, and totals.

    Messages are kept when ``messages``, checkpoints and custom events when
    ``marks``, and the first ``max_errors`` ends with an error, with their payloads.

    With ``full`` the spans are those of `Replayer.spans` (built by the same
    `storage.build_spans`, fed as the events go by), with the statuses of the
    module docstring. Without, only the spans a failure report needs are
    kept — each span that did not complete with the spans enclosing it, and
    the spans still open at the end — plus the first ``first`` spans to start
    (with ``children`` among themselves), and the rest are counted and
    forgotten, so a summary of a 1M-event run stays small.
    """
    out = Scan(status=run_status(replayer))
    collect = Collector(out, messages, max_errors, marks)
    views = replayer.event_views()
    if full:
        outcomes: dict[int, tuple[int, str]] = {}  # span start -> (end seq, status)
        out.spans = build_spans(collecting(views, collect, outcomes))
        for s in out.spans:
            end = outcomes.get(s.start_seq)
            if end is not None and end[0] == s.end_seq:
                s.status = end[1]
        _settle(out)
        _totals(out, out.spans, slowest)
        return out
    counts: dict[str, int] = {}
    lanes: dict[str | None, None] = {}
    open_: dict[int, Span] = {}
    kept: dict[int, Span] = {}
    prefix: dict[int, Span] = {}
    heap: list[tuple[int, int, Span]] = []
    for v in views:
        data = collect.see(v)
        kind = v.kind
        if kind in START_KINDS:
            s = Span(kind=SPAN_KIND[kind], node=v.node or "", start_seq=v.seq, start_ns=v.ts,
                     parent=v.parent, attempt=v.attempt or 1, lane=v.lane, depth=v.depth)
            open_[v.seq] = s
            if len(prefix) < first:
                prefix[v.seq] = s
                up = prefix.get(v.parent) if v.parent is not None and v.parent < v.seq \
                    else None
                if up is not None:
                    up.children.append(v.seq)
            counts[s.kind] = counts.get(s.kind, 0) + 1
            lanes.setdefault(v.lane)
            out.max_depth = max(out.max_depth, v.depth)
        elif kind in END_KINDS and v.span is not None:
            ended = open_.pop(v.span, None)
            if ended is None:
                continue
            ended.end_seq, ended.end_ns, ended.duration_ns = v.seq, v.ts, v.ts - ended.start_ns
            ended.status = end_status(kind, data)
            if ended.status != "completed":  # keep it, and every span enclosing it
                chain: Span | None = ended
                while chain is not None and chain.start_seq not in kept:
                    kept[chain.start_seq] = chain
                    parent = chain.parent
                    chain = None if parent is None else open_.get(parent) or kept.get(parent)
            if ended.kind != "workflow" and slowest > 0:
                item = (ended.duration_ns, -ended.start_seq, ended)
                if len(heap) < slowest:
                    heapq.heappush(heap, item)
                else:
                    heapq.heappushpop(heap, item)
    kept.update(open_)  # still running when the recording stops
    kept.update(prefix)
    out.spans = sorted(kept.values(), key=lambda s: s.start_seq)
    _settle(out)
    out.counts, out.lanes = counts, list(lanes)
    out.slowest = [s for _, _, s in sorted(heap, reverse=True)]
    return out


def run_status(replayer: Replayer) -> str:
    """How the run ended: the footer's status; without one, ``running`` while its writer
    lives and ``incomplete`` once it is gone (`storage.LogReader.status`)."""
    return replayer.reader.status


def _settle(out: Scan) -> None:
    """Spans that never ended are ``incomplete`` unless the run is still running."""
    if out.status == "running":
        return
    for s in out.spans:
        if s.end_seq is None:
            s.status = "incomplete"


def _totals(out: Scan, spans: list[Span], slowest: int) -> None:
    counts: dict[str, int] = {}
    lanes: dict[str | None, None] = {}
    for s in spans:
        counts[s.kind] = counts.get(s.kind, 0) + 1
        lanes.setdefault(s.lane)
        out.max_depth = max(out.max_depth, s.depth)
    out.counts, out.lanes = counts, list(lanes)
    out.slowest = heapq.nlargest(slowest, (s for s in spans if s.kind != "workflow"
                                           and s.duration_ns is not None),
                                 key=lambda s: s.duration_ns or 0)

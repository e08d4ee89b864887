"""One recording as the run diff needs it (`Side`), and the parts of an execution it compares.

A side is read once as slim event views (payloads stay undecoded bytes);
spans are built from them and given the status their end events say
(`settle_statuses`, the rule of `storage.analysis.outcomes`). `inputs_of`, `part` and
`error_of` pick out of decoded payloads what docs/diff.md says is compared;
`changes_of` turns value differences into `Change` values that name an
unknown (truncated) side. The engine that pairs two sides is `storage.analysis.diff`.
"""

from __future__ import annotations

import bisect
from typing import Any

from ..format.reader import LogReader
from .diffmodel import Change, RecordingRef
from .outcomes import OUTCOME_KINDS, end_status
from .spans import EventView, Span, build_spans, iter_event_views, view_data
from .state import StateTracker
from .valuediff import ABSENT, unknown_sides

__all__ = ["Side", "changes_of", "duration", "error_of", "inputs_of", "part",
           "settle_statuses"]

#: Error fields compared; the traceback is not (its line numbers move with any edit).
_ERROR_FIELDS = ("type", "message", "causes")


class Side:
    """One recording, as the engine needs it: spans, event views by seq, state events."""

    def __init__(self, reader: LogReader) -> None:
        self.reader = reader
        views = list(iter_event_views(reader))
        self.spans = build_spans(views)
        settle_statuses(self.spans, views, running=reader.status == "running")
        self._dense = bool(views) and views[0].seq == 0 and views[-1].seq == len(views) - 1
        #: Event views by seq (a list when seqs are dense, as in any finished file).
        self.views: list[EventView] | dict[int, EventView] = (
            views if self._dense else {v.seq: v for v in views})
        self.last_seq = views[-1].seq if views else 0
        self.last_ts = views[-1].ts if views else 0
        self.state_seqs = [v.seq for v in views if v.kind == "state"]
        self.by_start = {s.start_seq: s for s in self.spans}
        root = self.spans[0] if self.spans and self.spans[0].kind == "workflow" \
            and self.spans[0].parent is None else None
        self.root = root
        top: list[Span] = []
        by_start = self.by_start
        root_seq = root.start_seq if root is not None else -1
        first_lane: dict[int, str | None] = {}
        #: Start seqs of the spans whose children ran on more than one lane.
        self.multi_lane: set[int] = set()
        node_count = 0
        for s in self.spans:
            if s.kind == "node":
                node_count += 1
            if s is root:
                continue
            parent = s.parent
            # Children of the root, and orphans: a parent the file does not have, or (in a
            # damaged file) one that did not start before it — never a cycle to walk.
            if parent is None or parent == root_seq or parent not in by_start \
                    or parent >= s.start_seq:
                top.append(s)
                parent = root_seq
            lane = first_lane.setdefault(parent, s.lane)
            if lane != s.lane:
                self.multi_lane.add(parent)
        self.top = top
        self.node_count = node_count
        self.fingerprints: dict[int, int] = {}
        """Fingerprints of start payloads by span start seq (filled by the engine)."""
        self._state_cache: dict[int, Any] = {}
        self._states = StateTracker(reader)

    def children(self, span: Span) -> list[Span]:
        """``span``'s children; only spans that started after it (a damaged file may say
        a span is its own child), so the walk always ends."""
        start = span.start_seq
        return [self.by_start[c] for c in span.children if c > start and c in self.by_start]

    def ref(self) -> RecordingRef:
        h = self.reader.header
        return RecordingRef(path=self.reader.path, recording_id=h.recording_id,
                            workflow=h.workflow)

    # --- state -------------------------------------------------------------------------
    def state_at(self, seq: int) -> Any:
        """The recorded state after event ``seq`` (`ABSENT` before the first state event)."""
        k = bisect.bisect_right(self.state_seqs, seq) - 1
        if k < 0:
            return ABSENT
        target = self.state_seqs[k]
        if target not in self._state_cache:
            self._state_cache[target] = self._states.state_at(target)
        return self._state_cache[target]


def settle_statuses(spans: list[Span], views: list[EventView], *, running: bool) -> None:
    """Give each span the status its end event says (`outcomes.end_status`: a member or
    team that failed, a cancelled run), and one that never ended ``incomplete`` unless the
    recording is still being written."""
    ends = {v.seq: v for v in views if v.kind in OUTCOME_KINDS}
    for s in spans:
        if s.end_seq is None:
            if not running:
                s.status = "incomplete"
            continue
        end = ends.get(s.end_seq)
        if end is not None and end.span == s.start_seq:
            s.status = end_status(end.kind, view_data(end))


def duration(side: Side) -> int:
    footer = side.reader.footer
    return footer.duration_ns if footer is not None else side.last_ts


def changes_of(found: list[tuple[str, Any, Any]]) -> list[Change]:
    """`ValueDiffer.diff` results as `Change` values, saying which sides are unknown."""
    out: list[Change] = []
    for path, a, b in found:
        unknown = unknown_sides(a, b)
        out.append(Change(path, a, b, unknown) if unknown else Change(path, a, b))
    return out


def part(data: Any, name: str) -> Any:
    if isinstance(data, dict):
        return data.get(name, ABSENT)
    return ABSENT


def inputs_of(span: Span, data: Any) -> Any:
    """A node's (or the workflow's) ``data.inputs``; for teams, members and recursion levels
    the start event's whole data (formation, members, context / team, role / operation)."""
    if span.kind in ("node", "workflow"):
        return part(data, "inputs")
    return data if data is not None else ABSENT


def error_of(kind: str | None, data: Any) -> Any:
    """The compared fields of an end event's ``data.error`` — ``{}`` when there is none (fields
    diff one by one) — plus ``status`` when the error alone does not tell how the execution
    ended: ``cancelled``, ``timed_out``, or ``failed`` with no error recorded (a team's
    ``success: false``). ``kind`` is the end event's kind (None: the span never ended)."""
    err = part(data, "error")
    if err is ABSENT or err is None:
        fields: dict[str, Any] = {}
    elif not isinstance(err, dict):
        return err
    else:
        fields = {k: err[k] for k in _ERROR_FIELDS
                  if k in err and not (k == "causes" and not err[k])}
    status = end_status(kind, data) if kind is not None else "completed"
    if status in ("cancelled", "timed_out") or (status == "failed" and not fields):
        fields["status"] = status
    return fields

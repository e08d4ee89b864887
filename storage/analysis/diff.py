"""The run diff engine: align two recordings' executions and compare them (SPEC §6).

It lives in `storage` because both `recorder` (re-execution reports, the
pytest golden fixture) and `replayer` (the ``compare`` command, the rich
report) need it, and neither may import the other.

How it works, and why it is fast enough for 100k-event runs:

* Each recording is read once as slim event views (`iter_event_views`:
  payloads stay undecoded bytes) and turned into spans (`build_spans`).
* Executions form a tree (``parent`` links). Node, team, member and
  recursion spans all take part; the workflow span is the root. Children
  of paired parents are aligned with `_align.align` on the key
  ``(kind, node id, attempt)`` — the nesting path is implied, since only
  children of paired parents are aligned — with fingerprints (key + the
  start event's payload bytes) first, so equal inputs pair up.
* Siblings that ran concurrently (on other lanes than their parent's
  sequential work, overlapping in time) are put in a canonical order —
  by key, then payload — before aligning, so two runs whose asyncio or
  thread interleaving differs compare equal.
* A pair whose start and end payload bytes are equal is ``equal`` without
  decoding anything; only the others are decoded and diffed path by path.
* State is rebuilt only where it is asked for (the end, the first
  divergence): nearest keyframe, then patches.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import msgspec

from ..format.reader import LogReader
from .align import Alignment, align
from .diffmodel import (
    Change,
    Delta,
    DiffMetadata,
    DiffOptions,
    DivergenceSide,
    FirstDivergence,
    NodeChange,
    RecordingDiff,
    RegressionPolicy,
    StateChanges,
    Step,
    TimingRegression,
)
from .diffside import Side, changes_of, duration, error_of, inputs_of, part
from .spans import Span, view_data
from .valuediff import ABSENT, IgnoreRules, ValueDiffer

__all__ = ["diff_recordings"]

_json = msgspec.json.Decoder()
_enc = msgspec.json.Encoder()


def diff_recordings(
    a: str | os.PathLike[str] | LogReader,
    b: str | os.PathLike[str] | LogReader,
    options: DiffOptions | None = None,
    /,
    **overrides: Any,
) -> RecordingDiff:
    """Compare run B against run A and return a `RecordingDiff`.

    ``a`` and ``b`` are recording files or open `LogReader` objects (left
    open; files opened here are closed). How they are compared is a
    `DiffOptions` (``ignore``, ``numeric_tolerance``, ``relative_tolerance``,
    ``timing_tolerance``, ``min_timing_ns``, ``compare_timing``, ``policy``),
    given whole, as keywords, or both (keywords win)::

        d = diff_recordings("golden.jsonl.zst", "new.jsonl.zst", ignore=["*.request_id"])
        if d.regression:
            print(d.to_text())

    Raises `RecordingNotFoundError`, `CorruptRecordingError` and the other
    read errors of `LogReader.open`; ValueError for a bad option, TypeError
    for a keyword `DiffOptions` does not have.
    """
    opts = options if options is not None else DiffOptions()
    if overrides:
        opts = msgspec.structs.replace(opts, **overrides)
    rules = IgnoreRules(opts.ignore)
    differ = ValueDiffer(rules, numeric_tolerance=opts.numeric_tolerance,
                         relative_tolerance=opts.relative_tolerance)
    with ExitStack() as stack:
        stack.enter_context(_cyclic_gc_paused())
        readers = []
        for src in (a, b):
            if isinstance(src, LogReader):
                readers.append(src)
            else:
                readers.append(stack.enter_context(LogReader.open(src)))
        engine = _Engine(Side(readers[0]), Side(readers[1]), differ, opts)
        return engine.run(opts.policy)


def _end(span: Span) -> int:
    return span.end_seq if span.end_seq is not None else span.start_seq


class _Engine:
    def __init__(self, a: Side, b: Side, differ: ValueDiffer, options: DiffOptions) -> None:
        self.a, self.b = a, b
        self.differ = differ
        self.rules = differ.rules
        self.scrub_inputs = self.rules.may_touch("inputs")
        self.timing_tolerance = options.timing_tolerance
        self.min_timing_ns = options.min_timing_ns
        self.compare_timing = options.compare_timing
        self.steps: list[Step] = []
        self.changes: dict[str, list[NodeChange]] = {"inputs": [], "outputs": [], "error": []}
        self.timing: list[TimingRegression] = []
        self.only_a: list[str] = []
        self.only_b: list[str] = []
        self.first: tuple[int, Span | None, Span | None, int, int] | None = None

    # --- the walk ---------------------------------------------------------------------------
    def run(self, policy: RegressionPolicy) -> RecordingDiff:
        a, b = self.a, self.b
        root_changes: list[Change] = []
        if a.root is not None and b.root is not None:
            root_changes = self._compare(a.root, b.root)
            self._collect(a.root.node, root_changes)
        stack: list[tuple[Span | None, Span | None, int, int]] = []
        self._push_children(stack, (a.root, b.root), (a.top, b.top))
        views_a, views_b = a.views, b.views
        timing = self.compare_timing
        while stack:
            sa, sb, anc_a, anc_b = stack.pop()
            if sa is not None and sb is not None:
                # Inline fast path: equal start and end payloads need no decoding.
                ea, eb = sa.end_seq, sb.end_seq
                if views_a[sa.start_seq].data == views_b[sb.start_seq].data and (
                        (ea is None and eb is None) or (
                        ea is not None and eb is not None
                        and views_a[ea].kind == views_b[eb].kind
                        and views_a[ea].data == views_b[eb].data)):
                    self._emit("equal", (sa, sb), [], (anc_a, anc_b))
                else:
                    changes = self._compare(sa, sb)
                    self._emit("changed" if changes else "equal", (sa, sb), changes,
                               (anc_a, anc_b))
                    self._collect(sa.node, changes)
                if timing:
                    self._check_timing(sa, sb)
                if sa.children or sb.children:
                    self._push_children(stack, (sa, sb), (a.children(sa), b.children(sb)))
            elif sa is not None:
                self._emit("only_in_a", (sa, None), [], (anc_a, anc_b))
                self.only_a.append(sa.node)
                stack.extend((c, None, anc_a, anc_b) for c in reversed(a.children(sa)))
            elif sb is not None:
                self._emit("only_in_b", (None, sb), [], (anc_a, anc_b))
                self.only_b.append(sb.node)
                stack.extend((None, c, anc_a, anc_b) for c in reversed(b.children(sb)))
        return self._result(policy, root_changes)

    def _push_children(self, stack: list[tuple[Span | None, Span | None, int, int]],
                       parents: tuple[Span | None, Span | None],
                       kids: tuple[list[Span], list[Span]]) -> None:
        """Align the children of two paired parents (None: the top level) and push the rows.

        The first row ends on top of the stack. Each row carries the anchors
        where each side's "state just before" it is taken when that side lacks
        the row: the end of the previous sibling there, else the parent's start.
        """
        (pa, pb), (kids_a, kids_b) = parents, kids
        if not kids_a and not kids_b:
            return
        anchor_a = pa.start_seq if pa is not None else 0
        anchor_b = pb.start_seq if pb is not None else 0
        ordered_a, conc_a = self._canonical(self.a, kids_a, pa)
        ordered_b, conc_b = self._canonical(self.b, kids_b, pb)
        if self._same_starts(ordered_a, ordered_b):  # the common case: nothing to align
            rows: Alignment = [(i, i) for i in range(len(ordered_a))]
        else:
            rows = self._align(ordered_a, ordered_b, conc_a, conc_b)
        items: list[tuple[Span | None, Span | None, int, int]] = []
        for i, j in rows:
            sa = ordered_a[i] if i is not None else None
            sb = ordered_b[j] if j is not None else None
            items.append((sa, sb, anchor_a, anchor_b))
            if sa is not None:
                anchor_a = _end(sa)
            if sb is not None:
                anchor_b = _end(sb)
        stack.extend(reversed(items))

    def _same_starts(self, kids_a: list[Span], kids_b: list[Span]) -> bool:
        """Same keys and same start payload bytes, one for one (so the alignment is 1:1)."""
        if len(kids_a) != len(kids_b):
            return False
        views_a, views_b = self.a.views, self.b.views
        for x, y in zip(kids_a, kids_b, strict=True):
            if x.node != y.node or x.kind != y.kind or x.attempt != y.attempt:
                return False
            if views_a[x.start_seq].data != views_b[y.start_seq].data and (
                    not self.scrub_inputs
                    or self._fingerprint(self.a, x) != self._fingerprint(self.b, y)):
                return False
        return True

    def _align(self, ordered_a: list[Span], ordered_b: list[Span], conc_a: list[bool],
               conc_b: list[bool]) -> Alignment:
        rows = align([_key(s) for s in ordered_a], [_key(s) for s in ordered_b],
                     [self._fingerprint(self.a, s) for s in ordered_a],
                     [self._fingerprint(self.b, s) for s in ordered_b])
        if any(conc_a) and any(conc_b):
            rows = _pair_concurrent_leftovers(rows, ordered_a, ordered_b, conc_a, conc_b)
        return rows

    def _emit(self, op: str, pair: tuple[Span | None, Span | None], changes: list[Change],
              anchors: tuple[int, int]) -> None:
        sa, sb = pair
        if op != "equal" and self.first is None:
            self.first = (len(self.steps), sa, sb, *anchors)
        node = sa.node if sa is not None else sb.node if sb is not None else ""
        self.steps.append(Step(op=op, node=node,  # type: ignore[arg-type]
                               a=sa.start_seq if sa is not None else None,
                               b=sb.start_seq if sb is not None else None, changes=changes))

    def _collect(self, node: str, changes: list[Change]) -> None:
        for c in changes:
            part = c.path.split(".", 1)[0].split("[", 1)[0]
            self.changes[part].append(NodeChange(node=node, path=c.path, a=c.a, b=c.b,
                                                 unknown=c.unknown))

    def _check_timing(self, sa: Span, sb: Span) -> None:
        if sa.kind != "node":
            return
        ta, tb = sa.duration_ns, sb.duration_ns
        if ta is None or tb is None:
            return
        if tb > ta * self.timing_tolerance and tb - ta > self.min_timing_ns:
            self.timing.append(TimingRegression(node=sa.node, a_ns=ta, b_ns=tb,
                                                ratio=round(tb / max(ta, 1), 3),
                                                a_seq=sa.start_seq, b_seq=sb.start_seq,
                                                attempt=sa.attempt))

    # --- ordering and fingerprints ------------------------------------------------------------
    def _fingerprint(self, side: Side, span: Span) -> tuple[str, str, int, int]:
        fp = side.fingerprints.get(span.start_seq)
        if fp is None:
            raw = side.views[span.start_seq].data
            if self.scrub_inputs and raw:
                data = _json.decode(raw)
                inputs = self.differ.scrub(inputs_of(span, data), "inputs", span.node)
                fp = hash(_enc.encode(inputs))
            else:
                fp = hash(bytes(raw))
            side.fingerprints[span.start_seq] = fp
        return (span.kind, span.node, span.attempt, fp)

    def _canonical(self, side: Side, kids: list[Span], parent: Span | None
                   ) -> tuple[list[Span], list[bool]]:
        """Children in a canonical order, and which of them ran concurrently.

        Children all on one lane keep their order. Otherwise a child on the
        parent's own lane that overlaps no child of another lane ran
        sequentially and keeps its place; the children between two such ran
        concurrently and are sorted by key and payload, which do not depend on
        the interleaving. When no child ran on the parent's lane (the parent
        only waited, e.g. on ``asyncio.gather``), all of them count as
        concurrent: nothing tells which lane's order means anything.
        """
        n = len(kids)
        if (parent.start_seq if parent is not None else -1) not in side.multi_lane:
            return kids, [False] * n
        home = parent.lane if parent is not None else None
        serial = [False] * n
        open_until = -1  # the latest end of an other-lane child started so far
        for i, k in enumerate(kids):
            if k.lane == home:
                serial[i] = open_until < k.start_seq
            else:
                open_until = max(open_until, k.end_seq if k.end_seq is not None else 1 << 62)
        next_start = 1 << 62  # the earliest start of an other-lane child after this one
        for i in range(n - 1, -1, -1):
            k = kids[i]
            if k.lane == home:
                serial[i] = serial[i] and _end(k) < next_start
            else:
                next_start = k.start_seq
        ordered: list[Span] = []
        concurrent: list[bool] = []
        block: list[Span] = []

        def flush() -> None:
            if block:
                block.sort(key=lambda s: (*self._fingerprint(side, s), s.start_seq))
                ordered.extend(block)
                concurrent.extend([True] * len(block))
                block.clear()

        for i, k in enumerate(kids):
            if serial[i]:
                flush()
                ordered.append(k)
                concurrent.append(False)
            else:
                block.append(k)
        flush()
        return ordered, concurrent

    # --- comparing one pair ------------------------------------------------------------------
    def _compare(self, sa: Span, sb: Span) -> list[Change]:
        views_a, views_b = self.a.views, self.b.views
        start_a, start_b = views_a[sa.start_seq], views_b[sb.start_seq]
        end_a = views_a[sa.end_seq] if sa.end_seq is not None else None
        end_b = views_b[sb.end_seq] if sb.end_seq is not None else None
        same_end = (end_a is None and end_b is None) or (
            end_a is not None and end_b is not None and end_a.kind == end_b.kind
            and end_a.data == end_b.data)
        if same_end and start_a.data == start_b.data:
            return []
        node = sa.node
        out: list[Change] = []
        differ = self.differ
        if start_a.data != start_b.data:
            da, db = view_data(start_a), view_data(start_b)
            out += changes_of(differ.diff(inputs_of(sa, da), inputs_of(sb, db), "inputs", node))
        if not same_end:
            ea = view_data(end_a) if end_a is not None else None
            eb = view_data(end_b) if end_b is not None else None
            out += changes_of(differ.diff(part(ea, "outputs"), part(eb, "outputs"), "outputs",
                                        node))
            out += changes_of(differ.diff(
                error_of(end_a.kind if end_a is not None else None, ea),
                error_of(end_b.kind if end_b is not None else None, eb), "error", node))
        return out

    # --- the result ----------------------------------------------------------------------------
    def _result(self, policy: RegressionPolicy, root_changes: list[Change]) -> RecordingDiff:
        a, b = self.a, self.b
        differ = self.differ
        end_a = a.state_at(a.last_seq) if a.state_seqs else ABSENT
        end_b = b.state_at(b.last_seq) if b.state_seqs else ABSENT
        at_end = changes_of(differ.diff(end_a, end_b, "state"))
        first = None
        at_first: list[Change] = []
        if self.first is not None:
            pos, sa, sb, anc_a, anc_b = self.first
            first = FirstDivergence(position=pos, a=_side(sa), b=_side(sb))
            if a.state_seqs or b.state_seqs:
                state_a = a.state_at(_end(sa) if sa is not None else anc_a)
                state_b = b.state_at(_end(sb) if sb is not None else anc_b)
                at_first = changes_of(differ.diff(state_a, state_b, "state"))
        ra, rb = a.reader, b.reader
        metadata = DiffMetadata(
            status=Delta(ra.status, rb.status),
            duration_ns=Delta(duration(a), duration(b)),
            event_count=Delta(ra.event_count, rb.event_count),
            node_count=Delta(a.node_count, b.node_count),
        )
        identical = (self.first is None and not at_end and not root_changes
                     and ra.status == rb.status)
        self.timing.sort(key=lambda t: -t.ratio)
        fields: dict[str, Any] = {
            "identical": identical,
            "regression": False,
            "first_divergence": first,
            "steps": self.steps,
            "only_in_a": self.only_a,
            "only_in_b": self.only_b,
            "input_changes": self.changes["inputs"],
            "output_changes": self.changes["outputs"],
            "error_changes": self.changes["error"],
            "state_changes": StateChanges(at_end=at_end, at_first_divergence=at_first),
            "timing_regressions": self.timing,
            "metadata": metadata,
            "a_recording": a.ref(),
            "b_recording": b.ref(),
            "policy": policy,
        }
        draft = RecordingDiff(**fields)
        if draft.is_regression():
            fields["regression"] = True
            return RecordingDiff(**fields)
        return draft


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the diff builds its ~10⁵ objects.

    None of them form cycles, yet each allocation burst triggers collections
    that scan them all again — a third of the diff's time on 100k-event runs
    (benchmarks/diff_bench.py). Reference counting still frees everything.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _key(span: Span) -> tuple[str, str, int]:
    return (span.kind, span.node, span.attempt)


def _pair_concurrent_leftovers(rows: Alignment, ordered_a: list[Span], ordered_b: list[Span],
                               conc_a: list[bool], conc_b: list[bool]) -> Alignment:
    """Pair unmatched concurrent siblings with equal keys (their inputs differ).

    Sorting a concurrent block puts an execution whose inputs changed at
    another place than its counterpart, so the sequence alignment leaves both
    unpaired; among concurrent siblings, position carries no meaning, so they
    pair by key here. Sequential siblings are left alone (a moved sequential
    step is a real difference).
    """
    waiting: dict[tuple[str, str, int], list[int]] = {}
    for _, j in rows:
        if j is not None and conc_b[j]:
            waiting.setdefault(_key(ordered_b[j]), [])
    for i, j in rows:
        if i is None and j is not None and conc_b[j]:
            waiting[_key(ordered_b[j])].append(j)
    if not any(waiting.values()):
        return rows
    taken: set[int] = set()
    out: Alignment = []
    for i, j in rows:
        if i is not None and j is None and conc_a[i]:
            queue = waiting.get(_key(ordered_a[i]))
            if queue:
                j2 = queue.pop(0)
                taken.add(j2)
                out.append((i, j2))
                continue
        out.append((i, j))
    return [(i, j) for i, j in out if not (i is None and j in taken)]


def _side(span: Span | None) -> DivergenceSide | None:
    if span is None:
        return None
    return DivergenceSide(node=span.node, seq=span.start_seq, status=span.status)

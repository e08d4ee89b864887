"""`iter_spans` hands each span on at its end, holding only the open ones, and agrees with
`spans()`.

The link rules (docs/format.md §Spans) are written out plainly in `_reference`
— the one-dict build the spans were made with before `SpanFold` — and random
streams of views, sound and broken (seqs that repeat or fall, parents that
are later, ended or missing, ends of the wrong kind or twice), are held to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from pathlib import Path

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder import node, record_workflow
from replayer import Replayer
from storage import END_KINDS, START_KINDS, EventView, Span, build_spans
from storage.analysis.spans import _ENDS, SPAN_KIND, SpanFold, end_outcome, iter_spans


def _reference(events: Iterable[EventView]) -> list[Span]:
    """Every span kept in one dict by start seq: the rules, with no memory saved."""
    spans: list[Span] = []
    by_start: dict[int, Span] = {}
    last = -1
    for e in events:
        if e.seq <= last:
            continue
        last = e.seq
        if e.kind in START_KINDS:
            parent = by_start.get(e.parent) if e.parent is not None else None
            s = Span(kind=SPAN_KIND[e.kind], node=e.node or "", start_seq=e.seq, start_ns=e.ts,
                     parent=parent.start_seq if parent is not None else None,
                     attempt=e.attempt or 1, lane=e.lane, depth=e.depth)
            spans.append(s)
            by_start[e.seq] = s
            if parent is not None:
                parent.children.append(e.seq)
        elif e.kind in END_KINDS and e.span is not None:
            ended = by_start.get(e.span)
            if ended is None or ended.end_seq is not None or ended.kind != _ENDS[e.kind]:
                continue
            ended.end_seq, ended.end_ns = e.seq, e.ts
            ended.duration_ns = e.ts - ended.start_ns
            ended.status = end_outcome(e)[0]
    return spans


def _bare(s: Span) -> Span:
    return msgspec.structs.replace(s, children=[])


def _check(views: list[EventView]) -> None:
    want = _reference(views)
    assert build_spans(views) == want
    got = list(iter_spans(views))
    assert sorted(got, key=lambda s: s.start_seq) == [_bare(s) for s in want]
    ended = [s for s in got if s.end_seq is not None]
    assert got[:len(ended)] == ended  # the ended ones first, in end order
    assert [s.end_seq for s in ended] == sorted(s.end_seq for s in ended)  # type: ignore[misc]
    never = got[len(ended):]
    assert all(s.status == "running" for s in never)
    assert [s.start_seq for s in never] == sorted(s.start_seq for s in never)


_KINDS = sorted(START_KINDS | END_KINDS | {"custom", "team_message"})
_view = st.builds(
    EventView, seq=st.integers(0, 40), ts=st.integers(0, 10**6), kind=st.sampled_from(_KINDS),
    node=st.sampled_from([None, "a", "b"]), span=st.none() | st.integers(0, 12),
    parent=st.none() | st.integers(0, 12), depth=st.integers(0, 3),
    lane=st.sampled_from([None, "MainThread", "worker"]), attempt=st.none() | st.integers(1, 3),
    data=st.sampled_from([msgspec.Raw(b""), msgspec.Raw(b'{"status":"cancelled"}'),
                          msgspec.Raw(b'{"error":{"type":"E"},"success":false}')]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_view, max_size=60), st.booleans())
def test_iter_spans_agrees_with_the_plain_rules(views: list[EventView], rising: bool) -> None:
    """Random views, broken links and all: the same spans as the rules give, ended ones in
    end order, then the never-ended in start order, running."""
    if rising:  # mostly sound: seqs rise, links point back
        views = [msgspec.structs.replace(v, seq=i) for i, v in enumerate(views)]
    _check(views)


def test_a_parent_that_has_ended_still_parents() -> None:
    """A start naming a span that already ended (a damaged file) is its child, as before;
    one naming a seq that started nothing, or a later one, is a root."""
    def v(seq: int, kind: str, span: int | None = None, parent: int | None = None) -> EventView:
        return EventView(seq=seq, ts=seq, kind=kind, node="n", span=span, parent=parent)

    views = [v(0, "node_start"), v(1, "node_complete", span=0), v(2, "node_start", parent=0),
             v(3, "node_start", parent=1), v(4, "node_start", parent=9),
             v(5, "node_complete", span=2)]
    _check(views)
    assert [s.parent for s in build_spans(views)] == [None, 0, None, None]


@node("leaf")
def leaf(i: int) -> int:
    return i


@node("outer")
def outer(i: int) -> int:
    return leaf(i) + leaf(i + 1)


def test_only_the_open_spans_are_held(tmp_path: Path) -> None:
    """Over 2 000 nested steps the fold never holds more than the three spans open at once."""
    path = tmp_path / "deep.jsonl.zst"
    with record_workflow("steps", path=str(path)):
        for i in range(2000):
            outer(i)
    with Replayer.open(path) as r:
        fold, most, count = SpanFold(), 0, 0
        for ended, _ in fold.steps(r.event_views()):
            most = max(most, len(fold.open))
            count += ended
        assert most == 3 and count == 6001
        assert list(r.iter_spans()) == sorted((_bare(s) for s in r.spans()),
                                              key=lambda s: s.end_seq or 0)


def test_spans_of_a_cut_run_come_last_and_running(tmp_path: Path) -> None:
    """A run cut short: the spans it never ended follow the others, in start order."""
    path = tmp_path / "cut.jsonl.zst"
    with contextlib.suppress(KeyboardInterrupt), \
            record_workflow("cut", path=str(path), flush_every=8):
        for i in range(30):
            outer(i)
    with Replayer.open(path) as r:
        cut = r.reader.frames[-3]
    short = tmp_path / "short.jsonl.zst"
    short.write_bytes(path.read_bytes()[:cut.offset + cut.length])
    with Replayer.open(short) as r:
        views = list(r.event_views())
        _check(views)
        spans = list(r.iter_spans())
        assert spans[-1].kind != "workflow" and spans[-1].status == "running"
        assert any(s.kind == "workflow" and s.end_seq is None for s in spans)
        ordinals = SpanFold()
        for _ in ordinals.steps(views):
            pass
        assert [ordinals.ordinal(s.start_seq) for s in r.spans()] == list(range(len(spans)))

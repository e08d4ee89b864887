"""The chrome, dot and json exports write what they wrote before they streamed, byte for byte.

`golden/make_export_golden.py` made the recordings in ``golden/`` (teams and
messages, two lanes, recursion, errors, overlapping spans, a loose message,
a cut-off run with spans left open, instants naming a span already ended, and
the format's own golden files) and
wrote each one's exports with the exporters as they were when they held
every span; the streaming exporters must give the same text.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from recorder import node, record_workflow
from replayer import Replayer
from replayer.export import export
from replayer.export.columns import SpanColumns
from replayer.export.scan import walk
from replayer.export.stream import first_pass, spans_in_start_order
from replayer.export.tree import nested, span_tree
from storage import Event, Header, LogWriter

GOLDEN = Path(__file__).resolve().parent / "golden"
FORMAT_GOLDEN = GOLDEN.parent.parent / "golden"
RECORDINGS = {p.name.split(".")[0]: p for p in
              [*GOLDEN.glob("*.jsonl.zst"), *FORMAT_GOLDEN.glob("v1-*")]}


@node("step")
def step(i: int) -> int:
    return i


@pytest.mark.parametrize("fmt", ["chrome", "dot", "json"])
@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_export_is_byte_for_byte_what_it_was(name: str, fmt: str) -> None:
    with Replayer.open(RECORDINGS[name]) as r:
        got = export(r, fmt)
    assert got == (GOLDEN / f"{name}.{fmt}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_two_passes_give_the_spans_of_the_full_walk(name: str) -> None:
    """`spans_in_start_order` hands on, one at a time, the spans `walk(full=True)` holds
    (statuses, ends of cut runs and all; ``children`` is left empty)."""
    with Replayer.open(RECORDINGS[name]) as r:
        ends = first_pass(r, marks=True)
        got = list(spans_in_start_order(r, ends))
        want = walk(r, full=True, marks=True).spans
    assert got == [msgspec.structs.replace(s, children=[]) for s in want]
    assert ends.complete is (name != "dangling")


def test_the_first_pass_keeps_only_what_the_instants_name(tmp_path: Path) -> None:
    """Over 3 000 steps the first pass keeps no span (none is a team, member or named by
    an instant) and 17 bytes a span for the ends; the chrome trace still has every span."""
    path = tmp_path / "steps.jsonl.zst"
    with record_workflow("steps", path=str(path)) as rec:
        for i in range(3000):
            step(i)
        rec.checkpoint("end", {"i": 1})
    with Replayer.open(path) as r:
        ends = first_pass(r, marks=True)
        assert ends.complete and list(ends.kept) == [0]  # the checkpoint's: the workflow
        assert len(ends.status) == len(ends.end_seq) == len(ends.end_ns) == 3001
        assert ends.end_ns.itemsize == ends.end_seq.itemsize == 8
        trace = json.loads(export(r, "chrome"))["traceEvents"]
    assert sum(e["ph"] == "X" for e in trace) == 3001


@pytest.mark.parametrize("name", sorted(set(RECORDINGS) - {"dangling"}))
def test_columns_walk_the_tree_as_the_span_tree_does(name: str) -> None:
    """`SpanColumns.nested` and `families` give what `nested` and `span_tree` give over the
    spans of the full walk: the same steps, spans, depths and families in the same order."""
    columns = SpanColumns()
    with Replayer.open(RECORDINGS[name]) as r:
        ends = first_pass(r, marks=False, columns=columns.add)
        columns.link()
        tree = span_tree(walk(r, full=True).spans)
    bare = [(step, s and msgspec.structs.replace(s, children=[]), d) for step, s, d in
            nested(tree)]
    assert list(columns.nested(ends)) == bare
    assert [(p, list(kids)) for p, kids in columns.families()] == \
        [(p, [(c, tree.by_seq[c].lane) for c in kids]) for p, kids in tree.children.items()]
    assert len(columns) == len(tree.by_seq)


def test_spans_appended_between_the_passes_are_left_out(tmp_path: Path) -> None:
    """A growing file refreshed between the two passes: the second hands on only the spans
    the first saw, ended as the first saw them (the later ones wait for the next export)."""
    header = Header(recording_id="01m83j2fk3764czz4dt3vdk6bp", workflow="w",
                    started_at="2026-01-01T00:00:00.000000Z")
    writer = LogWriter(tmp_path / "live.jsonl.zst", header, codec="zstd")
    seq = iter(range(100))

    def write(kind: str, span: int | None = None, parent: int | None = None) -> int:
        n = next(seq)
        with writer.lock:
            writer.append(Event(seq=n, ts=n, kind=kind, node="n", span=span, parent=parent))
            writer.flush()
        return n

    root = write("workflow_start")
    write("node_complete", span=write("node_start", parent=root), parent=root)
    try:
        with Replayer.open(writer.path) as r:
            ends = first_pass(r, marks=False)
            more = write("node_start", parent=root)
            write("node_complete", span=more, parent=root)
            assert len(r.reader.refresh()) == 2
            spans = list(spans_in_start_order(r, ends))
            assert [(s.start_seq, s.status) for s in spans] == [(0, "running"), (1, "completed")]
            assert len(list(r.iter_spans())) == 3
    finally:
        with writer.lock:
            writer.close(None)

"""Repeated, out-of-order and self-referencing seqs and links are damage, never a cycle.

``seq`` must increase through the file, and ``parent`` / ``span`` must name
an earlier event (docs/format.md §Events). A file that breaks this — one
flipped digit does it in a plain file — raises `CorruptRecordingError`
naming the frame, or under ``recover=True`` loses just the offending events,
noted as skipped. What the reader hands on is then sound: spans form a tree,
and every export of it ends (issue 10, item 5: a 3-line file whose
``team_start`` repeated seq 0 made the DOT export write 3.8 GB).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bad_files import event_line, header_line, plain, zstd_frame

from replayer import EXPORTERS, Replayer
from storage import CorruptRecordingError, EventView, LogReader, build_spans

REPO = Path(__file__).resolve().parents[2]


def ev(seq: int, kind: str = "custom", **fields: object) -> bytes:
    return event_line(seq, kind, **fields)


#: (id, the file's bytes, what the strict error says, the seqs a recovering reader keeps)
CASES: list[tuple[str, bytes, tuple[str, ...], list[int]]] = [
    ("team_start repeats seq 0 (the 3.8 GB DOT file)",
     plain(ev(0, "workflow_start", node="w"), ev(0, "team_start", node="t", parent=0)),
     ("seq 0 repeats",), [0]),
    ("seq goes back", plain(ev(0), ev(1), ev(2), ev(1), ev(3)), ("seq 1 comes after seq 2",),
     [0, 1, 2, 3]),
    ("one seq jumps far ahead", plain(ev(0), ev(1), ev(90), ev(2), ev(3)),
     ("seq 90 is out of order",), [0, 1, 2, 3]),
    ("negative seq", plain(ev(-1), ev(0), ev(1)), ("seq -1",), [0, 1]),
    ("parent is the event itself",
     plain(ev(0, "workflow_start"), ev(1, "node_start", node="n", parent=1), ev(2)),
     ("seq 1", "parent 1"), [0, 2]),
    ("parent is a later event",
     plain(ev(0, "workflow_start"), ev(1, "node_start", node="n", parent=5), ev(2)),
     ("parent 5",), [0, 2]),
    ("parent is negative", plain(ev(0), ev(1, parent=-2)), ("parent -2",), [0]),
    ("end names itself",
     plain(ev(0, "node_start", node="n"), ev(1, "node_complete", node="n", span=1)),
     ("span 1",), [0]),
    ("end names a later event",
     plain(ev(0, "node_start", node="n"), ev(1, "node_complete", node="n", span=4), ev(2)),
     ("span 4",), [0, 2]),
    ("patch path is a number",
     plain(ev(0, "state", state={"a": 1}), ev(1, "state", patch=[{"op": "add", "path": 5,
                                                                  "value": 1}])),
     ("patch",), [0]),
    ("patch operation is not an object",
     plain(ev(0, "state", state={"a": 1}), ev(1, "state", patch=[7]), ev(2)),
     ("patch",), [0, 2]),
    ("seqs repeat across zstd frames",
     zstd_frame(header_line()) + zstd_frame(ev(0) + ev(1)) + zstd_frame(ev(1) + ev(2)),
     ("frame 2", "seq 1 repeats"), [0, 1, 2]),
    ("seqs out of order inside a zstd frame",
     zstd_frame(header_line()) + zstd_frame(ev(0) + ev(2) + ev(1) + ev(3)),
     ("frame 1",), [0, 1, 3]),
]


@pytest.fixture(params=[pytest.param(c, id=c[0]) for c in CASES])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, tuple[str, ...],
                                                                   list[int]]:
    _, content, fragments, kept = request.param
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    return path, fragments, kept


def test_strict_reading_names_the_damage(case: tuple[Path, tuple[str, ...], list[int]]) -> None:
    """Without recover, reading the events raises CorruptRecordingError saying what is wrong."""
    path, fragments, _ = case
    with pytest.raises(CorruptRecordingError) as info, LogReader.open(path) as reader:
        list(reader.iter_events())
    message = str(info.value)
    assert message.startswith(f"{path}: corrupt recording at ")
    for fragment in fragments:
        assert fragment in message


def test_recovering_reader_keeps_the_sound_events(
        case: tuple[Path, tuple[str, ...], list[int]]) -> None:
    """With recover, the offending events are dropped and noted; the rest read in order."""
    path, _, kept = case
    with LogReader.open(path, recover=True) as reader:
        assert [e.seq for e in reader.iter_events()] == kept
        assert reader.event_count == len(kept)
        assert reader.skipped
    with Replayer.open(path, recover=True) as r:
        assert [e.seq for e in r.events] == kept
        assert len(r) == len(kept) and [r[i].seq for i in range(len(r))] == kept
        assert r.summary.skipped_frames == len(r.summary.skipped) >= 1
        _assert_tree(r.spans())


def _assert_tree(spans: list) -> None:  # type: ignore[type-arg]
    """Spans are a forest: parents are earlier spans, children listed once, no cycle."""
    by_start = {s.start_seq: s for s in spans}
    assert len(by_start) == len(spans)
    for s in spans:
        assert s.parent is None or (s.parent < s.start_seq and s.parent in by_start)
        assert s.end_seq is None or s.end_seq > s.start_seq
        assert len(set(s.children)) == len(s.children)
        assert all(by_start[c].parent == s.start_seq for c in s.children)


def _view(seq: int, kind: str, **fields: object) -> EventView:
    return EventView(seq=seq, ts=seq, kind=kind, **fields)  # type: ignore[arg-type]


def test_build_spans_keeps_only_sound_links() -> None:
    """build_spans fed bad links directly still gives a tree: bad parents and ends ignored."""
    spans = build_spans([
        _view(0, "workflow_start", node="w"),
        _view(1, "node_start", node="self", parent=1),     # its own parent
        _view(2, "node_start", node="later", parent=9),    # a later parent
        _view(3, "node_start", node="ok", parent=0),
        _view(3, "team_start", node="dup", parent=3),      # repeats seq 3
        _view(4, "node_complete", node="ok", span=4),      # ends itself
        _view(5, "node_complete", node="x", span=7),       # ends a later seq
        _view(6, "team_complete", node="ok", span=3),      # a node ended as a team
        _view(7, "node_complete", node="ok", span=3),
        _view(8, "node_error", node="ok", span=3),          # ends it a second time
        _view(9, "node_complete", node="c", span=2),
        _view(10, "workflow_complete", node="w", span=0),
    ])
    _assert_tree(spans)
    by_start = {s.start_seq: s for s in spans}
    assert [s.node for s in spans] == ["w", "self", "later", "ok"]
    assert by_start[1].parent is None and by_start[2].parent is None
    assert by_start[0].children == [3]
    assert (by_start[3].end_seq, by_start[3].status) == (7, "completed")
    assert by_start[2].end_seq == 9
    assert by_start[0].end_seq == 10


@pytest.mark.parametrize("fmt", sorted(EXPORTERS))
def test_every_export_of_the_repeated_seq_file_ends(tmp_path: Path, fmt: str) -> None:
    """`flowtape export --recover` of the 3-line file writes a small file in every format."""
    path = tmp_path / "three.jsonl"
    path.write_bytes(CASES[0][1])
    out = tmp_path / f"out.{fmt}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "replayer", "export", str(path), "--format",
                           fmt, "--recover", "-o", str(out)], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    page = 200_000 if fmt == "html" else 0  # the page's own script and style
    assert 0 < out.stat().st_size < 20_000 + page
    strict = subprocess.run([sys.executable, "-m", "replayer", "export", str(path), "--format",
                             fmt], capture_output=True, text=True, env=env, timeout=60,
                            check=False)
    assert strict.returncode != 0 and "seq 0 repeats" in strict.stderr

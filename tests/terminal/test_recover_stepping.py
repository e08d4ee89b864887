"""Reading a damaged recording with ``recover=True``: exactly the readable events, everywhere.

One byte flipped inside a middle frame loses that frame's events. The
recovered `Replayer` then counts, indexes, steps, jumps, searches, builds
spans and states over the events that are left — with or without a footer
— and its summary says how many frames were skipped, where, and which seqs
went with them. The interactive stepper, driven through the real command
line, crosses the gap like any other stretch of events.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from recorder import node, record_workflow
from replayer import EXPORTERS, EventNotFoundError, Replayer, Stepper, export
from storage import CorruptRecordingError
from storage.format.frames import FrameSpan

REPO = Path(__file__).resolve().parents[2]
SUFFIX = {"zstd": ".jsonl.zst", "gzip": ".jsonl.gz", "none": ".jsonl"}
#: workflow start and complete, 100 node start/complete pairs, 10 state events
EVENTS = 212


@node
def work(i: int) -> int:
    return i * i


@dataclass(frozen=True)
class Damaged:
    """A recording with one damaged event frame, and what a recovering reader keeps of it."""

    path: str
    frame: FrameSpan
    frame_no: int
    lost: range

    @property
    def readable(self) -> list[int]:
        return [s for s in range(EVENTS) if s not in self.lost]


def _damaged(tmp_path: Path, codec: str, *, footer: bool = True) -> Damaged:
    """A 202-event recording in 16-event frames whose second event frame has a byte flipped."""
    path = tmp_path / f"damaged{SUFFIX[codec]}"
    with record_workflow("damaged", path=str(path), codec=codec, flush_every=16) as rec:
        for i in range(100):
            work(i)
            if i % 10 == 0:
                rec.snapshot({"i": i})
    with Replayer.open(path) as r:
        assert len(r) == EVENTS
        frames = r.reader.frames
    k = 1
    frame = frames[k]
    data = bytearray(path.read_bytes())
    if not footer:
        del data[frames[-1].offset + frames[-1].length:]
    if codec == "none":  # no checksums: make the frame's first line invalid UTF-8
        data[frame.offset] ^= 0x80
        lost = range(frame.first_seq, frame.first_seq + 1)
    else:
        data[frame.offset + frame.length // 2] ^= 0xFF
        lost = range(frame.first_seq, frames[k + 1].first_seq)
    path.write_bytes(bytes(data))
    return Damaged(str(path), frame, k + 1, lost)


@pytest.fixture(params=["zstd", "gzip", "none"])
def codec(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=[True, False], ids=["footer", "no-footer"])
def damaged(tmp_path: Path, codec: str, request: pytest.FixtureRequest) -> Damaged:
    """The damaged recording, finished (with footer and index) or cut before its footer."""
    return _damaged(tmp_path, codec, footer=bool(request.param))


def test_len_and_indexing_cover_exactly_the_readable_events(damaged: Damaged) -> None:
    """len(r), r[i], r.events and iteration give the readable events, in order, and no others."""
    readable = damaged.readable
    with Replayer.open(damaged.path, recover=True) as r:
        assert len(r) == len(readable) == r.summary.event_count
        assert [e.seq for e in r.events] == readable
        assert [r[i].seq for i in range(len(r))] == readable
        assert [e.seq for e in r[-3:]] == readable[-3:]
        assert [e.seq for e in r.iter_events(damaged.lost.start - 1)] == \
            readable[damaged.lost.start - 1:]
        with pytest.raises(EventNotFoundError):
            r[len(r)]


def test_stepping_crosses_the_gap_both_ways(damaged: Damaged) -> None:
    """step_forward / step_backward / current walk over the lost seqs as if they never were."""
    readable = damaged.readable
    with Replayer.open(damaged.path, recover=True) as r:
        seen = []
        while r.current is not None:
            seen.append(r.current.seq)
            assert [e.seq for e in r.step_forward(1)] == [seen[-1]]
        assert seen == readable
        back = [e.seq for e in r.step_backward(len(r) + 5)]
        assert back == readable[::-1]
        assert r.position == 0


def test_jumping_into_the_gap_is_a_named_error(damaged: Damaged) -> None:
    """A lost seq is not an event: jump_to_event and get_event say so; its neighbours work."""
    before, after = damaged.lost.start - 1, damaged.lost.stop
    with Replayer.open(damaged.path, recover=True) as r:
        for seq in damaged.lost:
            with pytest.raises(EventNotFoundError, match=f"seq {seq}"):
                r.jump_to_event(seq)
        assert r.jump_to_event(before).seq == before
        assert [e.seq for e in r.step_forward(2)] == [before, after]
        assert r.current is not None and r.current.seq == after + 1
        assert r.get_event(after).seq == after


def test_searching_states_and_spans_use_the_readable_events(damaged: Damaged) -> None:
    """find, next_match, prev_match, spans and state at an event work across the gap."""
    with Replayer.open(damaged.path, recover=True) as r:
        starts = r.find(kind="node_start")
        assert [e.seq for e in starts] == [e.seq for e in r.events if e.kind == "node_start"]
        assert all(e.seq not in damaged.lost for e in starts)
        r.jump_to_event(damaged.lost.start - 1)
        nxt = r.next_match(kind="node_complete")
        assert nxt is not None and nxt.seq >= damaged.lost.stop
        prev = r.prev_match(kind="node_start")
        assert prev is not None and prev.seq < nxt.seq
        spans = r.spans()
        assert spans[0].kind == "workflow"
        assert all(s.start_seq not in damaged.lost for s in spans)
        for i in range(len(r)):
            r.get_state_at_event(r[i].seq)


def test_summary_says_which_frame_and_seqs_were_skipped(damaged: Damaged) -> None:
    """summary.skipped_frames counts the damage; summary.skipped says where and which seqs."""
    with Replayer.open(damaged.path, recover=True) as r:
        s = r.summary
        assert s.skipped_frames == 1
        (skip,) = s.skipped
        assert skip.offset == damaged.frame.offset
        assert (skip.first_seq, skip.last_seq) == (damaged.lost.start, damaged.lost.stop - 1)
        finished = r.footer is not None
        assert s.status == ("completed" if finished else "incomplete")


def test_every_export_covers_exactly_the_readable_events(damaged: Damaged) -> None:
    """Each export of a recovered recording works; the JSON one lists the readable events and
    the skipped frame."""
    with Replayer.open(damaged.path, recover=True) as r:
        for fmt in sorted(EXPORTERS):
            assert export(r, fmt)
        doc = json.loads(export(r, "json"))
    assert [e["seq"] for e in doc["events"]] == damaged.readable
    assert [s["offset"] for s in doc["summary"]["skipped"]] == [damaged.frame.offset]


def test_strict_reading_still_names_the_damage(damaged: Damaged) -> None:
    """Without recover the same file raises CorruptRecordingError naming frame and offset."""
    with (pytest.raises(CorruptRecordingError, match=f"byte offset {damaged.frame.offset}"),
          Replayer.open(damaged.path) as r):
        list(r.events)


def test_cli_stepper_walks_a_recovered_recording(tmp_path: Path) -> None:
    """`flowtape replay FILE --step --recover` jumps around the gap, showing each event."""
    d = _damaged(tmp_path, "zstd")
    before, after = d.lost.start - 1, d.lost.stop
    commands = f"j {before}\nj {after}\nj {d.lost.start}\nj {after + 3}\nq\n"
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120"}
    proc = subprocess.run([sys.executable, "-m", "replayer", "replay", d.path, "--step",
                           "--recover"], input=commands, capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert not re.search(r"^\*\*\* \d+\s*$", out, re.M), out  # a bare IndexError's text
    for seq in (before, after, after + 3):  # each shown as the event at the cursor
        assert re.search(rf"^\S*\s*{seq}\s.*node_", out, re.M), (seq, out)
    assert f"seq {d.lost.start}" in out  # jumping into the gap is refused, by seq


def test_delta_after_the_gap_says_the_change_is_not_known(tmp_path: Path) -> None:
    """`d` on a state event whose patch follows lost events says its change is not known and
    why (the lost seqs), instead of a change worked out from an unknown state."""
    path = tmp_path / "patches.jsonl.zst"
    with record_workflow("patches", path=str(path), flush_every=4) as rec:
        for i in range(12):
            rec.snapshot({"i": i, "pad": "x" * 200})  # small patches after one keyframe
    with Replayer.open(path) as r:
        frame = r.reader.frames[1]
    data = bytearray(path.read_bytes())
    data[frame.offset + frame.length // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with Replayer.open(path, recover=True) as r:
        lost = r.summary.skipped[0].first_seq
        seq = next(e.seq for e in r.find(kind="state") if e.seq > lost)
        out = io.StringIO()
        stepper = Stepper(r, Console(file=out, width=200, color_system=None),
                          stdin=io.StringIO(f"j {seq}\ndelta\n"), interactive=False)
        assert stepper.cmdloop() == 0
    assert f"seq {seq} (state): what it changed is not known (state unknown: events from " \
        f"seq {lost} on were lost to damage" in out.getvalue()

"""The Replayer's cursor (SPEC §5): position, stepping, jumps, searches — and their edges.

``position`` is the index of the event `step_forward` yields next;
``step_forward(k)`` leaves it after the last event yielded, ``step_backward(k)``
on the last one yielded; `jump_to_position` is true only for 0 <= n < len.
Edges: stepping past either end, recordings with no events between start and
complete, a crashed file with only its header, a crashed file with events.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from recorder import node, record_workflow
from replayer import EventNotFoundError, Replayer


@node
def add(x: int, y: int) -> int:
    return x + y


@node
def fail(x: int) -> int:
    raise ValueError(f"no {x}")


@pytest.fixture
def rec(store: Path) -> Replayer:
    """A 12-event recording: 3 adds, 2 snapshots, a failing node."""
    with record_workflow("cursor", store=store) as r:
        add(1, 2)
        r.snapshot({"total": 3})
        add(3, 4)
        r.snapshot({"total": 10})
        add(10, 0)
        with contextlib.suppress(ValueError):
            fail(1)
    assert r.path is not None
    replayer = Replayer.open(r.path)
    yield replayer
    replayer.close()


def crashed_recording(tmp_path: Path, body: str, **options: object) -> str:
    """Record in a subprocess that dies with os._exit inside the workflow; returns the path."""
    path = tmp_path / "crashed.jsonl.zst"
    script = textwrap.dedent(f"""
        import os
        from recorder import node, record_workflow

        @node
        def add(x, y):
            return x + y

        @node
        def stuck(x):
            os._exit(0)  # the process dies inside the node

        with record_workflow("crash", path={str(path)!r}, **{options!r}) as rec:
        """) + textwrap.indent(textwrap.dedent(body), "    ") + "\n    os._exit(0)\n"
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60,
                   cwd=Path(__file__).resolve().parent.parent)
    return str(path)


def kinds(events: list) -> list[str]:
    return [e.kind for e in events]


# --- the basic moves -----------------------------------------------------------------
def test_starts_at_zero_on_the_first_event(rec: Replayer) -> None:
    """A fresh replayer's cursor is at position 0 and `current` is the first event."""
    assert rec.position == 0
    assert rec.current is not None and rec.current.kind == "workflow_start"
    assert len(rec) == 12


def test_step_forward_leaves_position_after_the_last_yielded(rec: Replayer) -> None:
    """step_forward(3) yields events 0..2 and leaves position 3."""
    got = list(rec.step_forward(3))
    assert [e.seq for e in got] == [0, 1, 2]
    assert rec.position == 3
    assert rec.current is not None and rec.current.seq == 3


def test_step_forward_is_lazy(rec: Replayer) -> None:
    """The cursor moves as the iterator is consumed, not when it is created."""
    it = rec.step_forward(2)
    assert rec.position == 0
    next(it)
    assert rec.position == 1


def test_step_backward_yields_newest_first_and_stays_on_the_last(rec: Replayer) -> None:
    """From position 5, step_backward(3) yields 4, 3, 2 and leaves position 2."""
    rec.jump_to_position(5)
    got = list(rec.step_backward(3))
    assert [e.seq for e in got] == [4, 3, 2]
    assert rec.position == 2


def test_stepping_past_the_end(rec: Replayer) -> None:
    """Stepping beyond the last event yields what is left, then nothing; position is len."""
    rec.jump_to_position(10)
    assert [e.seq for e in rec.step_forward(5)] == [10, 11]
    assert rec.position == len(rec)
    assert rec.current is None
    assert list(rec.step_forward()) == []
    assert rec.position == len(rec)
    assert [e.seq for e in rec.step_backward()] == [11]
    assert rec.position == 11


def test_stepping_before_the_start(rec: Replayer) -> None:
    """Stepping back from position 0 yields nothing and stays at 0."""
    assert list(rec.step_backward(3)) == []
    assert rec.position == 0
    rec.jump_to_position(2)
    assert [e.seq for e in rec.step_backward(10)] == [1, 0]
    assert rec.position == 0


def test_zero_and_negative_steps_do_nothing(rec: Replayer) -> None:
    """step_forward(0) and step_backward(-1) yield nothing and do not move."""
    rec.jump_to_position(4)
    assert list(rec.step_forward(0)) == []
    assert list(rec.step_backward(-1)) == []
    assert rec.position == 4


def test_jump_to_position_bounds(rec: Replayer) -> None:
    """jump_to_position is True for 0 <= n < len, else False without moving."""
    assert rec.jump_to_position(11) is True
    assert rec.position == 11
    assert rec.jump_to_position(12) is False
    assert rec.jump_to_position(-1) is False
    assert rec.position == 11
    assert rec.jump_to_position(0) is True
    assert rec.position == 0


def test_jump_to_event_by_seq(rec: Replayer) -> None:
    """jump_to_event(seq) moves the cursor onto that event and returns it."""
    e = rec.jump_to_event(7)
    assert e.seq == 7 and rec.position == 7 and rec.current == e


def test_jump_to_unknown_event_raises_and_does_not_move(rec: Replayer) -> None:
    """An unknown seq raises EventNotFoundError (an IndexError) and leaves the cursor."""
    rec.jump_to_position(3)
    with pytest.raises(EventNotFoundError, match="seq 99"):
        rec.jump_to_event(99)
    with pytest.raises(IndexError):
        rec.jump_to_event(-1)
    assert rec.position == 3


def test_reset_goes_back_to_zero(rec: Replayer) -> None:
    """reset() puts the cursor on the first event, from anywhere (even the end)."""
    list(rec.step_forward(100))
    rec.reset()
    assert rec.position == 0


def test_replay_from_event_restores_the_cursor(rec: Replayer) -> None:
    """Inside the block the cursor is at seq; afterwards it is back, even after an error."""
    rec.jump_to_position(2)
    with rec.replay_from_event(9) as r:
        assert r is rec and rec.position == 9
        list(rec.step_forward(2))
    assert rec.position == 2
    with pytest.raises(RuntimeError), rec.replay_from_event(5):
        raise RuntimeError("boom")
    assert rec.position == 2


def test_replay_from_unknown_event_leaves_the_cursor(rec: Replayer) -> None:
    """replay_from_event with an unknown seq raises before the block, cursor unchanged."""
    rec.jump_to_position(4)
    with pytest.raises(EventNotFoundError), rec.replay_from_event(500):
        pytest.fail("the block must not run")  # pragma: no cover
    assert rec.position == 4


# --- indexing ---------------------------------------------------------------------------
def test_negative_indexing(rec: Replayer) -> None:
    """r[-1] is the last event and r[-len] the first; r[-len-1] and r[len] raise."""
    assert rec[-1].kind == "workflow_complete"
    assert rec[-len(rec)].seq == 0
    assert rec[-2].kind == "node_error"
    with pytest.raises(IndexError):
        rec[-len(rec) - 1]
    with pytest.raises(IndexError):
        rec[len(rec)]


def test_slices_and_events_sequence(rec: Replayer) -> None:
    """Slices give lists; `events` is a lazy sequence with the same items."""
    assert [e.seq for e in rec[2:5]] == [2, 3, 4]
    assert [e.seq for e in rec[-2:]] == [10, 11]
    assert [e.seq for e in rec[::5]] == [0, 5, 10]
    assert len(rec.events) == 12
    assert rec.events[-1] == rec[-1]
    assert [e.seq for e in rec.events] == list(range(12))


def test_indexing_does_not_move_the_cursor(rec: Replayer) -> None:
    """Reading events by index or get_event leaves position alone."""
    rec.jump_to_position(3)
    assert rec[9].seq == 9 and rec.get_event(10).seq == 10
    assert rec.find(kind="state")
    assert rec.position == 3


# --- searching -------------------------------------------------------------------------
def test_next_and_prev_match_move_to_matches(rec: Replayer) -> None:
    """next_match moves forward to a match after the cursor; prev_match backward."""
    e = rec.next_match(kind="node_start", node="add")
    assert e is not None and e.seq == 1 and rec.position == 1
    e = rec.next_match(kind="node_start", node="add")
    assert e is not None and e.seq == 4
    e = rec.prev_match(kind="node_start")
    assert e is not None and e.seq == 1 and rec.position == 1


def test_no_match_does_not_move(rec: Replayer) -> None:
    """A search that finds nothing returns None and leaves the cursor."""
    rec.jump_to_position(6)
    assert rec.next_match(kind="team_start") is None
    assert rec.prev_match(node="nobody") is None
    assert rec.position == 6


def test_find_with_glob_and_predicate(rec: Replayer) -> None:
    """find() filters by kind, node glob and a predicate, without moving the cursor."""
    assert kinds(rec.find(node="f*")) == ["node_start", "node_error"]
    done = rec.find(kind="node_complete", where=lambda e: e.data["outputs"] > 5)
    assert [e.data["outputs"] for e in done] == [7, 10]
    assert rec.position == 0


def test_state_at_cursor_positions(rec: Replayer) -> None:
    """State between snapshots is the latest snapshot's; before the first it is None."""
    states = [e.seq for e in rec.find(kind="state")]
    assert rec.get_state_at_event(states[0] - 1) is None
    assert rec.get_state_at_event(states[0]) == {"total": 3}
    assert rec.get_state_at_event(states[1] + 1) == {"total": 10}
    assert rec.state_delta(states[1]) == [{"op": "replace", "path": "/total", "value": 10}]
    assert rec.has_state_events


# --- edge recordings --------------------------------------------------------------------
def test_recording_with_only_start_and_complete(store: Path) -> None:
    """An empty workflow has two events; the cursor moves over them like any other."""
    with record_workflow("empty", store=store) as w:
        pass
    with Replayer.open(w.path) as r:
        assert len(r) == 2
        assert kinds(list(r.step_forward(5))) == ["workflow_start", "workflow_complete"]
        assert r.position == 2 and r.current is None
        assert [e.seq for e in r.step_backward(5)] == [1, 0]
        assert r.jump_to_position(2) is False
        assert r.summary.status == "completed"
        assert r.get_state_at_event(1) == {}
        assert not r.has_state_events
        assert [s.kind for s in r.spans()] == ["workflow"]


@pytest.mark.slow
def test_header_only_recording(tmp_path: Path) -> None:
    """A run killed before its first flush leaves a header only: no events, cursor inert."""
    path = crashed_recording(tmp_path, "pass", flush_every=10_000, flush_interval=60.0)
    with Replayer.open(path) as r:
        assert len(r) == 0
        assert r.summary.status == "incomplete"
        assert r.summary.event_count == 0
        assert r.position == 0 and r.current is None
        assert list(r.step_forward()) == [] and list(r.step_backward()) == []
        assert r.jump_to_position(0) is False
        r.reset()
        assert r.position == 0
        assert r.next_match(kind="node_start") is None
        assert r.spans() == []
        with pytest.raises(IndexError):
            r[0]
        with pytest.raises(IndexError):
            r[-1]
        with pytest.raises(EventNotFoundError):
            r.jump_to_event(0)
        with pytest.raises(EventNotFoundError):
            r.get_state_at_event(0)


@pytest.mark.slow
def test_incomplete_recording(tmp_path: Path) -> None:
    """A run killed mid-way reads up to its last flushed event; open spans stay running."""
    path = crashed_recording(tmp_path, """
        add(1, 2)
        rec.snapshot({"n": 1})
        stuck(1)
        """, flush_every=1)
    with Replayer.open(path) as r:
        assert r.footer is None
        assert r.summary.status == "incomplete"
        assert kinds(list(r.events)) == ["workflow_start", "node_start", "node_complete",
                                         "state", "node_start"]
        assert r[-1].node == "stuck"
        assert list(r.step_forward(10))[-1].node == "stuck"
        assert r.position == len(r) == 5
        assert r.get_state_at_event(4) == {"n": 1}
        spans = {s.node: s for s in r.spans()}
        assert spans["stuck"].status == "running" and spans["stuck"].end_seq is None
        assert spans["crash"].status == "running"
        assert spans["add"].status == "completed"

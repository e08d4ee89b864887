"""rec.snapshot: keyframes and patches, copies at call time, the state history."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from strategies import apply_mutation, json_dicts, mutation_sequences, strict_equal

from recorder import (
    record_workflow,
)
from storage import apply_patch

Read = Callable[..., Any]
def states_of(events: list[Any]) -> list[Any]:
    """Rebuild every recorded state from keyframes and patches, as a replayer would."""
    out: list[Any] = []
    state: Any = None
    for e in events:
        if e.kind != "state":
            continue
        if e.state is not None:
            state = e.state
        else:
            assert e.patch is not None
            state = apply_patch(state, e.patch)
        out.append(state)
    return out



# --- state snapshots -----------------------------------------------------------------------------
def test_first_snapshot_is_a_keyframe_then_patches(store: Path, read: Read) -> None:
    """The first snapshot holds the full state; later ones hold RFC 6902 patches."""
    with record_workflow("etl", store=store) as rec:
        rec.snapshot({"rows": 1, "pad": "x" * 40})
        rec.snapshot({"rows": 2, "pad": "x" * 40})
    a, b = read(rec).of_kind("state")
    assert a.state == {"rows": 1, "pad": "x" * 40}
    assert a.patch is None
    assert b.state is None
    assert b.patch == [{"op": "replace", "path": "/rows", "value": 2}]


def test_every_snapshot_call_records_one_state_event(store: Path, read: Read) -> None:
    """A snapshot with nothing changed still records a state event, with an empty patch."""
    state = {"rows": 1, "pad": "x" * 40}
    with record_workflow("etl", store=store) as rec:
        seqs = [rec.snapshot(state) for _ in range(4)]
    events = read(rec).of_kind("state")
    assert [e.seq for e in events] == seqs
    assert [e.patch for e in events[1:]] == [[], [], []]
    assert read(rec).footer.counts.states == 4


@pytest.mark.parametrize("every", [1, 2, 3, 5])
def test_a_keyframe_every_keyframe_every_state_events(every: int, store: Path,
                                                      read: Read) -> None:
    """With keyframe_every=N, state events 0, N, 2N, ... are keyframes, the rest patches."""
    with record_workflow("etl", store=store, keyframe_every=every) as rec:
        for i in range(12):
            rec.snapshot({"i": i, "pad": "x" * 40})
    r = read(rec)
    events = r.of_kind("state")
    assert [i for i, e in enumerate(events) if e.state is not None] == list(range(0, 12, every))
    assert r.footer.index.keyframes == [e.seq for e in events if e.state is not None]
    assert [s["i"] for s in states_of(r.events)] == list(range(12))


def test_keyframe_when_the_patch_would_be_larger(store: Path, read: Read) -> None:
    """When a patch would be larger than the state, the full state is recorded instead."""
    with record_workflow("etl", store=store) as rec:
        rec.snapshot({"a": 1})
        rec.snapshot({"b": 2})
    second = read(rec).of_kind("state")[1]
    assert second.state == {"b": 2}
    assert second.patch is None


def test_mutating_after_snapshot_does_not_change_the_recording(store: Path, read: Read) -> None:
    """The recorder copies the state at call time; later changes to the dict do not leak in."""
    state: dict[str, Any] = {"items": [1], "meta": {"n": 1}, "pad": "x" * 40}
    with record_workflow("etl", store=store) as rec:
        rec.snapshot(state)
        state["items"].append(2)
        state["meta"]["n"] = 2
        rec.snapshot(state)
        state["items"].clear()
        state["meta"]["extra"] = True
        del state["pad"]
    assert states_of(read(rec).events) == [
        {"items": [1], "meta": {"n": 1}, "pad": "x" * 40},
        {"items": [1, 2], "meta": {"n": 2}, "pad": "x" * 40},
    ]


@given(initial=json_dicts, steps=mutation_sequences)
def test_snapshots_replay_to_the_states_at_call_time(tmp_path_factory: pytest.TempPathFactory,
                                                     read: Read, initial: dict[str, Any],
                                                     steps: list[list[tuple[Any, ...]]]) -> None:
    """Rebuilding states from keyframes and patches gives each state as it was when recorded."""
    store = tmp_path_factory.mktemp("rec")
    state = copy.deepcopy(initial)
    expected = []
    # redact=set(): secret-looking keys are generated too; this is about keyframes and patches.
    with record_workflow("etl", store=store, keyframe_every=4, redact=set()) as rec:
        rec.snapshot(state)
        expected.append(copy.deepcopy(state))
        for changes in steps:
            for change in changes:
                apply_mutation(state, copy.deepcopy(change))
            rec.snapshot(state)
            expected.append(copy.deepcopy(state))
    got = states_of(read(rec).events)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert strict_equal(g, e)


def test_snapshot_with_node_id_and_stack(store: Path, read: Read) -> None:
    """snapshot(state, node_id, execution_stack) records the node and the stack."""
    with record_workflow("etl", store=store) as rec:
        rec.snapshot({"a": 1}, node_id="n1", execution_stack=["top", "n1"])
    e = read(rec).of_kind("state")[0]
    assert e.node == "n1"
    assert e.data == {"execution_stack": ["top", "n1"]}

"""`Replayer.get_state_at_event`: the exact state after any event, from keyframes and patches."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from bad_files import Valid, event_line, plain, with_footer
from hypothesis import given
from hypothesis import strategies as st

from recorder import node, record_workflow
from replayer import Replayer, StateUnknownError
from storage import CorruptRecordingError, LogReader, is_truncated
from tests.strategies import apply_mutation, json_dicts, mutation_sequences, strict_equal


@node
def step(i: int) -> int:
    return i


@given(initial=json_dicts, steps=mutation_sequences, every=st.integers(1, 5),
       noise=st.lists(st.integers(0, 3), min_size=12, max_size=12))
def test_state_at_every_event_is_the_true_state(
        tmp_path_factory: pytest.TempPathFactory, initial: dict[str, Any],
        steps: list[list[tuple[Any, ...]]], every: int, noise: list[int]) -> None:
    """At every event the state is that of the latest snapshot at or before it (None before any);
    mutating what comes back changes nothing."""
    store = tmp_path_factory.mktemp("rec")
    state = copy.deepcopy(initial)
    truth: list[Any] = []  # state after each seq, as the recording should report it
    current: Any = None
    with record_workflow("s", store=store, keyframe_every=every, redact=set()) as rec:
        truth.append(current)  # workflow_start
        for k, changes in enumerate(steps):
            for _ in range(noise[k % len(noise)]):  # events between state events
                step(k)
                truth += [current, current]
            for change in changes:
                apply_mutation(state, copy.deepcopy(change))
            rec.snapshot(state)
            current = copy.deepcopy(state)
            truth.append(current)
    truth.append(current)  # workflow_complete
    with Replayer.open(rec.path or "") as r:
        assert len(r) == len(truth)
        for seq in range(len(r)):
            got = r.get_state_at_event(seq)
            assert strict_equal(got, truth[seq]), seq
            if isinstance(got, dict):
                got["__mutated__"] = True
                got.clear()
                assert strict_equal(r.get_state_at_event(seq), truth[seq]), seq
        # Backwards, too (the cache must not leak a later state into an earlier one).
        for seq in reversed(range(len(r))):
            assert strict_equal(r.get_state_at_event(seq), truth[seq]), seq


def test_without_state_events_outputs_are_folded(tmp_path: Path) -> None:
    """A recording with no state events reports {node: latest output} after each event."""
    @node("a")
    def a(x: int) -> dict[str, int]:
        return {"x": x}

    with record_workflow("fold", store=tmp_path) as rec:
        a(1)
        a(2)
    with Replayer.open(rec.path or "") as r:
        assert r.get_state_at_event(0) == {}
        assert r.get_state_at_event(2) == {"a": {"x": 1}}
        assert r.get_state_at_event(len(r) - 1) == {"a": {"x": 2}}
        r.get_state_at_event(2)["a"]["x"] = 99
        assert r.get_state_at_event(2) == {"a": {"x": 1}}


# --- state that the recording does not hold --------------------------------------------
def test_truncated_state_is_unknown_not_a_value(tmp_path: Path) -> None:
    """After a snapshot over max_payload_bytes the state is unknown (with the size) until the
    next keyframe; state_delta refuses to invent a change; the recorded stand-in stays."""
    with record_workflow("big", store=tmp_path, max_payload_bytes=2_000) as rec:
        rec.snapshot({"small": 1})
        step(1)
        rec.snapshot({"blob": "x" * 10_000})
        step(2)
        rec.snapshot({"small": 2})
    with Replayer.open(rec.path or "") as r:
        states = [e.seq for e in r.find(kind="state")]
        small, big, again = states
        after_big = big + 1
        assert r.state_unknown(small) is None and r.state_unknown(0) is None
        for seq in (big, after_big, after_big + 1):
            unknown = r.state_unknown(seq)
            assert unknown is not None
            assert (unknown.seq, unknown.reason) == (big, "truncated")
            assert unknown.size is not None and unknown.size > 10_000
            assert "truncated" in str(unknown) and str(unknown.size) in str(unknown)
        recorded = r.get_state_at_event(big)
        assert is_truncated(recorded)  # what is recorded, as it is recorded
        for seq in (big, again):  # the change into and out of the unknown state is unknown
            with pytest.raises(StateUnknownError) as info:
                r.state_delta(seq)
            assert info.value.unknown == r.state_unknown(seq if seq == big else big)
            assert "$truncated" not in str(info.value)
        assert r.state_unknown(again) is None
        assert r.get_state_at_event(again) == {"small": 2}
        assert r.state_delta(small) == [{"op": "replace", "path": "", "value": {"small": 1}}]


def test_a_patch_nested_900_deep_applies(tmp_path: Path) -> None:
    """A patch whose value nests 900 levels deep gives the state after it, and its delta."""
    deep = "[" * 900 + "]" * 900
    path = tmp_path / "deep.jsonl"
    path.write_bytes(plain(
        event_line(0, "state", state={"a": 1}),
        f'{{"seq":1,"ts":1,"kind":"state","patch":[{{"op":"add","path":"/b","value":{deep}}}]}}\n'
        .encode(),
        event_line(2, "state", patch=[{"op": "replace", "path": "/a", "value": 2}]),
    ))
    with Replayer.open(path) as r:
        state = r.get_state_at_event(2)
        assert state["a"] == 2
        depth, value = 0, state["b"]
        while value:
            depth, value = depth + 1, value[0]
        assert depth == 899
        assert r.state_delta(1)[0]["path"] == "/b"


def test_lying_keyframe_is_a_named_error(tmp_path: Path) -> None:
    """An index keyframe that is not a keyframe: CorruptRecordingError naming it."""
    path = tmp_path / "lie.jsonl.zst"
    with record_workflow("lie", path=str(path), keyframe_every=1) as rec:
        rec.snapshot({"a": 1})
        rec.snapshot({"a": 2})
    with LogReader.open(path) as reader:
        keys = list(reader.keyframes)
        v = Valid("zstd", path.read_bytes(), reader.frames, reader.event_count)
    path.write_bytes(with_footer(v, lambda f: f["index"].update(keyframes=[0, keys[1]])))
    with Replayer.open(path) as r, pytest.raises(CorruptRecordingError, match="keyframe"):
        r.get_state_at_event(keys[0])


def test_delta_of_folded_outputs(tmp_path: Path) -> None:
    """Without state events, state_delta says what a node_complete changed in the folded
    outputs (the state get_state_at_event answers with), and nothing for other events."""
    with record_workflow("fold", path=str(tmp_path / "fold.jsonl.zst")) as rec:
        step(1)
        step(2)
    with Replayer.open(rec.path) as r:
        completes = [e.seq for e in r.find(kind="node_complete")]
        assert r.state_delta(completes[0]) == [{"op": "add", "path": "/step", "value": 1}]
        assert r.state_delta(completes[1]) == [{"op": "replace", "path": "/step", "value": 2}]
        assert r.state_delta(r.find(kind="node_start")[0].seq) == []

"""Folded outputs from checkpoints (`storage.analysis.fold`) answer as the naive fold does.

A recording without state events has, after each event, ``{node: latest
outputs}``. `OutputFold` answers from checkpoints made as it first folds
past them; every answer here is held to the fold from the first event,
written out plainly in `_naive`, at random positions in random order (so
the checkpoints, the thinning and the last-answer cache are all crossed),
with truncated outputs, and in a recording read past damage.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recorder import node, record_workflow
from replayer import Replayer
from storage import LogReader, is_truncated
from storage.analysis.fold import OutputFold
from tests.strategies import strict_equal


@node("small")
def small(i: int) -> dict[str, int]:
    return {"i": i}


@node("big")
def big(i: int) -> str:
    return "x" * (40 + i % 300)  # over max_payload_bytes now and then: truncated


@node("quiet")
def quiet(i: int) -> None:
    return None


def _naive(reader: LogReader, seq: int) -> dict[str, Any]:
    """The fold from the first event: what every answer must equal."""
    folded: dict[str, Any] = {}
    for e in reader.iter_events():
        if e.seq > seq:
            break
        if e.kind == "node_complete" and e.node is not None and isinstance(e.data, dict) \
                and "outputs" in e.data:
            folded[e.node] = e.data["outputs"]
    return folded


def _record(path: Path, steps: int) -> Path:
    with record_workflow("fold", path=str(path), flush_every=16, max_payload_bytes=256):
        for i in range(steps):
            small(i)
            if i % 3 == 0:
                big(i)
            if i % 5 == 0:
                quiet(i)
    return path


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _record(tmp_path_factory.mktemp("fold") / "fold.jsonl.zst", 400)


@settings(max_examples=40, deadline=None)
@given(stride=st.integers(1, 6), limit=st.integers(2, 9), entries=st.integers(1, 40),
       order=st.lists(st.integers(0, 10_000), min_size=1, max_size=60))
def test_answers_equal_the_naive_fold_in_any_order(recording: Path, stride: int, limit: int,
                                                  entries: int, order: list[int]) -> None:
    """Random positions in random order, small strides and limits (so checkpoints thin):
    each answer is the naive fold's, and the checkpoints stay within the limits (entries:
    within one checkpoint's worth, three nodes, of the limit)."""
    with LogReader.open(recording) as reader:
        fold = OutputFold(reader, stride=stride, limit=limit, entries=entries)
        for k in order:
            seq = reader.seq_at(k % reader.event_count)
            assert strict_equal(fold.at(seq), _naive(reader, seq)), seq
            assert len(fold.checkpoints) <= limit
            assert fold.entries == sum(map(len, fold.checkpoints))
            assert len(fold.checkpoints) <= 2 or fold.entries <= entries + 3
        assert fold.stride >= stride


def test_replayer_state_is_the_fold_at_every_event(recording: Path) -> None:
    """Through the replayer: forward, backward and shuffled, with truncated outputs among
    them; what comes back is the caller's own."""
    with Replayer.open(recording) as r:
        assert not r.has_state_events
        seqs = [r.reader.seq_at(p) for p in range(len(r))]
        truth = {seq: _naive(r.reader, seq) for seq in seqs}
        assert any(is_truncated(v.get("big")) for v in truth.values())
        shuffled = seqs[:]
        random.Random(12).shuffle(shuffled)
        for seq in [*seqs, *reversed(seqs), *shuffled]:
            got = r.get_state_at_event(seq)
            assert strict_equal(got, truth[seq]), seq
            got["small"] = "mutated"
            assert strict_equal(r.get_state_at_event(seq), truth[seq]), seq


def test_checkpoints_are_made_only_as_far_as_asked(recording: Path) -> None:
    """Lazily: an early answer makes no checkpoint past it; a late one makes those before."""
    with LogReader.open(recording) as reader:
        fold = OutputFold(reader, stride=2, limit=1000)
        fold.at(reader.seq_at(3))
        assert len(fold.checkpoints) == 1
        last = reader.seq_at(reader.event_count - 1)
        fold.at(last)
        assert len(fold.checkpoints) == reader.frame_of(last) // 2 + 1
        fold.forget()
        assert fold.checkpoints == [{}]
        assert strict_equal(fold.at(last), _naive(reader, last))


def test_fold_past_damage_equals_the_naive_fold(tmp_path: Path) -> None:
    """A recovering read skips a damaged frame; the fold skips the same events."""
    path = _record(tmp_path / "damaged.jsonl.zst", 120)
    with LogReader.open(path) as reader:
        frame = reader.frames[5]
    data = bytearray(path.read_bytes())
    data[frame.offset + frame.length // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with LogReader.open(path, recover=True) as reader:
        assert reader.skipped
        fold = OutputFold(reader, stride=1, limit=4)
        for p in [*range(reader.event_count), *range(reader.event_count - 1, -1, -3)]:
            seq = reader.seq_at(p)
            assert strict_equal(fold.at(seq), _naive(reader, seq)), seq


def test_an_empty_recording_folds_to_nothing(tmp_path: Path) -> None:
    with record_workflow("empty", path=str(tmp_path / "e.jsonl.zst")) as rec:
        pass
    with LogReader.open(rec.path) as reader:
        assert OutputFold(reader).at(0) == {}


@pytest.mark.parametrize(("stride", "limit"), [(0, 4), (4, 1)])
def test_a_fold_without_room_for_checkpoints_is_refused(recording: Path, stride: int,
                                                        limit: int) -> None:
    with LogReader.open(recording) as reader, pytest.raises(ValueError, match="stride >= 1"):
        OutputFold(reader, stride=stride, limit=limit)

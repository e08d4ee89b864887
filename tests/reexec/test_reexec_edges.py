"""Re-execution at the edges: what cannot be served and why, retries, teams, state,
the ways a recording is named, and where the new recording goes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import read_recording

from recorder import (
    ExecutionRecorder,
    ReplayDivergenceError,
    get_current_recorder,
    node,
    record_workflow,
    reexecute,
)
from storage import open_store

CALLS: list[str] = []


@pytest.fixture(autouse=True)
def _fresh() -> None:
    CALLS.clear()


@node
def fetch(url: str) -> str:
    CALLS.append(url)
    return f"<{url}>"


@node
def flaky(n: int) -> str:
    CALLS.append(f"flaky {n}")
    if len(CALLS) == 1:
        raise ConnectionError("reset by peer")
    return "ok"


def with_retries() -> str:
    for _ in range(3):
        try:
            return flaky(1)
        except ConnectionError:
            continue
    raise AssertionError("no attempt succeeded")


def test_a_retried_call_is_served_attempt_by_attempt(tmp_path: Path) -> None:
    """Attempt 1's recorded error is raised again, so the code retries, and attempt 2's
    recorded output is served: the same story, nothing run."""
    original = tmp_path / "o.jsonl.zst"
    with record_workflow("r", path=str(original)):
        assert with_retries() == "ok"
    CALLS.clear()
    with reexecute(original, record_to=tmp_path / "n.jsonl.zst") as rx:
        assert with_retries() == "ok"
    assert CALLS == []
    assert rx.report.identical
    attempts = [e.attempt for e in read_recording(rx.path or "").of_kind("node_start")]
    assert attempts == [1, 2]


def test_a_call_the_recording_never_saw_end_is_unservable(tmp_path: Path) -> None:
    """A node whose span never ended (the run was killed during it) cannot be served."""
    rec = ExecutionRecorder("crashed", record_state_snapshots=True)
    rec.record_workflow_start({})
    rec.record_node_start("fetch", {"url": "a"})
    rec.finalize()
    assert rec.saved_path is None and rec.path is not None
    with pytest.raises(ReplayDivergenceError) as info, \
            reexecute(rec, record_to=tmp_path / "n.jsonl.zst"):  # anything with a .path
        fetch("a")
    assert info.value.kind == "unservable"
    assert "never ended in the recording" in str(info.value)


def test_outputs_not_recorded_are_unservable(tmp_path: Path) -> None:
    """A recording made with record_outputs=False has nothing to serve: unservable."""
    original = tmp_path / "o.jsonl.zst"
    with record_workflow("r", path=str(original), record_outputs=False):
        fetch("a")
    with pytest.raises(ReplayDivergenceError, match="record_outputs=False") as info, \
            reexecute(original, record_to=tmp_path / "n.jsonl.zst"):
        fetch("a")
    assert info.value.kind == "unservable"


@node("shape")
def as_number(x: int) -> int:
    return x


@node("shape")
def as_dict(x: int) -> dict[str, int]:
    return {"x": x}


def test_a_value_that_no_longer_fits_the_return_type_is_unservable(tmp_path: Path) -> None:
    """The code now declares another return type than the recorded value has: unservable,
    naming the type and what did not fit."""
    original = tmp_path / "o.jsonl.zst"
    with record_workflow("r", path=str(original)):
        as_dict(1)
    with pytest.raises(ReplayDivergenceError) as info, \
            reexecute(original, record_to=tmp_path / "n.jsonl.zst"):
        as_number(1)
    assert info.value.kind == "unservable"
    assert "does not fit the return type int" in str(info.value)


@node("words")
def words_stream(text: str) -> Iterator[str]:
    yield from text.split()


@node("words")
def words_list(text: str) -> list[str]:
    return text.split()


def test_a_stream_recorded_as_a_value_is_unservable(tmp_path: Path) -> None:
    """A node recorded as a stream cannot be served to code that now returns a value."""
    original = tmp_path / "o.jsonl.zst"
    with record_workflow("r", path=str(original)):
        list(words_stream("a b"))
    with pytest.raises(ReplayDivergenceError, match="recorded as a stream") as info, \
            reexecute(original, record_to=tmp_path / "n.jsonl.zst"):
        words_list("a b")
    assert info.value.kind == "unservable"


def test_a_closed_stream_cannot_give_more_than_it_gave(tmp_path: Path) -> None:
    """A stream its consumer closed after one item: asking for a second is exhausted."""
    original = tmp_path / "o.jsonl.zst"
    with record_workflow("r", path=str(original)):
        next(iter(words_stream("a b c")))
    with pytest.raises(ReplayDivergenceError, match="closed by its consumer after 1") as info, \
            reexecute(original, record_to=tmp_path / "n.jsonl.zst"):
        assert list(words_stream("a b c")) == ["a", "b", "c"]
    assert info.value.kind == "exhausted"
    with reexecute(original, record_to=tmp_path / "m.jsonl.zst", on_divergence="live") as rx:
        assert list(words_stream("a b c")) == ["a"]  # ends where the recording does
    assert [d.action for d in rx.report.divergences] == ["ended"]


@node
def annotated_later(x: int) -> UnknownLater:  # type: ignore[name-defined]  # noqa: F821
    return {"x": x}  # type: ignore[return-value]


def test_an_unresolvable_annotation_serves_plain_json_with_a_note(tmp_path: Path) -> None:
    """A return annotation that names nothing importable: the value is served as plain
    JSON, and the report says why."""
    original = tmp_path / "o.jsonl.zst"
    with record_workflow("r", path=str(original)):
        annotated_later(1)
    with reexecute(original, record_to=tmp_path / "n.jsonl.zst") as rx:
        assert annotated_later(1) == {"x": 1}
    (note,) = rx.report.notes
    assert "'UnknownLater'" in note and "plain JSON" in note


@node
def member_work(name: str) -> str:
    CALLS.append(name)
    return name.upper()


def team_flow(rec: ExecutionRecorder) -> list[str]:
    out = []
    with rec.team("crew", formation="parallel", members=["a", "b"]) as team:
        for name in ("a", "b"):
            with team.member(name):
                out.append(member_work(name))
                team.message(name, "all", f"{name} done")
        with rec.recursion("refine", "r1"):
            out.append(member_work("deep"))
    rec.snapshot({"done": out})
    return out


def test_teams_members_recursion_and_state_replay_identically(tmp_path: Path) -> None:
    """Nodes inside team members and recursion levels are matched through them and served."""
    original = tmp_path / "o.jsonl.zst"
    with record_workflow("t", path=str(original)) as rec:
        expected = team_flow(rec)
    CALLS.clear()
    with reexecute(original, record_to=tmp_path / "n.jsonl.zst") as rx:
        assert team_flow(rx.recorder) == expected
    assert CALLS == []
    assert rx.report.identical, rx.report.to_text()


@node
def stateful(client: object) -> int:
    rec = get_current_recorder()
    assert rec is not None
    rec.snapshot({"inside": True})
    rec.checkpoint("half")
    return 7


class Client:
    """An object a node takes: recorded as a {"$repr", "$type"} stand-in, address and all."""


def test_a_served_node_keeps_what_it_recorded_inside(tmp_path: Path) -> None:
    """A served node's snapshots and checkpoints are in the new recording as they were, so
    the state at the end is the same; an object argument (a $repr stand-in whose text
    changes every run) does not make the inputs differ."""
    original = tmp_path / "o.jsonl.zst"
    with record_workflow("s", path=str(original)):
        stateful(Client())
    with reexecute(original, record_to=tmp_path / "n.jsonl.zst") as rx:
        stateful(Client())
    report = rx.report
    assert report.identical and report.diff.state_changes.at_end == []
    kinds = read_recording(rx.path or "").kinds()
    assert "state" in kinds and "checkpoint" in kinds


def test_an_id_in_a_store_and_the_new_recording_beside_it(tmp_path: Path) -> None:
    """By id (or prefix) in a store: the re-execution is recorded into that same store."""
    store = tmp_path / "store"
    with record_workflow("s", store=str(store)) as rec:
        fetch("a")
    with reexecute(rec.recording_id[:12], store=str(store)) as rx:
        fetch("a")
    infos = open_store(str(store)).list()
    assert {i.recording_id for i in infos} == {rec.recording_id, rx.recording_id}
    assert rx.report.identical


def test_a_thing_without_a_path_is_refused(tmp_path: Path) -> None:
    """reexecute() given neither a path nor an id nor something with a path: TypeError."""
    with pytest.raises(TypeError, match="not int"):
        reexecute(42)


class ChainedError(Exception):
    pass


@node
def wraps_error() -> None:
    try:
        raise ValueError("inner cause")
    except ValueError as exc:
        raise ChainedError("outer") from exc


def test_a_served_error_keeps_its_cause_chain(tmp_path: Path) -> None:
    """A recorded error's causes come back as its __cause__ chain, so the run's error is
    recorded the same."""
    original = tmp_path / "o.jsonl.zst"
    with pytest.raises(ChainedError), record_workflow("e", path=str(original)):
        wraps_error()
    with pytest.raises(ChainedError) as info, \
            reexecute(original, record_to=tmp_path / "n.jsonl.zst") as rx:
        wraps_error()
    assert isinstance(info.value.__cause__, ValueError)
    assert str(info.value.__cause__) == "inner cause"
    assert rx.report.identical, rx.report.to_text()
    assert any("recorded traceback" in n for n in info.value.__notes__)


def job(topic: str, where: str) -> str:
    """A workflow function that records itself (its own record_workflow inside)."""
    with record_workflow("job", path=where, inputs={"topic": topic}):
        return fetch(topic)


def test_a_workflow_that_records_itself_joins_the_reexecution(tmp_path: Path) -> None:
    """record_workflow inside a re-execution joins it: one new recording, the calls
    inside served, nothing written where the inner record_workflow points."""
    original = tmp_path / "o.jsonl.zst"
    assert job("a", str(original)) == "<a>"
    CALLS.clear()
    inner = tmp_path / "inner.jsonl.zst"
    with reexecute(original, record_to=tmp_path / "n.jsonl.zst") as rx:
        assert job("a", str(inner)) == "<a>"
    assert CALLS == []
    assert not inner.exists()
    assert rx.report.identical, rx.report.to_text()

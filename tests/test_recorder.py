"""The recorder: record_workflow, @node, spans, state, payload handling, where files go."""

from __future__ import annotations

import asyncio
import copy
import inspect
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import recording_files
from hypothesis import given
from strategies import apply_mutation, json_dicts, mutation_sequences, strict_equal

from recorder import (
    DEFAULT_REDACT_KEYS,
    REDACTED,
    ExecutionRecorder,
    RecorderError,
    get_current_recorder,
    node,
    record_workflow,
)
from storage import FlowtapeError, apply_patch

Read = Callable[..., Any]


class Opaque:
    """A value msgspec cannot encode."""

    def __repr__(self) -> str:
        return "Opaque()"


class BadRepr:
    """A value whose repr itself fails."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def is_placeholder(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"$repr", "$type"}


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


# --- record_workflow: start, outcome, footer ---------------------------------------------------
def test_sync_workflow_records_start_and_complete(store: Path, read: Read) -> None:
    """A workflow that returns writes workflow_start, workflow_complete and a completed footer."""
    with record_workflow("etl", store=store, tags=["nightly", "v2"]) as rec:
        assert isinstance(rec, ExecutionRecorder)
    r = read(rec)
    assert r.kinds() == ["workflow_start", "workflow_complete"]
    assert r.header.workflow == "etl"
    assert r.header.tags == ["nightly", "v2"]
    assert r.header.recording_id == rec.recording_id
    assert r.events[0].node == "etl"
    assert r.events[1].span == 0
    assert r.status == "completed"
    assert r.footer.event_count == 2
    assert r.footer.error is None


def test_async_workflow_records_start_and_complete(store: Path, read: Read) -> None:
    """`async with record_workflow` records the same events as the sync form."""
    async def main() -> ExecutionRecorder:
        async with record_workflow("etl", store=store) as rec:
            await asyncio.sleep(0)
            rec.checkpoint("half")
        return rec

    rec = asyncio.run(main())
    r = read(rec)
    assert r.kinds() == ["workflow_start", "checkpoint", "workflow_complete"]
    assert r.status == "completed"


def test_a_string_tag_is_one_tag(store: Path, read: Read) -> None:
    """tags="x" means one tag "x", not three one-letter tags."""
    with record_workflow("etl", store=store, tags="nightly") as rec:
        pass
    assert read(rec).header.tags == ["nightly"]


def test_workflow_error_reraises_the_same_exception(store: Path, read: Read) -> None:
    """The workflow's exception leaves record_workflow unchanged, and is recorded as failed."""
    boom = ValueError("bad row")
    with pytest.raises(ValueError) as info, record_workflow("etl", store=store) as rec:
        raise boom
    assert info.value is boom
    r = read(rec)
    assert r.kinds() == ["workflow_start", "workflow_error"]
    err = r.events[-1].data["error"]
    assert err["type"] == "ValueError"
    assert err["message"] == "bad row"
    assert "raise boom" in err["traceback"]
    assert r.status == "failed"
    assert r.footer.error["type"] == "ValueError"
    assert r.footer.error["message"] == "bad row"


def test_async_workflow_error_reraises_the_same_exception(store: Path, read: Read) -> None:
    """Under `async with`, the exception also propagates as the same object."""
    boom = KeyError("missing")

    async def main() -> None:
        async with record_workflow("etl", store=store):
            raise boom

    with pytest.raises(KeyError) as info:
        asyncio.run(main())
    assert info.value is boom
    [path] = recording_files(store)
    assert read(path).status == "failed"


def test_error_payload_carries_the_cause_chain(store: Path, read: Read) -> None:
    """An error payload lists the chain of causes (``raise ... from ...``)."""
    with pytest.raises(ValueError), record_workflow("etl", store=store) as rec:
        try:
            raise KeyError("inner")
        except KeyError as exc:
            raise ValueError("outer") from exc
    err = read(rec).events[-1].data["error"]
    assert [c["type"] for c in err["causes"]] == ["KeyError"]


def test_cancelled_error_records_cancelled(store: Path, read: Read) -> None:
    """A task cancelled inside the recording re-raises CancelledError and records cancelled."""
    started = asyncio.Event()

    async def workflow() -> None:
        async with record_workflow("etl", store=store):
            started.set()
            await asyncio.sleep(3600)

    async def main() -> None:
        task = asyncio.create_task(workflow())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    [path] = recording_files(store)
    r = read(path)
    assert r.status == "cancelled"
    assert r.kinds()[-1] == "workflow_error"
    assert r.events[-1].data["status"] == "cancelled"


def test_timeout_error_records_timed_out(store: Path, read: Read) -> None:
    """A TimeoutError leaving the recording (asyncio.timeout) records timed_out."""
    async def main() -> ExecutionRecorder:
        async with record_workflow("etl", store=store) as rec:
            async with asyncio.timeout(0):
                await asyncio.sleep(3600)
        return rec

    with pytest.raises(TimeoutError):
        asyncio.run(main())
    [path] = recording_files(store)
    r = read(path)
    assert r.status == "timed_out"
    assert r.events[-1].data["error"]["type"] == "TimeoutError"


def test_sync_timeout_error_records_timed_out(store: Path, read: Read) -> None:
    """A plain TimeoutError raised by sync code records timed_out too."""
    with pytest.raises(TimeoutError), record_workflow("etl", store=store) as rec:
        raise TimeoutError("slow upstream")
    assert read(rec).status == "timed_out"


def test_workflow_inputs_and_entry_go_to_the_header(store: Path, read: Read) -> None:
    """inputs= and entry= land in the header (inputs redacted) and on workflow_start."""
    with record_workflow("etl", store=store, inputs={"q": 1, "token": "t"},
                         entry="pkg.mod:run") as rec:
        pass
    r = read(rec)
    assert r.header.inputs == {"q": 1, "token": REDACTED}
    assert r.header.entry == "pkg.mod:run"
    assert r.events[0].data == {"inputs": {"q": 1, "token": REDACTED}}


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"codec": "lz4"}, "codec"),
    ({"sample_rate": 1.5}, "sample_rate"),
    ({"sample_rate": -0.1}, "sample_rate"),
    ({"keep": "sometimes"}, "keep"),
    ({"max_payload_bytes": 1}, "max_payload_bytes"),
])
def test_bad_options_are_refused_up_front(kwargs: dict[str, Any], error: str) -> None:
    """A bad option raises RecorderError (a ValueError) naming it, before anything is recorded."""
    with pytest.raises(RecorderError, match=error) as info:
        record_workflow("etl", **kwargs)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("redact", "patterns"), [(42, None), (None, ["(unclosed"])])
def test_bad_redact_options_are_refused_up_front(redact: Any, patterns: Any) -> None:
    """redact= must be names or a callable, redact_patterns= valid regexes: else RecorderError."""
    with pytest.raises(RecorderError, match="redact"):
        record_workflow("etl", redact=redact, redact_patterns=patterns)


@pytest.mark.parametrize("codec", ["zstd", "gzip", "none"])
def test_every_codec_reads_back(codec: str, store: Path, read: Read) -> None:
    """Recordings in each codec get their suffix and read back the same."""
    with record_workflow("etl", store=store, codec=codec) as rec:
        rec.event("e", {"n": 1})
    assert rec.path is not None
    assert rec.path.endswith({"zstd": ".jsonl.zst", "gzip": ".jsonl.gz", "none": ".jsonl"}[codec])
    r = read(rec)
    assert r.header.codec == codec
    assert r.kinds() == ["workflow_start", "custom", "workflow_complete"]


def test_nested_recordings_are_separate(store: Path, read: Read) -> None:
    """A recording inside another records into its own file; the outer is current again after."""
    with record_workflow("outer", store=store) as outer:
        with record_workflow("inner", store=store) as inner:
            assert get_current_recorder() is inner
            double(1)
        assert get_current_recorder() is outer
        double(2)
    assert read(inner).kinds() == ["workflow_start", "node_start", "node_complete",
                                   "workflow_complete"]
    r = read(outer)
    assert r.kinds() == ["workflow_start", "node_start", "node_complete", "workflow_complete"]
    assert r.events[1].data == {"inputs": {"x": 2}}


# --- @node ---------------------------------------------------------------------------------
@node
def double(x: int) -> int:
    return 2 * x


@node("planner", node_type="agent")
def plan(task: str, *, depth: int = 1) -> dict[str, Any]:
    return {"task": task, "depth": depth}


@node
def echo(value: Any) -> Any:
    return value


@node()
def bare_parens(x: int) -> int:
    return x


@node(node_type="tool")
async def fetch(url: str) -> list[str]:
    await asyncio.sleep(0)
    return [url]


@node
async def async_double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


def test_node_without_arguments(store: Path, read: Read) -> None:
    """@node records start (bound arguments) and complete (the return value)."""
    with record_workflow("etl", store=store) as rec:
        assert double(21) == 42
    start, done = read(rec).of_kind("node_start", "node_complete")
    assert start.node == "double"
    assert start.data == {"inputs": {"x": 21}}
    assert start.attempt == 1
    assert done.data == {"outputs": 42}
    assert done.node == "double"
    assert done.span == start.seq


def test_node_with_name_and_type(store: Path, read: Read) -> None:
    """@node("planner", node_type="agent") records that id and the node type."""
    with record_workflow("etl", store=store) as rec:
        plan("write", depth=3)
    start = read(rec).of_kind("node_start")[0]
    assert start.node == "planner"
    assert start.data == {"inputs": {"task": "write", "depth": 3}, "node_type": "agent"}


def test_node_with_empty_parentheses_uses_the_qualname(store: Path, read: Read) -> None:
    """@node() names the node after the function."""
    with record_workflow("etl", store=store) as rec:
        bare_parens(1)
    assert read(rec).of_kind("node_start")[0].node == "bare_parens"


def test_async_node(store: Path, read: Read) -> None:
    """An async @node stays a coroutine function and records like a sync one."""
    assert inspect.iscoroutinefunction(fetch)

    async def main() -> list[str]:
        async with record_workflow("etl", store=store):
            return await fetch("https://example.org")

    assert asyncio.run(main()) == ["https://example.org"]
    [path] = recording_files(store)
    start, done = read(path).of_kind("node_start", "node_complete")
    assert start.data == {"inputs": {"url": "https://example.org"}, "node_type": "tool"}
    assert done.data == {"outputs": ["https://example.org"]}


def test_node_returns_exactly_what_the_function_returns(store: Path) -> None:
    """The wrapper hands back the very object the function returned, recording or not."""
    sentinel = object()

    @node
    def give() -> object:
        return sentinel

    @node
    async def agive() -> object:
        return sentinel

    assert give() is sentinel
    assert asyncio.run(agive()) is sentinel
    with record_workflow("etl", store=store):
        assert give() is sentinel
        assert asyncio.run(agive()) is sentinel


def test_node_raises_exactly_what_the_function_raises(store: Path, read: Read) -> None:
    """A node's exception propagates as the same object and is recorded as node_error."""
    boom = RuntimeError("nope")

    @node
    def fail() -> None:
        raise boom

    with record_workflow("etl", store=store) as rec:
        with pytest.raises(RuntimeError) as info:
            fail()
        assert info.value is boom
    start, err = read(rec).of_kind("node_start", "node_error")
    assert err.span == start.seq
    assert err.data["error"]["type"] == "RuntimeError"
    assert read(rec).status == "completed"  # the workflow caught it


def test_node_keeps_the_function_metadata() -> None:
    """@node keeps the wrapped function's name, docstring and signature."""
    @node
    def documented(a: int, b: int = 2) -> int:
        """Adds."""
        return a + b

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Adds."
    assert list(inspect.signature(documented).parameters) == ["a", "b"]


def test_node_inputs_are_the_bound_arguments(store: Path, read: Read) -> None:
    """Inputs name positional, keyword and extra arguments; defaults not passed are left out."""
    @node
    def f(a: int, b: int = 2, *rest: int, **kw: int) -> None:
        return None

    class Agent:
        @node
        def act(self, goal: str) -> str:
            return goal

    with record_workflow("etl", store=store) as rec:
        f(1)
        f(1, 3, 4, 5, c=6)
        Agent().act("win")
    starts = read(rec).of_kind("node_start")
    assert [s.data["inputs"] for s in starts] == [
        {"a": 1},
        {"a": 1, "b": 3, "rest": [4, 5], "c": 6},
        {"goal": "win"},
    ]


def test_node_outside_a_recording_just_calls(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """With no recording active, @node calls the function and writes nothing."""
    monkeypatch.chdir(tmp_path)
    assert get_current_recorder() is None
    assert double(2) == 4
    assert asyncio.run(async_double(2)) == 4
    assert list(tmp_path.iterdir()) == []


def test_attempts_count_retries_under_the_same_parent(store: Path, read: Read) -> None:
    """A node that fails twice then succeeds under one parent gets attempts 1, 2, 3."""
    calls = {"n": 0}

    @node
    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionError("try again")
        return "ok"

    with record_workflow("etl", store=store) as rec:
        for _ in range(3):
            try:
                flaky()
                break
            except ConnectionError:
                pass
        flaky()  # a fresh execution after a success starts over
    r = read(rec)
    assert [(e.kind, e.attempt) for e in r.of_kind("node_start", "node_error", "node_complete")] \
        == [("node_start", 1), ("node_error", 1), ("node_start", 2), ("node_error", 2),
            ("node_start", 3), ("node_complete", 3), ("node_start", 1), ("node_complete", 1)]


def test_a_call_with_other_inputs_is_not_a_retry(store: Path, read: Read) -> None:
    """After a failure, a call with different inputs starts at attempt 1; the same inputs retry."""
    @node
    def fetch(url: str) -> str:
        if url == "a":
            raise ConnectionError(url)
        return url

    with record_workflow("etl", store=store) as rec:
        with pytest.raises(ConnectionError):
            fetch("a")
        fetch("b")
        with pytest.raises(ConnectionError):
            fetch("a")
        with pytest.raises(ConnectionError):
            fetch("a")
    starts = read(rec).of_kind("node_start")
    assert [(e.data["inputs"]["url"], e.attempt) for e in starts] == [
        ("a", 1), ("b", 1), ("a", 2), ("a", 3)]


def test_attempts_are_counted_per_parent(store: Path, read: Read) -> None:
    """A failure under one parent does not raise the attempt number under another."""
    @node("child")
    def child() -> None:
        raise ValueError("x")

    @node
    def parent_a() -> None:
        with pytest.raises(ValueError):
            child()

    @node
    def parent_b() -> None:
        with pytest.raises(ValueError):
            child()

    with record_workflow("etl", store=store) as rec:
        parent_a()
        parent_b()
    attempts = [e.attempt for e in read(rec).events if e.kind == "node_start" and e.node == "child"]
    assert attempts == [1, 1]


def test_parents_and_spans_through_nested_nodes(store: Path, read: Read) -> None:
    """Each start's parent is the enclosing span's start; ends point at their start."""
    @node("leaf")
    def leaf(i: int) -> int:
        return i

    @node("middle")
    def middle() -> int:
        return leaf(1) + leaf(2)

    @node("top")
    def top() -> int:
        return middle()

    with record_workflow("etl", store=store) as rec:
        top()
        leaf(3)
    r = read(rec)
    by_seq = {e.seq: e for e in r.events}
    starts = {e.seq: e for e in r.of_kind("node_start")}
    names = {seq: e.node for seq, e in starts.items()}
    parents = [(e.node, names.get(e.parent, by_seq[e.parent].kind)) for e in starts.values()]
    assert parents == [("top", "workflow_start"), ("middle", "top"), ("leaf", "middle"),
                       ("leaf", "middle"), ("leaf", "workflow_start")]
    for e in r.of_kind("node_complete"):
        assert by_seq[e.span].kind == "node_start"
        assert by_seq[e.span].node == e.node
        assert e.parent == by_seq[e.span].parent
    assert r.footer.counts.nodes == 5


def test_events_inside_a_node_nest_under_it(store: Path, read: Read) -> None:
    """Checkpoints, custom events and snapshots inside a node have the node as parent."""
    with record_workflow("etl", store=store) as rec:
        @node
        def work() -> None:
            rec.checkpoint("inside")
            rec.event("note")
            rec.snapshot({"a": 1})

        work()
    r = read(rec)
    start = r.of_kind("node_start")[0]
    assert {e.kind: e.parent for e in r.of_kind("checkpoint", "custom", "state")} == {
        "checkpoint": start.seq, "custom": start.seq, "state": start.seq}


# --- teams and recursion -------------------------------------------------------------------------
def test_team_members_and_messages(store: Path, read: Read) -> None:
    """A team span holds member spans; messages nest in the member that sent them."""
    with record_workflow("etl", store=store) as rec, \
            rec.team("research", formation="pipeline", members=["a", "b"]) as team:
        with team.member("a"):
            team.message("a", "b", {"text": "hi"})
        with team.member("b", role="critic"):
            double(1)
        team.output = {"answer": 42}
    r = read(rec)
    assert r.kinds() == ["workflow_start", "team_start", "team_member_start", "team_message",
                         "team_member_complete", "team_member_start", "node_start",
                         "node_complete", "team_member_complete", "team_complete",
                         "workflow_complete"]
    ts, ma, msg, ma_end, mb, ns, _, mb_end, tc, _ = r.events[1:]
    assert ts.node == "research"
    assert ts.data == {"member_count": 2, "formation": "pipeline", "members": ["a", "b"]}
    assert (ma.node, ma.parent, ma.data) == ("a", ts.seq, {"team": "research"})
    assert mb.data == {"team": "research", "role": "critic"}
    assert (msg.node, msg.parent) == ("research", ma.seq)
    assert msg.data == {"from": "a", "to": "b", "message": {"text": "hi"}}
    assert (ma_end.span, mb_end.span, tc.span) == (ma.seq, mb.seq, ts.seq)
    assert ns.parent == mb.seq
    assert tc.data == {"success": True, "outputs": {"answer": 42}}
    assert r.footer.counts.teams == 1
    assert r.footer.counts.messages == 1


def test_team_that_raises_records_failure(store: Path, read: Read) -> None:
    """An exception leaving a team closes it with success false and the error."""
    with record_workflow("etl", store=store) as rec, pytest.raises(ValueError), \
            rec.team("crew"):
        raise ValueError("mutiny")
    tc = read(rec).of_kind("team_complete")[0]
    assert tc.data["success"] is False
    assert tc.data["error"]["message"] == "mutiny"


def test_async_team(store: Path, read: Read) -> None:
    """A team is also an async context manager."""
    async def main() -> ExecutionRecorder:
        async with record_workflow("etl", store=store) as rec, \
                rec.team("crew", members=["x"]) as team:
            team.message("x", "x", "self-talk")
        return rec

    r = read(asyncio.run(main()))
    assert r.kinds()[1:4] == ["team_start", "team_message", "team_complete"]


def test_recursion_tracks_depth(store: Path, read: Read) -> None:
    """Recursion levels nest, carry their depth, and the footer keeps the maximum."""
    with record_workflow("etl", store=store) as rec:
        def search(n: int) -> None:
            with rec.recursion("search", f"n{n}"):
                double(n)
                if n < 3:
                    search(n + 1)

        search(1)
        double(0)
    r = read(rec)
    enters = r.of_kind("recursion_enter")
    assert [(e.node, e.depth) for e in enters] == [("n1", 1), ("n2", 2), ("n3", 3)]
    assert [e.data for e in enters] == [{"operation": "search"}] * 3
    assert [enters[i].parent for i in (1, 2)] == [enters[0].seq, enters[1].seq]
    assert [e.depth for e in r.of_kind("node_start")] == [1, 2, 3, 0]
    exits = r.of_kind("recursion_exit")
    assert sorted(e.span for e in exits) == [e.seq for e in enters]
    assert all(e.depth == next(s for s in enters if s.seq == e.span).depth for e in exits)
    assert r.footer.counts.max_depth == 3


# --- checkpoints and custom events ---------------------------------------------------------------
def test_checkpoint_and_custom_events(store: Path, read: Read) -> None:
    """checkpoint() and event() record data.name and, when given, data.value."""
    with record_workflow("etl", store=store) as rec:
        rec.checkpoint("loaded", {"rows": 10})
        rec.event("cache_miss", "key-1")
        rec.event("tick")
    cp, c1, c2 = read(rec).of_kind("checkpoint", "custom")
    assert (cp.kind, cp.data) == ("checkpoint", {"name": "loaded", "value": {"rows": 10}})
    assert (c1.kind, c1.data) == ("custom", {"name": "cache_miss", "value": "key-1"})
    assert c2.data == {"name": "tick"}


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


# --- record_* switches ---------------------------------------------------------------------------
def test_inputs_outputs_and_state_can_be_switched_off(store: Path, read: Read) -> None:
    """record_inputs/outputs/state_snapshots=False leave those payloads out."""
    with record_workflow("etl", store=store, record_inputs=False, record_outputs=False,
                         record_state_snapshots=False) as rec:
        double(1)
        assert rec.snapshot({"a": 1}) is None
    r = read(rec)
    assert r.kinds() == ["workflow_start", "node_start", "node_complete", "workflow_complete"]
    assert [e.data for e in r.events] == [None, None, None, None]
    assert r.header.config["record_inputs"] is False


# --- values that cannot be encoded ---------------------------------------------------------------
def _cycle() -> dict[str, Any]:
    d: dict[str, Any] = {"a": 1}
    d["self"] = d
    return d


def _list_cycle() -> list[Any]:
    lst: list[Any] = [1]
    lst.append(lst)
    return lst


@pytest.mark.parametrize("make", [
    Opaque, BadRepr, lambda: {Opaque()},
    _cycle, _list_cycle, lambda: [Opaque(), {"deep": {frozenset({1}): 2}}],
    lambda: {"fn": print, "gen": (i for i in range(3))},
], ids=["object", "bad-repr", "set-of-objects", "dict-cycle", "list-cycle", "nested",
        "callables"])
def test_unencodable_values_become_placeholders(make: Callable[[], Any], store: Path,
                                                read: Read) -> None:
    """Values msgspec cannot encode are recorded as {"$repr", "$type"} and never raise."""
    value = make()
    with record_workflow("etl", store=store) as rec:
        assert echo(value) is value
        rec.event("e", value)
        rec.snapshot({"v": value})
        rec.checkpoint("c", value)
    r = read(rec)
    assert r.status == "completed"
    assert r.footer.degraded == []
    recorded = [r.of_kind("node_start")[0].data["inputs"]["value"],
                r.of_kind("node_complete")[0].data["outputs"],
                r.of_kind("custom")[0].data["value"],
                r.of_kind("state")[0].state["v"],
                r.of_kind("checkpoint")[0].data["value"]]
    for got in recorded:
        assert got == recorded[0]
        assert _has_placeholder(got), got


def _has_placeholder(value: Any) -> bool:
    if is_placeholder(value):
        return True
    if isinstance(value, dict):
        return any(_has_placeholder(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_placeholder(v) for v in value)
    return False


def test_placeholder_names_the_type(store: Path, read: Read) -> None:
    """A placeholder holds the value's repr and its module-qualified type."""
    with record_workflow("etl", store=store) as rec:
        rec.event("e", Opaque())
        rec.event("f", BadRepr())
    a, b = (e.data["value"] for e in read(rec).of_kind("custom"))
    assert a == {"$repr": "Opaque()", "$type": f"{__name__}.Opaque"}
    assert b["$type"] == f"{__name__}.BadRepr"


def test_a_cycle_is_cut_with_a_placeholder(store: Path, read: Read) -> None:
    """A self-referencing dict is recorded up to the cycle, which becomes a placeholder."""
    with record_workflow("etl", store=store) as rec:
        rec.event("e", _cycle())
    value = read(rec).of_kind("custom")[0].data["value"]
    assert value["a"] == 1
    assert is_placeholder(value["self"])


def test_numbers_keys_and_rich_types_are_kept(store: Path, read: Read) -> None:
    """Int keys, big ints, bytes and tuples are encoded, not replaced by placeholders."""
    with record_workflow("etl", store=store) as rec:
        rec.event("e", {"big": 2**70, "ints": {1: "a"}, "t": (1, 2), "b": b"\x00"})
    assert read(rec).of_kind("custom")[0].data["value"] == {
        "big": 2**70, "ints": {"1": "a"}, "t": [1, 2], "b": "AA=="}


# --- payload size limit --------------------------------------------------------------------------
def test_oversized_payloads_are_truncated_and_noted(store: Path, read: Read) -> None:
    """A payload over max_payload_bytes becomes {"$truncated", "$preview"}, noted in dropped."""
    big = "x" * 5000

    @node
    def load(blob: str) -> str:
        return blob

    with record_workflow("etl", store=store, max_payload_bytes=1024) as rec:
        load(big)
        rec.event("e", {"blob": big})
        rec.event("small", {"n": 1})
    r = read(rec)
    start, done = r.of_kind("node_start", "node_complete")
    custom = r.of_kind("custom")[0]
    for payload in (start.data["inputs"], done.data["outputs"], custom.data["value"]):
        assert set(payload) == {"$truncated", "$preview"}
        assert payload["$truncated"] > 5000
        assert payload["$preview"].startswith(("{", '"x'))
        assert len(payload["$preview"]) < 1024
    assert r.of_kind("custom")[1].data == {"name": "small", "value": {"n": 1}}
    assert len(r.footer.dropped) == 3
    assert all("truncated" in note for note in r.footer.dropped)
    assert r.status == "completed"


def test_oversized_state_is_truncated_and_the_next_one_is_a_keyframe(store: Path,
                                                                     read: Read) -> None:
    """An oversized state is truncated and noted; the next snapshot starts a fresh keyframe."""
    with record_workflow("etl", store=store, max_payload_bytes=1024) as rec:
        rec.snapshot({"a": 1, "pad": "p" * 100})
        rec.snapshot({"a": 2, "pad": "p" * 100, "blob": "x" * 5000})
        rec.snapshot({"a": 3, "pad": "p" * 100})
    r = read(rec)
    s0, s1, s2 = r.of_kind("state")
    assert set(s1.state) == {"$truncated", "$preview"}
    assert s2.state == {"a": 3, "pad": "p" * 100}
    assert len(r.footer.dropped) == 1
    assert r.footer.index.keyframes == [s0.seq, s1.seq, s2.seq]


# --- redaction -----------------------------------------------------------------------------------
def test_default_keys_are_masked_at_any_depth_ignoring_case(store: Path, read: Read) -> None:
    """password, secret, token, api_key, authorization, cookie... are masked anywhere."""
    assert {"password", "secret", "token", "api_key", "authorization", "cookie"} \
        <= set(DEFAULT_REDACT_KEYS)
    payload = {
        "user": "ann", "Password": "hunter2",
        "headers": [{"Authorization": "Bearer x", "Accept": "*/*"}, ("COOKIE", "c")],
        "cfg": {"db": {"API_KEY": "k", "Token": {"nested": "too"}}, "secret": None},
        "tokens": 3,
    }
    with record_workflow("etl", store=store) as rec:
        rec.event("e", payload)
        rec.snapshot(payload)
        echo({"token": "t"})
    r = read(rec)
    want = {
        "user": "ann", "Password": REDACTED,
        "headers": [{"Authorization": REDACTED, "Accept": "*/*"}, ["COOKIE", REDACTED]],
        "cfg": {"db": {"API_KEY": REDACTED, "Token": REDACTED}, "secret": REDACTED},
        "tokens": 3,
    }
    assert r.of_kind("custom")[0].data["value"] == want
    assert r.of_kind("state")[0].state == want
    assert r.of_kind("node_start")[0].data["inputs"] == {"value": {"token": REDACTED}}


def test_a_redact_set_replaces_the_default_keys(store: Path, read: Read) -> None:
    """redact={"ssn"} masks ssn (any case) and no longer masks password."""
    with record_workflow("etl", store=store, redact={"ssn"}) as rec:
        rec.event("e", {"SSN": "123", "password": "p", "x": [{"ssn": 1}]})
    assert read(rec).of_kind("custom")[0].data["value"] == {
        "SSN": REDACTED, "password": "p", "x": [{"ssn": REDACTED}]}


def test_an_empty_redact_set_masks_nothing(store: Path, read: Read) -> None:
    """redact=set() turns key masking off."""
    with record_workflow("etl", store=store, redact=set()) as rec:
        rec.event("e", {"password": "p"})
    assert read(rec).of_kind("custom")[0].data["value"] == {"password": "p"}


def test_redact_callable_is_called_once_per_payload_with_its_path(store: Path,
                                                                  read: Read) -> None:
    """redact=callable gets (path, whole value) once per payload and its result is recorded."""
    calls: list[tuple[str, Any]] = []

    def scrub(path: str, value: Any) -> Any:
        calls.append((path, copy.deepcopy(value)))
        if isinstance(value, dict) and "email" in value:
            return {**value, "email": "***"}
        return value

    @node
    def fail(user: dict[str, Any]) -> None:
        raise ValueError("no")

    with record_workflow("etl", store=store, redact=scrub, inputs={"run": 1}) as rec:
        double(4)
        rec.event("e", {"email": "a@b", "n": 1})
        rec.snapshot({"email": "c@d"})
        with pytest.raises(ValueError):
            fail({"email": "e@f"})
    assert [p for p, _ in calls] == ["inputs", "inputs", "outputs", "data", "state", "inputs",
                                     "error"]
    assert calls[1] == ("inputs", {"x": 4})
    assert calls[2] == ("outputs", 8)
    assert calls[3] == ("data", {"email": "a@b", "n": 1})
    r = read(rec)
    assert r.of_kind("custom")[0].data["value"] == {"email": "***", "n": 1}
    assert r.of_kind("state")[0].state == {"email": "***"}
    assert r.of_kind("node_start")[1].data["inputs"] == {"user": {"email": "e@f"}}  # not top level


def test_redact_callable_still_masks_default_keys(store: Path, read: Read) -> None:
    """With a callable, the default secret keys are still masked in what it returns."""
    with record_workflow("etl", store=store, redact=lambda path, value: value) as rec:
        rec.event("e", {"password": "p"})
    assert read(rec).of_kind("custom")[0].data["value"] == {"password": REDACTED}


def test_a_failing_redact_callable_withholds_the_payload(store: Path, read: Read,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """If redact= raises, the payload is withheld (not recorded unmasked) and the run goes on."""
    def broken(path: str, value: Any) -> Any:
        raise RuntimeError("oops")

    with record_workflow("etl", store=store, redact=broken) as rec:
        rec.event("e", {"password": "hunter2"})
    value = read(rec).of_kind("custom")[0].data["value"]
    assert "hunter2" not in str(value)
    assert read(rec).status == "completed"
    assert any("redact" in m for m in caplog.messages)


def test_masking_never_touches_the_callers_objects(store: Path) -> None:
    """The caller's dicts and lists keep their secrets; only the recording is masked."""
    payload = {"password": "p", "inner": [{"token": "t"}], "cfg": {"cookie": "c"}}
    before = copy.deepcopy(payload)
    inner_list = payload["inner"]

    @node
    def use(cfg: dict[str, Any]) -> dict[str, Any]:
        return cfg

    with record_workflow("etl", store=store) as rec:
        assert use(payload) is payload
        rec.event("e", payload)
        rec.snapshot(payload)
        rec.checkpoint("c", payload)
    assert payload == before
    assert payload["inner"] is inner_list


# --- current recorder, where files go ------------------------------------------------------------
def test_get_current_recorder_inside_and_outside(store: Path) -> None:
    """get_current_recorder() is the recording's recorder inside, None outside."""
    assert get_current_recorder() is None
    with record_workflow("etl", store=store) as rec:
        assert get_current_recorder() is rec

        @node
        def probe() -> Any:
            return get_current_recorder()

        assert probe() is rec

        async def in_task() -> Any:
            return await asyncio.create_task(_current())

        assert asyncio.run(in_task()) is rec
    assert get_current_recorder() is None


async def _current() -> Any:
    return get_current_recorder()


def test_flowtape_store_is_read_when_a_recording_starts(tmp_path: Path, read: Read,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """$FLOWTAPE_STORE set after import decides where a recording without store= goes."""
    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("FLOWTAPE_STORE", str(first))
    with record_workflow("etl") as a:
        pass
    monkeypatch.setenv("FLOWTAPE_STORE", str(second))
    with record_workflow("etl") as b:
        pass
    assert recording_files(first) == [a.path]
    assert recording_files(second) == [b.path]
    assert read(b).status == "completed"


def test_default_store_is_dot_recordings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without store= or $FLOWTAPE_STORE, recordings go to ./recordings."""
    monkeypatch.delenv("FLOWTAPE_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    with record_workflow("etl") as rec:
        pass
    assert recording_files(tmp_path / "recordings") == [rec.path]


def test_path_writes_exactly_there(tmp_path: Path, read: Read,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """path= puts the file at exactly that name, codec suffix or not, and nowhere else."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLOWTAPE_STORE", raising=False)
    target = tmp_path / "out" / "my-run.log"
    target.parent.mkdir()
    with record_workflow("etl", path=str(target), codec="gzip") as rec:
        pass
    assert rec.path == str(target)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["my-run.log"]
    assert read(str(target)).header.codec == "gzip"


def test_path_refuses_to_overwrite(tmp_path: Path, read: Read) -> None:
    """A second recording to an existing path= leaves the first intact and does not raise."""
    target = tmp_path / "run.jsonl.zst"
    with record_workflow("first", path=str(target)):
        pass
    with record_workflow("second", path=str(target)):
        pass
    assert read(str(target)).header.workflow == "first"


@pytest.mark.parametrize("how", ["store", "path", "keep-failure"])
def test_recording_files_are_owner_only(how: str, tmp_path: Path) -> None:
    """Recording files are created mode 0600 whatever the umask."""
    old = os.umask(0)
    try:
        if how == "store":
            with record_workflow("etl", store=tmp_path) as rec:
                pass
        elif how == "path":
            with record_workflow("etl", path=str(tmp_path / "r.jsonl.zst")) as rec:
                pass
        else:
            with pytest.raises(ValueError), \
                    record_workflow("etl", store=tmp_path, keep="failure") as rec:
                raise ValueError
    finally:
        os.umask(old)
    assert rec.path is not None
    assert stat.S_IMODE(os.stat(rec.path).st_mode) == 0o600


def test_recorder_errors_are_flowtape_errors() -> None:
    """RecorderError sits under FlowtapeError."""
    assert issubclass(RecorderError, FlowtapeError)


def test_events_after_the_end_are_dropped(store: Path, read: Read) -> None:
    """Events sent to a finished recording are ignored: its file stays as closed, and a
    recording opened since (which may reuse the file descriptor) is untouched."""
    with record_workflow("first", store=store) as first:
        pass
    before = Path(first.path).read_bytes()
    with record_workflow("second", store=store) as second:
        rec_late = first
        assert rec_late.event("late", {"n": 1}) == -1
        with rec_late.team("t"):
            rec_late.checkpoint("c")
        handle = rec_late.node_start("late-node")
        rec_late.node_end(handle, exc=RuntimeError("urgent: flushes at once"))
        second.event("mine")
    assert Path(first.path).read_bytes() == before
    assert first.metadata.event_count == 2
    r = read(second)
    assert r.kinds() == ["workflow_start", "custom", "workflow_complete"]


# --- retries, team outcomes, tracebacks ----------------------------------------------------------
def test_retry_key_is_the_inputs_as_captured_at_the_call(store: Path, read: Read) -> None:
    """A node that mutates its input and raises is a retry when called again the same way."""
    @node
    def call(messages: list[str]) -> None:
        messages.append("scratch")
        raise ConnectionError("down")

    base = ["hello"]
    with record_workflow("etl", store=store) as rec:
        for _ in range(2):
            with pytest.raises(ConnectionError):
                call(list(base))
    assert [e.attempt for e in read(rec).of_kind("node_start")] == [1, 2]


@pytest.mark.parametrize(("exc", "status"), [
    (ValueError("member broke"), "failed"),
    (asyncio.CancelledError(), "cancelled"),
    (TimeoutError("too slow"), "timed_out"),
])
def test_team_and_member_ends_carry_the_outcome(exc: BaseException, status: str, store: Path,
                                                read: Read) -> None:
    """A member (and its team) whose body raised records status and error, like a node end."""
    with pytest.raises(type(exc)), record_workflow("etl", store=store) as rec, \
            rec.team("crew", members=["a"]) as team:
        with team.member("a"):
            pass
        with team.member("b"):
            raise exc
    r = read(rec)
    ok, bad = r.of_kind("team_member_complete")
    assert ok.data is None or "status" not in ok.data
    assert bad.data["status"] == status
    assert bad.data["error"]["type"] == type(exc).__qualname__
    end = r.of_kind("team_complete")[0]
    assert end.data["success"] is False
    assert end.data["status"] == status
    assert end.data["error"]["type"] == type(exc).__qualname__


def test_a_completed_team_has_no_status_key(store: Path, read: Read) -> None:
    """status is omitted when the team and its members completed."""
    with record_workflow("etl", store=store) as rec, rec.team("crew") as team, \
            team.member("a"):
        pass
    r = read(rec)
    assert "status" not in (r.of_kind("team_member_complete")[0].data or {})
    assert r.of_kind("team_complete")[0].data == {"success": True}


def test_recorded_tracebacks_leave_out_the_node_wrapper(store: Path, read: Read) -> None:
    """A node error's traceback starts at the user's code, not flowtape's wrapper frame."""
    @node
    def inner() -> None:
        raise KeyError("k")

    @node
    def outer() -> None:
        inner()

    with pytest.raises(KeyError), record_workflow("etl", store=store) as rec:
        outer()
    r = read(rec)
    wrapper_file = os.path.join("recorder", "_node.py")
    for e in r.of_kind("node_error", "workflow_error"):
        tb = e.data["error"]["traceback"]
        assert "raise KeyError" in tb
        assert wrapper_file not in tb, tb

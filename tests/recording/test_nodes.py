"""@node: what a call records (inputs, outputs, errors, attempts, parents), and retries."""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import recording_files
from recording_nodes import async_double, bare_parens, double, fetch, plan

from recorder import (
    get_current_recorder,
    node,
    record_workflow,
)

Read = Callable[..., Any]


# --- @node ---------------------------------------------------------------------------------
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

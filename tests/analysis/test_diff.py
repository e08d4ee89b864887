"""Comparing two runs (SPEC §6): alignment, value diffs, ignore rules, timing, state, reports.

Every recording is made with the public recorder API; the diff is read
back through `storage.diff_recordings` (the engine) or `replayer.diff`.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from recorder import get_current_recorder, node, record_workflow
from replayer import Replayer, diff, print_report
from storage import DiffOptions, LogReader, RegressionPolicy, diff_recordings
from storage.analysis.align import align
from storage.analysis.valuediff import IgnoreRules, ValueDiffer

SPEC_KEYS = ["identical", "regression", "first_divergence", "steps", "only_in_a", "only_in_b",
             "input_changes", "output_changes", "error_changes", "state_changes",
             "timing_regressions", "metadata"]


def record(path: Path, body: Callable[[Any], None], name: str = "wf") -> str:
    """Run ``body(rec)`` inside ``record_workflow(name, path=path)``; returns the path."""
    with record_workflow(name, path=str(path)) as rec:
        body(rec)
    return str(path)


def steps_named(n: int) -> list[Callable[[int], dict[str, Any]]]:
    """``n`` distinct nodes ``step_00`` … returning a small nested dict."""
    def make(i: int) -> Callable[[int], dict[str, Any]]:
        @node(f"step_{i:02d}")
        def step(x: int) -> dict[str, Any]:
            return {"result": {"score": 0.5, "x": x}}
        return step
    return [make(i) for i in range(n)]


STEPS = steps_named(40)


@node("extra")
def extra() -> str:
    return "inserted"


def ops(d: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in d.steps:
        out[s.op] = out.get(s.op, 0) + 1
    return out


# --- alignment of node executions --------------------------------------------------------------
def test_one_inserted_node_is_exactly_one_only_in_b(tmp_path: Path) -> None:
    """A node inserted in the middle of a 40-node run is one only_in_b; nothing else differs."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: [s(i) for i, s in enumerate(STEPS)])

    def with_extra(rec: Any) -> None:
        for i, s in enumerate(STEPS):
            if i == 20:
                extra()
            s(i)

    b = record(tmp_path / "b.jsonl.zst", with_extra)
    d = diff_recordings(a, b)
    assert d.only_in_b == ["extra"]
    assert d.only_in_a == []
    assert ops(d) == {"equal": 40, "only_in_b": 1}
    assert d.first_divergence is not None
    assert d.first_divergence.position == 20
    assert d.first_divergence.a is None and d.first_divergence.b.node == "extra"
    assert not d.identical and d.regression


def test_one_removed_node_is_exactly_one_only_in_a(tmp_path: Path) -> None:
    """A node missing from the middle of a 40-node run is one only_in_a; the rest pair equal."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: [s(i) for i, s in enumerate(STEPS)])
    b = record(tmp_path / "b.jsonl.zst",
               lambda rec: [s(i) for i, s in enumerate(STEPS) if i != 17])
    d = diff_recordings(a, b)
    assert d.only_in_a == ["step_17"]
    assert d.only_in_b == []
    assert ops(d) == {"equal": 39, "only_in_a": 1}


def test_swapped_pair_is_reported_as_a_move_not_as_changes(tmp_path: Path) -> None:
    """Two neighbours swapped: one only_in_a and one only_in_b of the same node, zero changed."""
    order = list(range(40))
    order[10], order[11] = order[11], order[10]
    a = record(tmp_path / "a.jsonl.zst", lambda rec: [s(i) for i, s in enumerate(STEPS)])
    b = record(tmp_path / "b.jsonl.zst", lambda rec: [STEPS[i](i) for i in order])
    d = diff_recordings(a, b)
    assert ops(d) == {"equal": 39, "only_in_a": 1, "only_in_b": 1}
    assert d.only_in_a == d.only_in_b
    assert d.only_in_a[0] in ("step_10", "step_11")
    assert d.moved == d.only_in_a
    assert "moved" in d.to_text()


@node("work")
def work(item: int) -> int:
    return item * 2


def test_loop_with_one_extra_iteration_pairs_the_rest_equal(tmp_path: Path) -> None:
    """A loop running one more iteration in the middle: one only_in_b, every other equal."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: [work(i) for i in range(12)])
    b = record(tmp_path / "b.jsonl.zst",
               lambda rec: [work(i) for i in [0, 1, 2, 3, 4, 100, 5, 6, 7, 8, 9, 10, 11]])
    d = diff_recordings(a, b)
    assert ops(d) == {"equal": 12, "only_in_b": 1}
    only = next(s for s in d.steps if s.op == "only_in_b")
    assert d.steps.index(only) == 5


def test_repeated_identical_iteration_is_one_only_in_b(tmp_path: Path) -> None:
    """A retried iteration with the same inputs (a loop calling work(4) twice) is one only_in_b."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: [work(i) for i in range(8)])
    b = record(tmp_path / "b.jsonl.zst",
               lambda rec: [work(i) for i in [0, 1, 2, 3, 4, 4, 5, 6, 7]])
    d = diff_recordings(a, b)
    assert ops(d) == {"equal": 8, "only_in_b": 1}


def test_changed_input_pairs_as_changed_not_as_add_and_remove(tmp_path: Path) -> None:
    """An execution whose inputs changed still pairs with its counterpart, as one change."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: [work(i) for i in range(6)])
    b = record(tmp_path / "b.jsonl.zst", lambda rec: [work(i) for i in [0, 1, 2, 30, 4, 5]])
    d = diff_recordings(a, b)
    assert ops(d) == {"equal": 5, "changed": 1}
    paths = {(c.node, c.path, c.a, c.b) for c in d.input_changes}
    assert paths == {("work", "inputs.item", 3, 30)}
    assert {(c.path, c.a, c.b) for c in d.output_changes} == {("outputs", 6, 60)}


@node("outer")
def outer(n: int) -> int:
    for i in range(n):
        work(i)
    return n


def test_nesting_is_part_of_the_key(tmp_path: Path) -> None:
    """Children align under their parent: a node inserted inside `outer` is one only_in_b there."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: (outer(3), work(99)))

    def b_body(rec: Any) -> None:
        outer(3)
        work(99)

    b = record(tmp_path / "b.jsonl.zst", b_body)
    assert diff_recordings(a, b).identical
    c = record(tmp_path / "c.jsonl.zst", lambda rec: (outer(4), work(99)))
    d = diff_recordings(a, c)
    assert d.only_in_b == ["work"]
    changed = [s for s in d.steps if s.op == "changed"]
    assert [s.node for s in changed] == ["outer"]  # its input n and output changed
    # The inserted child sits among outer's children, before the top-level work(99).
    nodes = [(s.op, s.node) for s in d.steps]
    assert nodes.index(("only_in_b", "work")) < nodes.index(("equal", "work"), 4)


def test_team_and_member_spans_take_part(tmp_path: Path) -> None:
    """A team that only B ran shows up, with its members, as only_in_b."""
    def base(rec: Any) -> None:
        work(1)

    def with_team(rec: Any) -> None:
        work(1)
        with rec.team("research", formation="pair", members=["alice", "bob"]) as team:
            with team.member("alice"):
                team.message("alice", "bob", "hi")
            with team.member("bob"):
                work(2)

    a = record(tmp_path / "a.jsonl.zst", base)
    b = record(tmp_path / "b.jsonl.zst", with_team)
    d = diff_recordings(a, b)
    assert d.only_in_b == ["research", "alice", "bob", "work"]
    assert d.only_in_a == []


# --- value diffs, ignore rules, tolerance --------------------------------------------------------
@node("score")
def score(value: float, request_id: str = "r-1") -> dict[str, Any]:
    return {"result": {"score": value, "label": "ok"}, "request_id": request_id}


def test_changed_nested_output_reports_path_and_both_values(tmp_path: Path) -> None:
    """outputs.result.score: 0.91 -> 0.87, and nothing else."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: (work(1), score(0.91), work(2)))
    b = record(tmp_path / "b.jsonl.zst", lambda rec: (work(1), score(0.87), work(2)))
    d = diff_recordings(a, b)
    assert ops(d) == {"equal": 2, "changed": 1}
    assert [(c.node, c.path, c.a, c.b) for c in d.output_changes] == [
        ("score", "outputs.result.score", 0.91, 0.87)]
    assert d.input_changes[0].path == "inputs.value"
    step = d.steps[1]
    assert step.op == "changed" and step.node == "score"
    assert {c.path for c in step.changes} == {"inputs.value", "outputs.result.score"}
    assert "outputs.result.score: 0.91 -> 0.87" in d.to_text()


@pytest.mark.parametrize("rules", [
    ["inputs.value", "outputs.result.score"],
    ["*.score", "*value"],
    ["sc*:outputs.result", "score:inputs"],
    ["score:*"],
])
def test_ignoring_the_changed_path_makes_runs_equal(tmp_path: Path, rules: list[str]) -> None:
    """Exact paths, globs and node-prefixed globs all hide the change."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: (work(1), score(0.91), work(2)))
    b = record(tmp_path / "b.jsonl.zst", lambda rec: (work(1), score(0.87), work(2)))
    d = diff_recordings(a, b, ignore=rules, compare_timing=False)  # no timing noise here
    assert d.identical
    assert not d.regression
    assert ops(d) == {"equal": 3}


def test_node_prefixed_rule_leaves_other_nodes_alone(tmp_path: Path) -> None:
    """``other:*`` does not hide a change in ``score``."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: score(0.91))
    b = record(tmp_path / "b.jsonl.zst", lambda rec: score(0.87))
    assert diff_recordings(a, b, ignore=["other*:*"]).regression


def test_ignored_inputs_still_align_concurrent_calls(tmp_path: Path) -> None:
    """A per-run request id in the inputs, ignored, does not stop executions pairing as equal."""
    a = record(tmp_path / "a.jsonl.zst",
               lambda rec: [score(v, request_id=f"a{v}") for v in (0.1, 0.2, 0.3)])
    b = record(tmp_path / "b.jsonl.zst",
               lambda rec: [score(v, request_id=f"b{v}") for v in (0.1, 0.2, 0.3)])
    assert diff_recordings(a, b).regression
    d = diff_recordings(a, b, ignore=["*.request_id"])
    assert d.identical, d.to_text()


def test_numeric_tolerance_absolute_and_relative(tmp_path: Path) -> None:
    """Numbers within the absolute or relative tolerance are equal; beyond it they are not."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: score(100.0))
    b = record(tmp_path / "b.jsonl.zst", lambda rec: score(100.5))
    assert diff_recordings(a, b).regression
    assert diff_recordings(a, b, numeric_tolerance=0.5).identical
    assert diff_recordings(a, b, numeric_tolerance=0.4).regression
    assert diff_recordings(a, b, relative_tolerance=0.01).identical
    assert diff_recordings(a, b, relative_tolerance=0.001).regression


def test_options_whole_or_by_keyword(tmp_path: Path) -> None:
    """DiffOptions given whole, as keywords or both (keywords win) compare alike; a bad value
    is a ValueError and an unknown keyword a TypeError."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: score(1.0))
    b = record(tmp_path / "b.jsonl.zst", lambda rec: score(1.01))
    whole = diff(a, b, DiffOptions(numeric_tolerance=0.05))
    assert whole.identical
    assert diff(a, b, numeric_tolerance=0.05).to_dict() == whole.to_dict()
    assert not diff(a, b, DiffOptions(numeric_tolerance=0.05), numeric_tolerance=0).identical
    assert DiffOptions(ignore="*.x").ignore == ("*.x",)
    for bad in ({"timing_tolerance": 0.5}, {"min_timing_ns": -1}, {"numeric_tolerance": -1}):
        with pytest.raises(ValueError, match="must be >="):
            DiffOptions(**bad)
    with pytest.raises(TypeError, match="no_such_option"):
        diff_recordings(a, b, no_such_option=1)


def test_value_differ_paths_and_types() -> None:
    """Paths use dots and [i]; odd keys are bracketed JSON; bool is not a number; 1 == 1.0."""
    differ = ValueDiffer()
    a = {"messages": [{"content": "hi"}, {"content": "x"}], "a.b": 1, "n": 1, "flag": True}
    b = {"messages": [{"content": "hi"}, {"content": "y"}, {"content": "z"}], "a.b": 2,
         "n": 1.0, "flag": 1}
    got = differ.diff(a, b, "inputs")
    assert got == [
        ("inputs.messages[1].content", "x", "y"),
        ("inputs.messages[2]", msgspec.UNSET, {"content": "z"}),
        ('inputs["a.b"]', 1, 2),
        ("inputs.flag", True, 1),
    ]


def test_ignore_rule_grammar() -> None:
    """``*`` crosses dots, a rule covers its subtree, a node glob narrows it, [i] is literal."""
    rules = IgnoreRules(["*.timestamp", "state.cache", "fetch_*:outputs.headers",
                         "inputs.messages[0]"])
    assert rules.ignored("x", "outputs.a.b.timestamp")
    assert rules.ignored(None, "state.cache.hits")
    assert not rules.ignored(None, "state.cachet")
    assert rules.ignored("fetch_user", "outputs.headers.date")
    assert not rules.ignored("parse", "outputs.headers")
    assert not rules.ignored(None, "outputs.headers")  # state paths have no node
    assert rules.ignored("n", "inputs.messages[0].content")
    assert not rules.ignored("n", "inputs.messages[1]")
    with pytest.raises(ValueError, match="no path"):
        IgnoreRules(["fetch:"])


# --- timing ---------------------------------------------------------------------------------------
def sleeper(name: str) -> Callable[[float], None]:
    @node(name)
    def nap(seconds: float = 0.0) -> None:
        if seconds:
            time.sleep(seconds)
    return nap


SLOW = sleeper("slow")
QUICK = sleeper("quick")


def test_timing_regression_and_noise(tmp_path: Path) -> None:
    """8x slower and >5 ms longer is a regression; µs noise is not; compare_timing=False: off."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: (QUICK(), SLOW(0.004), QUICK()))
    b = record(tmp_path / "b.jsonl.zst", lambda rec: (QUICK(), SLOW(0.032), QUICK()))
    d = diff_recordings(a, b, ignore=["slow:inputs"])
    slow = [t for t in d.timing_regressions if t.node == "slow"]
    assert len(slow) == 1
    t = slow[0]
    assert t.b_ns > t.a_ns and t.ratio > 1.5
    assert d.identical  # timing is not a behavioural difference ...
    assert d.regression  # ... but it is a regression by default
    assert not d.is_regression(RegressionPolicy(timing=False))
    off = diff_recordings(a, b, ignore=["slow:inputs"], compare_timing=False)
    assert off.timing_regressions == [] and not off.regression
    # Slower by less than min_timing_ns (here 1 s) is noise, whatever the ratio: the quick
    # nodes' microsecond jitter and even the slow node's ~28 ms are not reported.
    noise = diff_recordings(a, b, ignore=["slow:inputs"], min_timing_ns=10**9)
    assert noise.timing_regressions == [] and not noise.regression
    lenient = diff_recordings(a, b, ignore=["slow:inputs"], timing_tolerance=1000.0)
    assert all(t.node != "slow" for t in lenient.timing_regressions)


# --- errors, status, state, metadata ------------------------------------------------------------
@node("parse")
def parse(text: str, fail: bool = False) -> int:
    if fail:
        raise ValueError(f"bad token in {text!r}")
    return len(text)


def test_node_that_now_raises_is_an_error_regression(tmp_path: Path) -> None:
    """The error change names the exception type and message; errors-only policy still counts it."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: parse("abc"))

    def failing(rec: Any) -> None:
        with contextlib.suppress(ValueError):
            parse("abc", fail=True)

    b = record(tmp_path / "b.jsonl.zst", failing)
    d = diff_recordings(a, b, ignore=["parse:inputs.fail"])
    got = {c.path: c.b for c in d.error_changes if c.node == "parse"}
    assert got["error.type"] == "ValueError"
    assert got["error.message"] == "bad token in 'abc'"
    assert d.first_divergence is not None and d.first_divergence.b.status == "failed"
    assert d.is_regression(RegressionPolicy.only("errors", "status"))
    text = d.to_text()
    assert "ValueError" in text and "bad token" in text


def test_worse_status_and_metadata_deltas(tmp_path: Path) -> None:
    """A run that now fails: status, counts and the workflow's own error are reported."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: (work(1), work(2)))
    b_path = tmp_path / "b.jsonl.zst"
    with pytest.raises(RuntimeError), record_workflow("wf", path=str(b_path)):
        work(1)
        raise RuntimeError("disk full")
    d = diff_recordings(a, b_path)
    m = d.metadata
    assert (m.status.a, m.status.b) == ("completed", "failed")
    assert (m.node_count.a, m.node_count.b) == (2, 1)
    assert m.event_count.a == m.event_count.b + 2
    assert m.duration_ns.a > 0 and m.duration_ns.b > 0
    assert d.status_worse
    assert d.is_regression(RegressionPolicy.only("status"))
    assert not d.is_regression(RegressionPolicy.only("inputs", "outputs"))
    assert ("wf", "error.type", "RuntimeError") in {
        (c.node, c.path, c.b) for c in d.error_changes}
    with pytest.raises(ValueError, match="choose from"):
        RegressionPolicy.only("speed")


@node("count")
def count(hits: int) -> int:
    rec = get_current_recorder()
    assert rec is not None
    STATE["cache"]["hits"] += hits
    rec.snapshot(STATE)
    return hits


STATE: dict[str, Any] = {}


def test_state_changes_at_end_and_at_first_divergence(tmp_path: Path) -> None:
    """Final state differences by path, and the state right after the first divergent step."""
    def run(hits: int) -> Callable[[Any], None]:
        def body(rec: Any) -> None:
            STATE.clear()
            STATE.update({"cache": {"hits": 0}, "items": []})
            for i in range(4):
                count(hits if i == 2 else 1)
                STATE["items"].append(i)
                rec.snapshot(STATE)
        return body

    a = record(tmp_path / "a.jsonl.zst", run(1))
    b = record(tmp_path / "b.jsonl.zst", run(3))
    d = diff_recordings(a, b)
    assert [(c.path, c.a, c.b) for c in d.state_changes.at_end] == [("state.cache.hits", 4, 6)]
    assert d.first_divergence is not None and d.first_divergence.position == 2
    # The snapshot inside count() is part of the step: hits 3 vs 5 right after it.
    assert [(c.path, c.a, c.b) for c in d.state_changes.at_first_divergence] == [
        ("state.cache.hits", 3, 5)]
    assert diff_recordings(a, b, ignore=["state.cache.*", "count:*"]).identical
    assert not diff_recordings(a, b, ignore=["count:*"]).identical


def test_workflow_inputs_are_compared_without_a_step(tmp_path: Path) -> None:
    """The run's own inputs are compared too (under the workflow's name); it is not a step."""
    paths = []
    for x in (1, 2):
        path = tmp_path / f"{x}.jsonl.zst"
        with record_workflow("wf", path=str(path), inputs={"x": x}):
            work(1)
        paths.append(path)
    d = diff_recordings(*paths)
    assert [(c.node, c.path, c.a, c.b) for c in d.input_changes] == [("wf", "inputs.x", 1, 2)]
    assert [s.op for s in d.steps] == ["equal"]
    assert not d.identical and d.regression and d.first_divergence is None


def test_open_readers_are_accepted_and_left_open(tmp_path: Path) -> None:
    """LogReader objects work as inputs; the diff does not close them."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: work(1))
    with LogReader.open(a) as ra, LogReader.open(a) as rb:
        assert diff_recordings(ra, rb).identical
        assert ra.read_frame(0)  # still usable


# --- concurrency ----------------------------------------------------------------------------------
@node("fetch")
async def fetch(i: int) -> dict[str, int]:
    return {"item": i}


@node("store")
async def store_item(i: int, data: dict[str, int]) -> bool:
    return True


#: Per-branch delays of the current run (kept out of the nodes' inputs, which must match).
DELAYS: dict[int, float] = {}


@node("branch")
async def branch_node(i: int) -> int:
    await asyncio.sleep(DELAYS.get(i, 0.0))
    data = await fetch(i)
    await asyncio.sleep(DELAYS.get(i, 0.0))
    await store_item(i, data)
    return i


async def loose_branch(i: int) -> None:
    await asyncio.sleep(DELAYS.get(i, 0.0))
    data = await fetch(i)
    await asyncio.sleep(DELAYS.get(i, 0.0))
    await store_item(i, data)


def record_async(path: Path, delays: list[float]) -> str:
    DELAYS.clear()
    DELAYS.update(enumerate(delays))

    async def main() -> None:
        async with record_workflow("wf", path=str(path)):
            await fetch(-1)
            await asyncio.gather(*(loose_branch(i) for i in range(len(delays))))
            await asyncio.gather(*(branch_node(i) for i in range(len(delays))))
            await fetch(-2)

    asyncio.run(main())
    return str(path)


def test_concurrent_branches_with_different_interleaving_compare_identical(tmp_path: Path) -> None:
    """asyncio branches that finish in another order in B still pair one for one, equal."""
    a = record_async(tmp_path / "a.jsonl.zst", [0.001, 0.004, 0.007])
    b = record_async(tmp_path / "b.jsonl.zst", [0.007, 0.004, 0.001])
    with Replayer.open(a) as ra, Replayer.open(b) as rb:
        order_a = [(e.node, e.data["inputs"]["i"]) for e in ra.find(kind="node_start")]
        order_b = [(e.node, e.data["inputs"]["i"]) for e in rb.find(kind="node_start")]
    assert order_a != order_b  # the interleaving really differs
    d = diff_recordings(a, b, compare_timing=False)
    assert d.identical, d.to_text()
    assert ops(d) == {"equal": len(d.steps)}


def test_concurrent_branch_with_changed_input_pairs_as_changed(tmp_path: Path) -> None:
    """In a concurrent block, the branch whose data changed pairs with its counterpart."""
    async def run(path: Path, items: list[int]) -> None:
        DELAYS.clear()
        DELAYS.update({i: 0.001 * (3 - k) for k, i in enumerate(items)})
        async with record_workflow("wf", path=str(path)):
            await asyncio.gather(*(loose_branch(i) for i in items))

    asyncio.run(run(tmp_path / "a.jsonl.zst", [1, 2, 3]))
    asyncio.run(run(tmp_path / "b.jsonl.zst", [1, 20, 3]))
    d = diff_recordings(tmp_path / "a.jsonl.zst", tmp_path / "b.jsonl.zst")
    assert d.only_in_a == [] and d.only_in_b == []
    assert sorted(s.node for s in d.steps if s.op == "changed") == ["fetch", "store"]


# --- the report shapes ----------------------------------------------------------------------------
def test_to_dict_has_exactly_the_spec_keys_and_is_json(tmp_path: Path) -> None:
    """to_dict(): the §6 top-level keys in order; steps and changes have their documented keys."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: (work(1), score(0.9)))
    b = record(tmp_path / "b.jsonl.zst", lambda rec: (score(0.8), extra()))
    d = diff_recordings(a, b).to_dict()
    assert list(d) == SPEC_KEYS
    again = json.loads(json.dumps(d))
    assert again == d
    assert all(set(s) == {"op", "node", "a", "b", "changes"} for s in d["steps"])
    assert set(d["state_changes"]) == {"at_end", "at_first_divergence"}
    assert set(d["metadata"]) == {"status", "duration_ns", "event_count", "node_count"}
    assert all(set(v) == {"a", "b"} for v in d["metadata"].values())
    assert set(d["first_divergence"]) == {"position", "a", "b"}
    for key in ("input_changes", "output_changes", "error_changes"):
        assert all(set(c) <= {"node", "path", "a", "b"} and {"node", "path"} <= set(c)
                   for c in d[key])
    # An absent side is left out of {path, a, b}: extra() is only in B, work(1) only in A.
    assert d["only_in_a"] == ["work"] and d["only_in_b"] == ["extra"]


def test_diff_of_a_recording_with_itself_is_identical(tmp_path: Path) -> None:
    """Same file on both sides: identical, no regression, every step equal."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: (outer(3), score(0.5), rec.snapshot({"k": 1})))
    d = diff_recordings(a, a)
    assert d.identical and not d.regression and d.first_divergence is None
    assert ops(d) == {"equal": 5}
    assert d.to_text().startswith("flowtape diff: identical")


def test_replayer_diff_accepts_replayers_paths_and_ids(tmp_path: Path) -> None:
    """replayer.diff takes Replayer objects, file paths, and ids in a store."""
    store = tmp_path / "store"
    with record_workflow("wf", store=str(store)) as rec_a:
        work(1)
    with record_workflow("wf", store=str(store)) as rec_b:
        work(2)
    with Replayer.open(rec_a.path) as ra:
        by_obj = diff(ra, rec_b.path)
    by_id = diff(rec_a.recording_id, rec_b.recording_id[:20], store=str(store))
    assert by_obj.to_dict() == by_id.to_dict()
    assert by_id.a_recording.recording_id == rec_a.recording_id


def test_rich_report_shows_verdict_divergence_and_timing(tmp_path: Path) -> None:
    """The rich report names the verdict, the changed path with both values, and slow nodes."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: (score(0.91), SLOW()))
    b = record(tmp_path / "b.jsonl.zst", lambda rec: (score(0.87), SLOW(0.030), extra()))
    d = diff(a, b, ignore=["slow:inputs"])
    buf = io.StringIO()
    print_report(d, Console(file=buf, width=160, color_system=None))
    out = buf.getvalue()
    assert "REGRESSION" in out
    assert "First divergence" in out
    assert "outputs.result.score" in out and "0.91" in out and "0.87" in out
    assert "Timing regressions" in out and "slow" in out, (d.steps, d.timing_regressions, out)
    assert "only B" in out


def test_replayer_compare_keeps_the_published_shape(tmp_path: Path) -> None:
    """Replayer.compare: metadata_diff, node_diff sets (no workflow in common), path_diff."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: (work(1), score(0.5), parse("x")))
    b = record(tmp_path / "b.jsonl.zst", lambda rec: (work(1), extra(), parse("x")))
    with Replayer.open(a) as ra:
        got = ra.compare(b)
    assert set(got) == {"metadata_diff", "node_diff", "path_diff"}
    nd = got["node_diff"]
    assert nd == {"only_in_self": {"score"}, "only_in_other": {"extra"},
                  "common": {"work", "parse"}}
    assert got["path_diff"]["first_difference"] == {"position": 1, "self_node": "score",
                                                    "other_node": None}
    assert got["path_diff"]["self_path"] == ["work", "score", "parse"]
    md = got["metadata_diff"]
    assert md["node_count_diff"] == 0 and md["event_count_diff"] == 0
    assert isinstance(md["duration_diff"], float) and md["team_count_diff"] == 0


def test_bad_options_raise_value_error(tmp_path: Path) -> None:
    """Nonsense tolerances are refused before any reading."""
    a = record(tmp_path / "a.jsonl.zst", lambda rec: work(1))
    with pytest.raises(ValueError, match="timing_tolerance"):
        diff_recordings(a, a, timing_tolerance=0.5)
    with pytest.raises(ValueError, match="tolerances"):
        diff_recordings(a, a, numeric_tolerance=-1)


# --- the alignment itself -------------------------------------------------------------------------
items = st.lists(st.sampled_from("abcdef"), max_size=40)


@given(items)
def test_alignment_of_a_sequence_with_itself_is_all_pairs(seq: list[str]) -> None:
    """Aligning a sequence with itself pairs every item with itself."""
    assert align(seq, seq) == [(i, i) for i in range(len(seq))]


@given(items, st.lists(st.tuples(st.integers(0, 40), st.sampled_from("abcdefxyz")),
                       max_size=8))
def test_inserting_k_items_yields_exactly_k_only_in_b(seq: list[str],
                                                      inserts: list[tuple[int, str]]) -> None:
    """B = A with k items inserted anywhere: exactly k rows only in B, and every A item paired."""
    b = list(seq)
    for pos, item in inserts:
        b.insert(min(pos, len(b)), item)
    rows = align(seq, b)
    assert sum(1 for i, _ in rows if i is None) == len(inserts)
    assert all(j is not None for i, j in rows if i is not None)
    assert all(seq[i] == b[j] for i, j in rows if i is not None and j is not None)


@given(items, items)
def test_alignment_is_a_valid_in_order_matching(a: list[str], b: list[str]) -> None:
    """Every item appears once, pairs are equal, and indices increase on both sides."""
    rows = align(a, b)
    assert sorted(i for i, _ in rows if i is not None) == list(range(len(a)))
    assert sorted(j for _, j in rows if j is not None) == list(range(len(b)))
    pairs = [(i, j) for i, j in rows if i is not None and j is not None]
    assert all(a[i] == b[j] for i, j in pairs)
    assert pairs == sorted(pairs) and [j for _, j in pairs] == sorted(j for _, j in pairs)


@given(st.lists(st.integers(0, 3), min_size=1, max_size=30), st.integers(0, 29))
def test_fingerprints_prefer_equal_inputs(values: list[int], at: int) -> None:
    """Equal keys, distinct inputs: inserting one execution leaves all others paired as equal."""
    keys_a = ["work"] * len(values)
    prints_a = [("work", i, v) for i, v in enumerate(values)]
    at = min(at, len(values))
    prints_b = [*prints_a[:at], ("work", -1, 99), *prints_a[at:]]
    rows = align(keys_a, ["work"] * len(prints_b), prints_a, prints_b)
    paired = [(i, j) for i, j in rows if i is not None and j is not None]
    assert all(prints_a[i] == prints_b[j] for i, j in paired)
    assert len(paired) == len(values)

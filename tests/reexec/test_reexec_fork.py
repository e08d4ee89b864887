"""Forks: ``live_from`` and ``overrides`` branch a recorded run (SPEC §12).

A fork serves what was recorded before its point and lets the rest follow
from there; the original file is never changed; the fork's header names the
original (``replay_of``) and the point (``fork_seq``); the report shows the
consequences after the fork point only. Changing a pure node's code and
running it live shows exactly that node's change.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import pytest
import zstandard
from conftest import read_recording

from recorder import node, record_workflow, reexecute

RAN: Counter[str] = Counter()
#: What `render` does: changed between recording and re-execution, as a code fix would.
STYLE = {"upper": False}


@pytest.fixture(autouse=True)
def _fresh() -> Any:
    RAN.clear()
    STYLE["upper"] = False
    yield
    STYLE["upper"] = False


@node
def fetch(doc: str) -> str:
    RAN["fetch"] += 1
    return f"text of {doc}"


@node
def decide(text: str) -> str:
    RAN["decide"] += 1
    return "approve" if "a" in text else "reject"


@node
def act(decision: str) -> dict[str, Any]:
    RAN["act"] += 1
    return {"done": decision, "ticket": len(decision)}


@node
def render(result: dict[str, Any]) -> str:
    RAN["render"] += 1
    text = f"{result['done']} #{result['ticket']}"
    return text.upper() if STYLE["upper"] else text


@node
def search(query: str) -> list[str]:
    RAN["search"] += 1
    return [query + "!"]


@node
def plan(topic: str) -> list[list[str]]:
    RAN["plan"] += 1
    return [search(topic), search(topic + "2")]


def flow() -> str:
    text = fetch("a.txt")
    return render(act(decide(text)))


def record(tmp_path: Path, fn: Any = flow) -> tuple[Path, bytes]:
    path = tmp_path / "original.jsonl.zst"
    with record_workflow("review", path=str(path)):
        fn()
    RAN.clear()
    return path, hashlib.sha256(path.read_bytes()).digest()


def header_line(path: str | Path) -> dict[str, Any]:
    """The header line as written (with fields a reader's Header does not know yet)."""
    with open(path, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as f:
        first = f.read(65536).split(b"\n", 1)[0]
    return msgspec.json.decode(first)  # type: ignore[no-any-return]


def test_live_from_serves_before_and_runs_after(tmp_path: Path) -> None:
    """live_from=SEQ serves the calls recorded before SEQ and runs the rest for real."""
    original, digest = record(tmp_path)
    decide_seq = read_recording(original).of_kind("node_start")[1].seq
    with reexecute(original, live_from=decide_seq,
                   record_to=tmp_path / "fork.jsonl.zst") as rx:
        assert flow() == "approve #7"
    assert dict(RAN) == {"decide": 1, "act": 1, "render": 1}
    assert hashlib.sha256(original.read_bytes()).digest() == digest
    head = header_line(rx.path)
    assert head["replay_of"] == read_recording(original).header.recording_id
    assert head["fork_seq"] == decide_seq
    report = rx.report
    assert report.fork_seq == decide_seq and report.identical  # same code: same results
    assert report.sources == {"recorded": 1, "live": 3}


def test_an_override_forks_and_shows_only_its_consequences(tmp_path: Path) -> None:
    """overrides= serves the chosen value; the calls it changes run live; everything before
    the decision is served; the report shows only what changed after it."""
    original, digest = record(tmp_path)
    recorded = read_recording(original)
    decide_seq = recorded.of_kind("node_start")[1].seq
    with reexecute(original, overrides={"decide": "reject"},
                   record_to=tmp_path / "fork.jsonl.zst") as rx:
        assert flow() == "reject #6"
    assert dict(RAN) == {"act": 1, "render": 1}  # fetch served, decide overridden
    assert hashlib.sha256(original.read_bytes()).digest() == digest
    assert header_line(rx.path)["fork_seq"] == decide_seq
    report = rx.report
    assert not report.diverged and report.verdict == "changed"
    changed = {(c.node, c.path) for c in [*report.diff.input_changes,
                                          *report.diff.output_changes]}
    assert changed == {("decide", "outputs"), ("act", "inputs.decision"), ("act", "outputs.done"),
                       ("act", "outputs.ticket"), ("render", "inputs.result.done"),
                       ("render", "inputs.result.ticket"), ("render", "outputs")}
    steps = {s.node: s.op for s in report.diff.steps}
    assert steps["fetch"] == "equal"
    sources = [e.data["source"] for e in read_recording(rx.path).of_kind("node_complete")]
    assert sources == ["recorded", "override", "live", "live"]


def test_an_override_of_one_occurrence(tmp_path: Path) -> None:
    """"node#n" overrides the n-th recorded execution of the node only."""
    original, _ = record(tmp_path, lambda: (search("a"), search("b")))
    got: list[Any] = []
    with reexecute(original, overrides={"search#2": ["chosen"]},
                   record_to=tmp_path / "fork.jsonl.zst") as rx:
        got.extend([search("a"), search("b")])
    assert got == [["a!"], ["chosen"]]
    assert RAN["search"] == 0
    assert rx.report.sources == {"recorded": 1, "override": 1}


def test_a_fork_inside_a_node_runs_the_nodes_around_it(tmp_path: Path) -> None:
    """A fork point inside a node: that node runs live (so the calls inside it happen), its
    calls before the point are served and the ones after run live."""
    original, _ = record(tmp_path, lambda: plan("x"))
    second = read_recording(original).of_kind("node_start")[2]
    assert second.data["inputs"] == {"query": "x2"}
    with reexecute(original, live_from=second.seq,
                   record_to=tmp_path / "fork.jsonl.zst") as rx:
        assert plan("x") == [["x!"], ["x2!"]]
    assert dict(RAN) == {"plan": 1, "search": 1}
    assert rx.report.identical


def test_a_changed_pure_node_run_live_shows_exactly_its_change(tmp_path: Path) -> None:
    """After a code change in a downstream pure node, running that node live makes the
    report show that node's output change and nothing else."""
    original, _ = record(tmp_path)
    STYLE["upper"] = True  # "the fix"
    with reexecute(original, live=["render"], record_to=tmp_path / "n.jsonl.zst") as rx:
        assert flow() == "APPROVE #7"
    assert dict(RAN) == {"render": 1}
    d = rx.report.diff
    assert [(c.node, c.path, c.a, c.b) for c in d.output_changes] == [
        ("render", "outputs", "approve #7", "APPROVE #7")]
    assert d.input_changes == [] and d.error_changes == [] and d.only_in_a == []
    assert rx.report.verdict == "changed" and not rx.report.regressed

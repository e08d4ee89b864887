"""Divergence is found at the first call that differs, never later (SPEC §12).

Each kind — a reordered or extra call (``unexpected_call``), a changed input
(``inputs_changed``), one call too many (``exhausted``) — raises
`ReplayDivergenceError` at that call, naming the position in both runs, the
node and its nesting path, the differing input paths and the nearest recorded
executions; with ``on_divergence="live"`` the call runs and the report lists it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import read_recording

from recorder import (
    RecorderError,
    ReplayDivergenceError,
    node,
    record_workflow,
    reexecute,
)
from storage import RecordingNotFoundError

RAN: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def _fresh() -> None:
    RAN.clear()


@node
def fetch(url: str) -> str:
    RAN["fetch"] += 1
    return f"<{url}>"


@node
def parse(page: str) -> int:
    RAN["parse"] += 1
    return len(page)


@node
def search(query: str, limit: int = 2) -> list[str]:
    RAN["search"] += 1
    return [f"{query}:{i}" for i in range(limit)]


@node("plan")
def loop_plan(topic: str, rounds: int) -> list[list[str]]:
    RAN["plan"] += 1
    return [search(f"{topic}-{i}") for i in range(rounds)]


def record(tmp_path: Path, flow: Callable[[], Any]) -> Path:
    path = tmp_path / "original.jsonl.zst"
    with record_workflow("wf", path=str(path)):
        flow()
    RAN.clear()
    return path


def rerun(tmp_path: Path, original: Path, flow: Callable[[], Any], **options: Any) -> Any:
    with reexecute(original, record_to=tmp_path / "again.jsonl.zst", **options) as rx:
        flow()
    return rx


def raised(tmp_path: Path, original: Path, flow: Callable[[], Any],
           **options: Any) -> ReplayDivergenceError:
    with pytest.raises(ReplayDivergenceError) as info:
        rerun(tmp_path, original, flow, **options)
    return info.value


def test_a_reordered_call_raises_unexpected_call_where_it_happens(tmp_path: Path) -> None:
    """Sequential calls swapped: the first of them diverges, naming what the recording has."""
    original = record(tmp_path, lambda: (fetch("a"), parse("<a>")))
    err = raised(tmp_path, original, lambda: (parse("<a>"), fetch("a")))
    d = err.divergence
    assert (d.kind, d.node, d.path, d.occurrence) == ("unexpected_call", "parse", [], 1)
    assert d.seq == 1  # the first event after workflow_start: nothing ran before it
    assert d.recorded_seq == 3
    assert "out of order" in str(err) and "`fetch` (seq 1)" in str(err)
    assert d.candidates[0].node == "fetch" and d.candidates[0].seq == 1
    assert dict(RAN) == {}


def test_a_changed_input_raises_inputs_changed_with_the_path(tmp_path: Path) -> None:
    """Same call, other inputs: inputs_changed, with the differing §6 path and both values."""
    original = record(tmp_path, lambda: search("cats"))
    err = raised(tmp_path, original, lambda: search("dogs"))
    d = err.divergence
    assert (d.kind, d.node, d.recorded_seq) == ("inputs_changed", "search", 1)
    assert [(c.path, c.a, c.b) for c in d.input_changes] == [("inputs.query", "cats", "dogs")]
    assert 'inputs.query: "cats" -> "dogs"' in str(err)
    assert d.candidates[0].seq == 1 and d.candidates[0].differs == ["inputs.query"]
    assert RAN["search"] == 0


def test_the_three_nearest_recorded_executions_come_with_the_divergence(tmp_path: Path) -> None:
    """Of five recorded searches, the divergence names three: the one the recording has at
    this place first, then the others of the same node, closest inputs first (§12)."""
    original = record(tmp_path, lambda: (search("cats"), search("dogs", 3), search("cats", 9),
                                         search("owls", 4), search("eels", 5)))
    err = raised(tmp_path, original, lambda: search("cats", 3))
    d = err.divergence
    assert d.kind == "inputs_changed" and d.recorded_seq == 1
    assert [(c.seq, c.differs) for c in d.candidates] == [
        (1, ["inputs.limit"]),                     # what the recording has here
        (3, ["inputs.query"]),                     # one input differs
        (5, ["inputs.limit"]),                     # one input differs, later
    ]
    assert len(d.candidates) == 3
    assert all(c.node == "search" for c in d.candidates)
    listed = str(err).split("nearest recorded executions:\n")[1].splitlines()[:4]
    assert [line.split()[:2] for line in listed[:3]] == [["seq", "1"], ["seq", "3"], ["seq", "5"]]
    assert not listed[3].lstrip().startswith("seq")


def test_an_extra_call_raises_unexpected_call(tmp_path: Path) -> None:
    """A call the recording never made diverges at that call, after the matching ones ran."""
    original = record(tmp_path, lambda: fetch("a"))
    err = raised(tmp_path, original, lambda: (fetch("a"), parse("<a>")))
    d = err.divergence
    assert (d.kind, d.node, d.recorded_seq, d.seq) == ("unexpected_call", "parse", None, 3)
    assert "the recording has no call of `parse` at the top level of `wf`" in str(err)


def test_one_call_too_many_raises_exhausted(tmp_path: Path) -> None:
    """A third search under a plan that searched twice: exhausted, saying how many there are."""
    original = record(tmp_path, lambda: loop_plan("ai", 2))
    err = raised(tmp_path, original, lambda: loop_plan("ai", 3), live=["plan"])
    d = err.divergence
    assert (d.kind, d.node, d.path, d.occurrence, d.recorded_count) == (
        "exhausted", "search", ["plan"], 3, 2)
    assert "occurrence 3 of `search` under `plan`, the recording has 2" in str(err)
    assert "already served to the call at seq" in str(err)
    assert dict(RAN) == {"plan": 1}  # the live plan ran; its two searches were served


def test_a_live_node_runs_and_its_inner_calls_are_served(tmp_path: Path) -> None:
    """live= runs the node for real; the @node calls it makes are still served."""
    original = record(tmp_path, lambda: loop_plan("ai", 2))
    rx = rerun(tmp_path, original, lambda: loop_plan("ai", 2), live=["pl*"])
    assert dict(RAN) == {"plan": 1}
    assert rx.report.identical
    assert rx.report.sources == {"live": 1, "recorded": 2}
    new = read_recording(rx.path)
    assert [e.data["source"] for e in new.of_kind("node_complete")] == [
        "recorded", "recorded", "live"]


@pytest.mark.parametrize(("recorded", "changed", "kind"), [
    (lambda: (fetch("a"), parse("<a>")), lambda: (parse("<a>"), fetch("a")), "unexpected_call"),
    (lambda: search("cats"), lambda: search("dogs"), "inputs_changed"),
    (lambda: fetch("a"), lambda: (fetch("a"), parse("<a>")), "unexpected_call"),
], ids=["reordered", "changed-input", "extra-call"])
def test_on_divergence_live_runs_the_call_and_reports_it(
        tmp_path: Path, recorded: Callable[[], Any], changed: Callable[[], Any],
        kind: str) -> None:
    """With on_divergence="live" the run completes, the diverging call ran for real, and the
    report lists it with its kind."""
    original = record(tmp_path, recorded)
    rx = rerun(tmp_path, original, changed, on_divergence="live")
    report = rx.report
    assert report.diverged and report.verdict == "diverged"
    assert [(d.kind, d.action) for d in report.divergences] == [(kind, "live")]
    assert sum(RAN.values()) == 1
    assert report.status == "completed"
    assert report.divergences[0].message.splitlines()[0] in report.to_text()


def test_exhausted_under_live_runs_the_extra_call(tmp_path: Path) -> None:
    """The extra occurrence runs live and is listed; the recorded two are served."""
    original = record(tmp_path, lambda: loop_plan("ai", 2))
    rx = rerun(tmp_path, original, lambda: loop_plan("ai", 3), live=["plan"],
               on_divergence="live")
    assert dict(RAN) == {"plan": 1, "search": 1}
    assert [d.kind for d in rx.report.divergences] == ["exhausted"]
    assert rx.report.diff.only_in_b == ["search"]


def test_recorded_executions_never_asked_for_are_unused(tmp_path: Path) -> None:
    """A recorded call the new code no longer makes is listed as unused."""
    original = record(tmp_path, lambda: (fetch("a"), fetch("b"), parse("<b>")))
    rx = rerun(tmp_path, original, lambda: (fetch("a"), fetch("b")))
    report = rx.report
    assert [(u.node, u.seq, u.occurrence) for u in report.unused] == [("parse", 5, 1)]
    assert not report.diverged
    assert report.verdict == "changed"  # one node fewer, nothing failed
    assert "never asked for" in report.to_text()


def test_match_inputs_false_serves_a_call_whose_inputs_changed(tmp_path: Path) -> None:
    """match_inputs=False serves the recorded output of the same key whatever the inputs."""
    original = record(tmp_path, lambda: search("cats"))
    got: list[Any] = []
    rx = rerun(tmp_path, original, lambda: got.append(search("dogs")), match_inputs=False)
    assert got == [["cats:0", "cats:1"]]
    assert RAN["search"] == 0
    assert rx.report.divergences == []


def test_a_divergence_inside_a_live_node_names_its_nesting_path(tmp_path: Path) -> None:
    """A changed input deep inside is reported with the path of the executions around it."""
    original = record(tmp_path, lambda: loop_plan("ai", 1))
    err = raised(tmp_path, original, lambda: loop_plan("ml", 1), live=["plan"])
    d = err.divergence
    assert (d.kind, d.node, d.path) == ("inputs_changed", "search", ["plan"])
    assert "under `plan`" in str(err)


# --- bad options and inputs ---------------------------------------------------------------
def test_bad_options_are_refused_before_anything_runs(tmp_path: Path) -> None:
    """A bad option raises RecorderError naming it, and nothing is recorded."""
    original = record(tmp_path, lambda: fetch("a"))
    with pytest.raises(RecorderError, match="on_divergence must be 'raise' or 'live'"):
        reexecute(original, on_divergence="ignore")  # type: ignore[arg-type]
    with pytest.raises(RecorderError, match=r"live_from must be an event seq .* \(0 to 3\)"):
        reexecute(original, live_from=99)
    with pytest.raises(RecorderError, match="has no node 'fetc'; did you mean 'fetch'"):
        reexecute(original, overrides={"fetc": "x"})
    with pytest.raises(RecorderError, match="asks for execution 2 of 'fetch', but recording"):
        reexecute(original, overrides={"fetch#2": "x"})
    with pytest.raises(RecorderError, match=r"record_to: .*original\.jsonl\.zst exists"):
        reexecute(original, record_to=original)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["original.jsonl.zst"]


def test_a_missing_recording_is_a_clear_error(tmp_path: Path) -> None:
    """A path that does not exist raises RecordingNotFoundError naming it."""
    with pytest.raises(RecordingNotFoundError, match=r"nope\.jsonl\.zst"):
        reexecute(tmp_path / "nope.jsonl.zst")


def test_a_reexecution_runs_once(tmp_path: Path) -> None:
    """rx.recorder before the block, and entering the same Reexecution twice, are errors."""
    original = record(tmp_path, lambda: fetch("a"))
    rx = reexecute(original, record_to=tmp_path / "n.jsonl.zst")
    with pytest.raises(RecorderError, match="once the `with reexecute"):
        _ = rx.recorder
    with rx:
        fetch("a")
    with pytest.raises(RecorderError, match="runs once"), rx:
        pass


def test_the_report_waits_for_the_block_to_end(tmp_path: Path) -> None:
    """rx.report inside the block is an error that says when it is ready."""
    original = record(tmp_path, lambda: fetch("a"))
    with reexecute(original, record_to=tmp_path / "n.jsonl.zst") as rx:
        with pytest.raises(RecorderError, match="ready once the"):
            _ = rx.report
        fetch("a")
    assert rx.report.identical

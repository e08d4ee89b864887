"""The diff and what a recording does not know, or says only in its end events.

A payload over ``max_payload_bytes`` is recorded as a ``$truncated`` stand-in:
its value is unknown, so the diff reports the stand-in's path once, says
which side is unknown, and never lists ``$truncated``/``$preview`` as if
they were keys of the real value. Team members and teams say how they ended
in their end events (``status``, ``error``; a team's ``success``), and a
cancelled run in its ``workflow_error``: the diff compares those outcomes.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from outcome_recordings import ALICE, error, team_run
from rich.console import Console

from recorder import node, record_workflow
from replayer import print_report
from storage import diff_recordings

LIMIT = 4096
BIG = {"rows": ["x" * 100] * 100}  # ~10 kB encoded: over LIMIT
OTHER_BIG = {"rows": ["y" * 100] * 120}


@node("load")
def load(rows: Any) -> Any:
    return rows


def record(path: Path, state: Any, output: Any) -> Path:
    with record_workflow("wf", path=str(path), max_payload_bytes=LIMIT) as rec:
        rec.snapshot(state)
        load(output)
    return path


def _no_stand_in_keys(d: Any) -> None:
    text = json.dumps(d.to_dict())
    assert '"path": "state.$' not in text and ".$truncated" not in text \
        and ".$preview" not in text, text


def test_truncated_state_on_one_side_is_unknown_not_changed_keys(tmp_path: Path) -> None:
    """A state truncated in B is one change at `state`, B unknown; no `$truncated` paths."""
    a = record(tmp_path / "a.jsonl.zst", {"n": 1, "cache": {"hits": 2}}, 1)
    b = record(tmp_path / "b.jsonl.zst", BIG, 1)
    d = diff_recordings(a, b)
    _no_stand_in_keys(d)
    (change,) = d.state_changes.at_end
    assert change.path == "state" and change.a == {"n": 1, "cache": {"hits": 2}}
    assert change.unknown == ["b"] and change.b["$truncated"] > LIMIT
    item = d.to_dict()["state_changes"]["at_end"][0]
    assert item["unknown"] == ["b"] and item["path"] == "state"
    assert d.regression and not d.identical
    assert "unknown" in d.to_text()


def test_same_truncated_state_on_both_sides_is_not_a_change(tmp_path: Path) -> None:
    """Equal stand-ins (same size, same preview) cannot be told apart: no change reported."""
    a = record(tmp_path / "a.jsonl.zst", BIG, 1)
    b = record(tmp_path / "b.jsonl.zst", BIG, 1)
    d = diff_recordings(a, b)
    assert d.state_changes.at_end == [] and d.identical


def test_different_truncated_states_are_unknown_on_both_sides(tmp_path: Path) -> None:
    """Stand-ins of different sizes: the values differ, and neither is known."""
    a = record(tmp_path / "a.jsonl.zst", BIG, 1)
    b = record(tmp_path / "b.jsonl.zst", OTHER_BIG, 1)
    d = diff_recordings(a, b)
    _no_stand_in_keys(d)
    (change,) = d.state_changes.at_end
    assert change.path == "state" and change.unknown == ["a", "b"]


def test_truncated_output_is_one_unknown_change(tmp_path: Path) -> None:
    """A node output truncated in B: one `outputs` change with B unknown, shown as such."""
    a = record(tmp_path / "a.jsonl.zst", {}, {"rows": ["x"]})
    b = record(tmp_path / "b.jsonl.zst", {}, BIG)
    d = diff_recordings(a, b)
    _no_stand_in_keys(d)
    assert [(c.node, c.path, c.unknown) for c in d.output_changes] == [
        ("load", "outputs", ["b"])]
    assert d.to_dict()["output_changes"][0]["unknown"] == ["b"]
    buf = io.StringIO()
    print_report(d, Console(file=buf, width=120, color_system=None))
    assert "unknown (truncated" in buf.getvalue()


# --- outcomes of members, teams and runs (9.7) -------------------------------------------
def test_member_that_failed_is_a_changed_step_with_its_error(tmp_path: Path) -> None:
    """alice failing in B: her step changed, her error reported, the divergence says failed."""
    a = team_run(tmp_path / "a.jsonl.zst")
    bad = error("ValueError", "bad draft")
    b = team_run(tmp_path / "b.jsonl.zst", alice={"status": "failed", "error": bad})
    d = diff_recordings(a, b)
    step = next(s for s in d.steps if s.node == "alice")
    assert step.op == "changed"
    assert {(c.path, c.b) for c in step.changes} >= {("error.type", "ValueError"),
                                                      ("error.message", "bad draft")}
    assert d.first_divergence is not None and d.first_divergence.b is not None
    assert (d.first_divergence.b.node, d.first_divergence.b.seq,
            d.first_divergence.b.status) == ("alice", ALICE, "failed")
    assert d.regression


def test_team_reporting_failure_without_an_error_is_a_change(tmp_path: Path) -> None:
    """A team whose end says only `success: false` differs from one that succeeded."""
    a = team_run(tmp_path / "a.jsonl.zst")
    b = team_run(tmp_path / "b.jsonl.zst", team={"success": False})
    d = diff_recordings(a, b)
    step = next(s for s in d.steps if s.node == "crew")
    assert step.op == "changed"
    assert [(c.path, c.b) for c in step.changes] == [("error.status", "failed")]
    assert ("crew", "error.status", "failed") in {(c.node, c.path, c.b)
                                                  for c in d.error_changes}
    assert d.first_divergence is not None and d.first_divergence.b is not None
    assert d.first_divergence.b.status == "failed"


def test_cancelled_and_timed_out_outcomes_are_compared(tmp_path: Path) -> None:
    """A member timed out in A and cancelled in B, with the same error: the status differs."""
    same = error("CancelledError", "")
    a = team_run(tmp_path / "a.jsonl.zst", bob={"status": "timed_out", "error": same})
    b = team_run(tmp_path / "b.jsonl.zst", bob={"status": "cancelled", "error": same})
    d = diff_recordings(a, b)
    assert [(c.node, c.path, c.a, c.b) for c in d.error_changes] == [
        ("bob", "error.status", "timed_out", "cancelled")]
    sides = d.first_divergence
    assert sides is not None and sides.a is not None and sides.b is not None
    assert (sides.a.status, sides.b.status) == ("timed_out", "cancelled")


def test_cancelled_run_is_compared_as_cancelled(tmp_path: Path) -> None:
    """The workflow's own outcome: completed in A, cancelled in B — status and error.status."""
    a = team_run(tmp_path / "a.jsonl.zst")
    gone = error("CancelledError", "")
    b = team_run(tmp_path / "b.jsonl.zst", status="cancelled",
                 workflow=("workflow_error", {"error": gone, "status": "cancelled"}))
    d = diff_recordings(a, b)
    assert (d.metadata.status.a, d.metadata.status.b) == ("completed", "cancelled")
    assert ("teamwork", "error.status", "cancelled") in {(c.node, c.path, c.b)
                                                         for c in d.error_changes}

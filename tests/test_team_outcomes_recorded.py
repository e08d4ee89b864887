"""A team member whose body raised, recorded through the public API, is failed everywhere.

Issue 9.7 end to end: the recorder writes the outcome into the member's and
the team's end events, and the spans, the exports and the diff read it from
there (tests/test_export_outcomes.py covers the readers on hand-made files).
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

from recorder import record_workflow
from replayer import Replayer, diff, export


def _run(path: Path, *, alice_fails: bool) -> None:
    with pytest.raises(ValueError) if alice_fails else contextlib.nullcontext(), \
            record_workflow("teamwork", path=str(path)) as rec, \
            rec.team("crew", formation="parallel", members=["alice", "bob"]) as team:
        with team.member("bob"):
            team.message("bob", "alice", "draft ready")
        with team.member("alice"):
            if alice_fails:
                raise ValueError("bad draft")


def test_a_member_that_raised_is_failed_in_spans_exports_and_the_diff(tmp_path: Path) -> None:
    """Spans, the DOT colours, the markdown path and the diff all call alice failed."""
    good, bad = tmp_path / "good.jsonl.zst", tmp_path / "bad.jsonl.zst"
    _run(good, alice_fails=False)
    _run(bad, alice_fails=True)
    with Replayer.open(bad) as r:
        status = {(s.kind, s.node): s.status for s in r.spans()}
        markdown, dot = export(r, "markdown"), export(r, "dot")
    assert status == {("workflow", "teamwork"): "failed", ("team", "crew"): "failed",
                      ("member", "bob"): "completed", ("member", "alice"): "failed"}
    path = re.findall(r"^\d+\. (?:\*\*)?(\w+) `([^`]*)` — (\w+)", markdown, flags=re.M)
    assert path == [("workflow", "teamwork", "failed"), ("team", "crew", "failed"),
                    ("member", "alice", "failed")]
    alice = re.search(r'^\s*s\d+ \[label="alice[^\n]*', dot, flags=re.M)
    assert alice is not None and "failed" in alice.group(0)
    with Replayer.open(good) as a, Replayer.open(bad) as b:
        d = diff(a, b, compare_timing=False)
    changed = {s.node for s in d.steps if s.op == "changed"}
    assert "alice" in changed and d.regression

"""How a run and its parts ended, as every export tells it.

Team members and teams carry their outcome in their end events (``status``,
``error``; a team's ``success``), and a cancelled or timed-out run says so in
its ``workflow_error`` (docs/format.md): the DOT colours, Mermaid classes,
Chrome trace statuses, the summary and the Markdown path to the error follow
them. A run whose recorder was SIGKILLed is ``incomplete`` — never "still
running" — while one whose writer is alive is ``running``.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from outcome_recordings import ALICE, BOB, DRAFT, TEAM, WORKFLOW, error, team_run
from store_recordings import subprocess_env

from replayer import Replayer
from replayer.export import export
from replayer.export.dot import STATUS_COLOURS
from replayer.export.scan import walk

BAD = error("ValueError", "bad draft")
CANCELLED = error("CancelledError", "")
SLOW = error("TimeoutError", "bob took too long")

#: Each run: what `team_run` writes, and the status each span must have.
CASES: dict[str, tuple[dict[str, Any], dict[int, str]]] = {
    "member raised": (
        {"alice": {"status": "failed", "error": BAD},
         "team": {"success": False, "status": "failed", "error": BAD},
         "workflow": ("workflow_error", {"error": BAD}), "status": "failed"},
        {WORKFLOW: "failed", TEAM: "failed", ALICE: "failed", DRAFT: "completed",
         BOB: "completed"}),
    "run cancelled": (
        {"bob": {"status": "cancelled", "error": CANCELLED},
         "team": {"success": False, "status": "cancelled", "error": CANCELLED},
         "workflow": ("workflow_error", {"error": CANCELLED, "status": "cancelled"}),
         "status": "cancelled"},
        {WORKFLOW: "cancelled", TEAM: "cancelled", ALICE: "completed", DRAFT: "completed",
         BOB: "cancelled"}),
    "member timed out, team carried on": (
        {"bob": {"status": "timed_out", "error": SLOW}},
        {WORKFLOW: "completed", TEAM: "completed", ALICE: "completed", DRAFT: "completed",
         BOB: "timed_out"}),
    "team reports success false": (
        {"team": {"success": False}},
        {WORKFLOW: "completed", TEAM: "failed", ALICE: "completed", DRAFT: "completed",
         BOB: "completed"}),
    "run timed out": (
        {"workflow": ("workflow_error", {"error": SLOW, "status": "timed_out"}),
         "status": "timed_out"},
        {WORKFLOW: "timed_out", TEAM: "completed", ALICE: "completed", DRAFT: "completed",
         BOB: "completed"}),
}


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[int, str]]:
    kwargs, expected = CASES[request.param]
    return team_run(tmp_path / "run.jsonl.zst", **kwargs), expected


def test_walks_read_each_span_status_from_its_end(case: tuple[Path, dict[int, str]]) -> None:
    """Both walks give each member, team and workflow span the status its end event says."""
    path, expected = case
    with Replayer.open(path) as r:
        for full in (True, False):
            spans = walk(r, full=full, first=100).spans
            assert {s.start_seq: s.status for s in spans} == expected, full


def test_dot_colours_each_span_by_its_status(case: tuple[Path, dict[int, str]]) -> None:
    """Every span's fill is the colour of its own status (cancelled is not failed)."""
    path, expected = case
    with Replayer.open(path) as r:
        text = export(r, "dot")
    for seq, status in expected.items():
        line = next(ln for ln in text.splitlines() if re.match(rf"\s*s{seq} \[", ln))
        assert f'fillcolor="{STATUS_COLOURS[status][0]}"' in line, (status, line)


def test_mermaid_classes_follow_the_status(case: tuple[Path, dict[int, str]]) -> None:
    """Each box has its status's class, and each class used is defined."""
    path, expected = case
    with Replayer.open(path) as r:
        text = export(r, "mermaid")
    for seq, status in expected.items():
        assert re.search(rf"^\s*s{seq}\W.*:::{status}$", text, flags=re.M), (seq, status)
        assert f"classDef {status} " in text


def test_chrome_spans_carry_their_status(case: tuple[Path, dict[int, str]]) -> None:
    """The trace's complete events say each span's status; only failed ones are 'terrible'."""
    path, expected = case
    with Replayer.open(path) as r:
        doc = json.loads(export(r, "chrome"))
    spans = {e["args"]["start_seq"]: e for e in doc["traceEvents"] if e["ph"] == "X"}
    assert {seq: e["args"]["status"] for seq, e in spans.items()} == expected
    for seq, e in spans.items():
        assert (e.get("cname") == "terrible") == (expected[seq] == "failed"), e


def test_member_error_leads_the_markdown_report(tmp_path: Path) -> None:
    """A member whose body raised is where the report's path to the error ends."""
    kwargs, _ = CASES["member raised"]
    with Replayer.open(team_run(tmp_path / "run.jsonl.zst", **kwargs)) as r:
        text = export(r, "markdown")
    assert text.startswith("# ✗ `teamwork` failed: `ValueError` in `alice`\n")
    path = re.findall(r"^\d+\. (?:\*\*)?(\w+) `([^`]*)` — (\w+)", text, flags=re.M)
    assert path == [("workflow", "teamwork", "failed"), ("team", "crew", "failed"),
                    ("member", "alice", "failed")]
    assert "**member `alice` — failed" in text and "ValueError: bad draft" in text


def test_cancelled_run_reads_cancelled_in_text_exports(tmp_path: Path) -> None:
    """A cancelled run and its cancelled member are called cancelled, not failed."""
    kwargs, _ = CASES["run cancelled"]
    with Replayer.open(team_run(tmp_path / "run.jsonl.zst", **kwargs)) as r:
        summary, markdown = export(r, "summary"), export(r, "markdown")
    assert summary.startswith("teamwork · cancelled · ")
    assert "seq 7  bob  CancelledError" in summary
    assert markdown.startswith("# ⊘ `teamwork` cancelled: `CancelledError` in `bob`")
    assert re.search(r"^\d+\. \*\*member `bob` — cancelled", markdown, flags=re.M)
    assert "failed" not in markdown


# --- a run cut short (9.11) --------------------------------------------------------------
VICTIM = """
    import sys, time
    from recorder import node, record_workflow

    @node("slow_step")
    def slow_step():
        print("ready", flush=True)
        time.sleep(120)

    with record_workflow("victim", path=sys.argv[1], flush_every=1) as rec:
        with rec.team("crew", members=["alice"]) as team, team.member("alice"):
            slow_step()
"""


def test_killed_run_is_incomplete_and_a_live_one_running(tmp_path: Path) -> None:
    """While the recorder lives the reports say running; once SIGKILLed, incomplete."""
    path = tmp_path / "victim.jsonl.zst"
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(VICTIM), str(path)],
                            stdout=subprocess.PIPE, env=subprocess_env(), text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        with Replayer.open(path) as r:
            live = {fmt: export(r, fmt) for fmt in ("markdown", "summary")}
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        with Replayer.open(path) as r:
            dead = {fmt: export(r, fmt) for fmt in ("markdown", "summary", "dot", "mermaid")}
            chrome = json.loads(export(r, "chrome"))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert live["markdown"].startswith("# … `victim` running: stopped in `slow_step`")
    assert "**node `slow_step` — running, still running" in live["markdown"]
    assert live["summary"].startswith("victim · running · ")

    markdown = dead["markdown"]
    assert markdown.startswith("# … `victim` incomplete: stopped in `slow_step`")
    assert "| status | **`incomplete`** |" in markdown
    assert "**node `slow_step` — incomplete, never ended" in markdown
    assert dead["summary"].startswith("victim · incomplete · ")
    for fmt, text in dead.items():
        drawn = "\n".join(ln for ln in text.splitlines() if "classDef" not in ln)
        assert not re.search(r"\brunning\b", drawn), fmt
    statuses = {e["name"]: e["args"]["status"] for e in chrome["traceEvents"] if e["ph"] == "X"}
    assert statuses == {"victim": "incomplete", "crew": "incomplete", "alice": "incomplete",
                        "slow_step": "incomplete"}
    assert chrome["otherData"]["status"] == "incomplete"

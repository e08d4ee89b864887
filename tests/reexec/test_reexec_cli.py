"""`flowtape rerun`: the 3 a.m. story end to end, as README.md tells it (SPEC §12).

The example records a run against its HTTP server and fails in a pure node;
the server goes away with it. ``flowtape rerun`` reproduces the failure from
the recording alone, then — after the fix — shows the run completing: exit 0.
A live call to the vanished server regresses and a changed input diverges
(exit 1); a usage or read error is one line and exit 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import support_agent_example

from recorder import node, record_workflow

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # each test runs the example and flowtape in subprocesses


def run(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    env.pop("FLOWTAPE_STORE", None)
    return subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def flowtape(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return run(cwd, "-m", "replayer", "--store", str(cwd / "recordings"), *argv)


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The example, copied to a directory, run once: it fails; returns (dir, recording id)."""
    where = tmp_path_factory.mktemp("support")
    support_agent_example.copy_to(where)
    got = run(where, "support_agent.py")
    assert got.returncode == 1, got.stderr
    assert "TypeError: 'NoneType' object is not subscriptable" in got.stderr
    assert "4 requests" in got.stderr
    return where, got.stdout.strip().splitlines()[-1]


def report_of(got: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return json.loads(got.stdout)  # type: ignore[no-any-return]


def test_reproduce_fix_and_check_the_fix_offline(night: tuple[Path, str],
                                                 tmp_path: Path) -> None:
    """The failure reproduces from the recording (identical, exit 0); after the fix the same
    command shows the run completing (changed, not regressed: exit 0). No server runs."""
    where, rid = night
    work = tmp_path / "work"
    work.mkdir()
    example = support_agent_example.copy_to(work)
    os.symlink(where / "recordings", work / "recordings")

    again = flowtape(work, "rerun", rid, "--live", "format_reply")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "IDENTICAL" in again.stdout and "run failed" in again.stdout
    assert "the workflow raised TypeError: 'NoneType' object is not subscriptable" in again.stdout

    support_agent_example.apply_fix(example)
    fixed = flowtape(work, "rerun", rid, "--live", "format_reply", "--json")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    report = report_of(fixed)
    assert (report["verdict"], report["status"]) == ("changed", "completed")
    assert report["sources"] == {"live": 1, "recorded": 5}
    changes = {(c["node"], c["path"]) for c in report["diff"]["error_changes"]}
    assert ("format_reply", "error.type") in changes
    (out,) = report["diff"]["output_changes"]
    assert out["node"] == "format_reply" and "expected not known yet" in out["b"]
    text = flowtape(work, "rerun", rid, "--live", "format_reply")
    assert "CHANGED" in text.stdout and "no regression" in text.stdout


def test_a_live_call_to_the_vanished_server_regresses(night: tuple[Path, str]) -> None:
    """Running a tool node live with the server gone fails the run differently: exit 1."""
    where, rid = night
    got = flowtape(where, "rerun", rid, "--live", "call_tool")
    assert got.returncode == 1, got.stdout + got.stderr
    assert "REGRESSED" in got.stdout and "URLError" in got.stdout
    assert "never asked for (3)" in got.stdout


def test_changed_inputs_diverge(night: tuple[Path, str]) -> None:
    """Other inputs reach the model call, which diverges there: exit 1, the path named."""
    where, rid = night
    inputs = json.dumps({"question": "Where is my order A-1001?", "base_url": "http://x",
                         "api_key": "k"})
    got = flowtape(where, "rerun", rid, "--inputs", inputs, "--json")
    assert got.returncode == 1, got.stdout + got.stderr
    report = report_of(got)
    assert report["verdict"] == "diverged"
    (d,) = report["divergences"]
    assert (d["kind"], d["node"], d["seq"]) == ("inputs_changed", "ask_model", 1)
    paths = [c["path"] for c in d["input_changes"]]
    assert "inputs.messages[1].content" in paths and "inputs.base_url" in paths


def test_on_divergence_live_runs_the_call_and_goes_on(night: tuple[Path, str]) -> None:
    """--on-divergence live runs the diverging model call for real (the server is gone, so
    it fails) instead of stopping: the divergence is listed as run live; exit 1."""
    where, rid = night
    inputs = json.dumps({"question": "Where is my order A-1001?", "base_url": "http://127.0.0.1:9",
                         "api_key": "k"})
    got = flowtape(where, "rerun", rid, "--inputs", inputs, "--on-divergence", "live", "--json")
    assert got.returncode == 1, got.stdout + got.stderr
    report = report_of(got)
    assert [(d["kind"], d["action"]) for d in report["divergences"]] == [
        ("inputs_changed", "live")]
    assert report["status"] == "failed" and report["sources"] == {"live": 1}


def test_an_override_serves_the_given_value(night: tuple[Path, str]) -> None:
    """--override NODE=JSON serves that value: the run completes with it."""
    where, rid = night
    got = flowtape(where, "rerun", rid, "--override", 'format_reply="written by hand"',
                   "--json")
    assert got.returncode == 0, got.stdout + got.stderr
    report = report_of(got)
    assert report["sources"] == {"override": 1, "recorded": 5}
    assert report["status"] == "completed" and report["fork_seq"] == 11


@node
def lonely(x: int) -> int:
    return x


@pytest.mark.parametrize(("argv", "message"), [
    (["--inputs", "{not json"], "--inputs is not JSON"),
    (["--override", "format_reply"], "is not NODE=JSON"),
    (["--override", "formt_reply=1"], "has no node 'formt_reply'; did you mean 'format_reply'"),
    (["--entry", "no_such_module:main"], "cannot import the entry module 'no_such_module'"),
    (["--entry", "support_agent:nothing"], "module 'support_agent' has no 'nothing'"),
    (["--live-from", "999"], "live_from must be an event seq"),
    (["--entry", "support_agent"], "is not of the form 'module:function'"),
    (["--entry", "support_agent:API_KEY"], "entry 'support_agent:API_KEY' is not callable"),
], ids=["inputs", "override-form", "override-node", "entry-module", "entry-attr", "live-from",
        "entry-form", "entry-not-callable"])
def test_usage_errors_exit_2_with_one_line(night: tuple[Path, str], argv: list[str],
                                           message: str) -> None:
    """Each mistake is one line on stderr naming it, and exit 2."""
    where, rid = night
    got = flowtape(where, "rerun", rid, *argv)
    assert got.returncode == 2, got.stdout + got.stderr
    assert message in got.stderr
    assert "Traceback" not in got.stderr


def test_read_errors_exit_2(tmp_path: Path) -> None:
    """An unknown id, and a recording without an entry, are errors (exit 2)."""
    (tmp_path / "recordings").mkdir()
    missing = flowtape(tmp_path, "rerun", "nosuchid")
    assert missing.returncode == 2 and "no recording" in missing.stderr
    with record_workflow("no-entry", store=str(tmp_path / "recordings")) as rec:
        lonely(1)
    got = flowtape(tmp_path, "rerun", rec.recording_id)
    assert got.returncode == 2
    assert f"recording {rec.recording_id} has no entry" in got.stderr
    assert "--entry module:function" in got.stderr


def test_the_readme_story_runs_as_written(tmp_path: Path) -> None:
    """The shell block of README.md's "Re-execute a run", pasted into bash (in a scratch
    directory instead of /tmp/3am): the failure reproduces, then the fix completes."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Re-execute a run", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    script = block.replace("/tmp/3am", str(tmp_path / "3am")).replace(
        "cp examples/", f"cp {ROOT}/examples/")
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "COLUMNS": "200"}
    env.pop("FLOWTAPE_STORE", None)
    got = subprocess.run(["bash", "-e", "-c", script], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300, check=False)
    assert got.returncode == 0, got.stdout + got.stderr
    first, second = got.stdout.split("IDENTICAL", 1)[1].split("CHANGED", 1)
    assert "run failed" in first and "run completed" in second
    assert "TypeError: 'NoneType' object is not subscriptable" in got.stderr


def test_a_child_that_dies_without_a_result_is_an_error(tmp_path: Path) -> None:
    """An entry that kills its process leaves no result: one line saying so, exit 2."""
    (tmp_path / "recordings").mkdir()
    (tmp_path / "crash.py").write_text("import os\n\ndef main():\n    os._exit(3)\n")
    with record_workflow("crash", store=str(tmp_path / "recordings"), entry="crash:main") as rec:
        lonely(1)
    got = flowtape(tmp_path, "rerun", rec.recording_id)
    assert got.returncode == 2
    assert "the re-execution process ended (exit 3) without a result" in got.stderr

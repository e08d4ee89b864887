"""The pytest plugin's golden runs: a real pytest in a subprocess, in a scratch project.

The project's test records a small workflow with ``flowtape_golden``; an
environment variable changes one output value between runs. The plugin is
loaded with ``-p recorder.pytest_plugin`` and plugin autoloading is off, so
the test means the same before and after the ``pytest11`` entry point is
installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from storage import LogReader

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # each test runs pytest several times in subprocesses

PROJECT_TEST = textwrap.dedent('''
    import os

    from recorder import node


    @node("score")
    def score(x):
        return {"result": {"score": float(os.environ.get("FT_SCORE", "0.91")), "x": x}}


    def test_pipeline(flowtape_golden):
        with flowtape_golden() as rec:
            score(1)
            rec.snapshot({"done": True})


    def test_named(flowtape_golden):
        with flowtape_golden(name="second", ignore=["*.score"]):
            score(2)
''')


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "test_flow.py").write_text(PROJECT_TEST)
    return tmp_path


def run_pytest(project: Path, *args: str, score: str = "0.91") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FT_SCORE": score,
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "200"}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "recorder.pytest_plugin", "-p", "no:cacheprovider",
         "-q", "-rfE", *args], cwd=project, env=env, capture_output=True, text=True, timeout=300,
        check=False)


def test_missing_baseline_fails_with_a_hint(project: Path) -> None:
    """Without a baseline the test fails and says how to record one."""
    got = run_pytest(project)
    assert got.returncode == 1, got.stdout + got.stderr
    assert "2 failed" in got.stdout
    assert "does not exist yet" in got.stdout and "--flowtape-update" in got.stdout
    assert not (project / "golden").exists()


def test_changed_output_fails_and_update_makes_it_pass(project: Path) -> None:
    """Record baselines; pass; fail on a changed output, with the report; pass after an update."""
    first = run_pytest(project, "--flowtape-update")
    assert first.returncode == 0, first.stdout + first.stderr
    pipeline = project / "golden" / "test_pipeline.jsonl.zst"
    named = project / "golden" / "test_named-second.jsonl.zst"
    assert pipeline.is_file() and named.is_file()
    assert "flowtape golden baselines written" in first.stdout
    with LogReader.open(pipeline) as r:
        assert r.status == "completed" and r.footer is not None and r.footer.counts.nodes == 1

    same = run_pytest(project)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "2 passed" in same.stdout

    changed = run_pytest(project, score="0.87")
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert "1 failed, 1 passed" in changed.stdout  # test_named ignores *.score
    assert "outputs.result.score: 0.91 -> 0.87" in changed.stdout
    assert "REGRESSION" in changed.stdout and "golden/test_pipeline.jsonl.zst" in changed.stdout

    untouched = pipeline.read_bytes()
    again = run_pytest(project, "--flowtape-update")  # nothing changed: files stay as they are
    assert again.returncode == 0
    assert pipeline.read_bytes() == untouched

    update = run_pytest(project, "--flowtape-update", score="0.87")
    assert update.returncode == 0, update.stdout + update.stderr
    assert pipeline.read_bytes() != untouched
    after = run_pytest(project, score="0.87")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "2 passed" in after.stdout


ASYNC_TEST = textwrap.dedent('''
    import asyncio

    from recorder import node


    @node("fetch")
    async def fetch(x):
        await asyncio.sleep(0)
        return x * 2


    def test_async_golden(flowtape_golden):
        async def main():
            async with flowtape_golden() as rec:
                assert await fetch(2) == 4
                rec.snapshot({"done": True})

        asyncio.run(main())
''')


def test_async_with_records_and_compares(tmp_path: Path) -> None:
    """`async with flowtape_golden()` records like `record_workflow` and compares the same."""
    (tmp_path / "test_async.py").write_text(ASYNC_TEST)
    first = run_pytest(tmp_path, "--flowtape-update")
    assert first.returncode == 0, first.stdout + first.stderr
    baseline = tmp_path / "golden" / "test_async_golden.jsonl.zst"
    with LogReader.open(baseline) as r:
        assert r.status == "completed" and r.footer is not None and r.footer.counts.nodes == 1
    again = run_pytest(tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 passed" in again.stdout

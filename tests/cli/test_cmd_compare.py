"""`flowtape compare A B`: exit codes 0 / 1 / 2, options, and the --json shape.

The command runs for real (``python -m replayer compare ...`` in a
subprocess); the same module is also driven in-process through its
``configure`` / ``run`` interface, which is what ``replayer.cli`` calls.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from recorder import node, record_workflow
from replayer.cli import compare as compare_command
from storage import FlowtapeError, LogReader

ROOT = Path(__file__).resolve().parents[2]
SPEC_KEYS = ["identical", "regression", "first_divergence", "steps", "only_in_a", "only_in_b",
             "input_changes", "output_changes", "error_changes", "state_changes",
             "timing_regressions", "metadata"]


@node("fetch")
def fetch(url: str, request_id: str) -> dict[str, object]:
    return {"status": 200, "url": url, "request_id": request_id}


@node("total")
def total(values: list[float]) -> float:
    return sum(values)


def record(path: Path, *, price: float = 1.0, request_id: str = "r1", extra: bool = False,
           store: Path | None = None) -> str:
    kw = {"store": str(store)} if store is not None else {"path": str(path)}
    with record_workflow("shop", **kw) as rec:  # type: ignore[arg-type]
        fetch("https://example.org/cart", request_id)
        if extra:
            fetch("https://example.org/promo", request_id)
        total([price, 2.0])
    return rec.path or str(path)


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, str]:
    return {
        "a": record(tmp_path / "a.jsonl.zst"),
        "same": record(tmp_path / "same.jsonl.zst"),
        "rid": record(tmp_path / "rid.jsonl.zst", request_id="r2"),
        "price": record(tmp_path / "price.jsonl.zst", price=1.0004),
        "extra": record(tmp_path / "extra.jsonl.zst", extra=True),
    }


def flowtape(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "replayer", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
def test_exit_codes_and_json_through_the_real_command(runs: dict[str, str],
                                                      tmp_path: Path) -> None:
    """0 when no regression, 1 on a regression, 2 for an unreadable input; --json is JSON."""
    same = flowtape("compare", runs["a"], runs["same"], "--no-timing", cwd=tmp_path)
    assert same.returncode == 0, same.stderr
    assert "identical" in same.stdout

    changed = flowtape("compare", runs["a"], runs["extra"], "--no-timing", cwd=tmp_path)
    assert changed.returncode == 1, changed.stderr
    assert "REGRESSION" in changed.stdout and "fetch" in changed.stdout

    missing = flowtape("compare", runs["a"], str(tmp_path / "nope.jsonl.zst"), cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.startswith("flowtape: error:") and "Traceback" not in missing.stderr

    bad = flowtape("compare", runs["a"], runs["same"], "--timing-tolerance", "0.2", cwd=tmp_path)
    assert bad.returncode == 2 and "timing_tolerance" in bad.stderr

    usage = flowtape("compare", runs["a"], cwd=tmp_path)
    assert usage.returncode == 2

    js = flowtape("compare", runs["a"], runs["rid"], "--json", "--no-timing", cwd=tmp_path)
    assert js.returncode == 1
    doc = json.loads(js.stdout)
    assert list(doc) == SPEC_KEYS
    assert doc["input_changes"] == [{"node": "fetch", "path": "inputs.request_id", "a": "r1",
                                     "b": "r2"}]

    ignored = flowtape("compare", runs["a"], runs["rid"], "--ignore", "*.request_id",
                       "--json", "--no-timing", cwd=tmp_path)
    assert ignored.returncode == 0, ignored.stdout
    assert json.loads(ignored.stdout)["identical"] is True


def test_ids_in_a_store(tmp_path: Path) -> None:
    """Recordings named by id (and unique prefix) in --store compare like files."""
    store = tmp_path / "store"
    ids = []
    for extra in (False, True):
        with LogReader.open(record(tmp_path / "unused", store=store, extra=extra)) as r:
            ids.append(r.header.recording_id)
    a, b = ids
    got = flowtape("--store", str(store), "compare", a, b[:22], "--no-timing", cwd=tmp_path)
    assert got.returncode == 1, got.stderr


# --- the command module in-process ----------------------------------------------------------------
def run_command(*argv: str, store: str | None = None) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="flowtape compare")
    compare_command.configure(parser)
    args = parser.parse_args(argv)
    args.store = store
    buf = io.StringIO()
    code = compare_command.run(args, Console(file=buf, width=200, color_system=None))
    return code, buf.getvalue()


def test_module_interface() -> None:
    """The module names the command and describes it (what cli.py registers)."""
    assert compare_command.NAME == "compare"
    assert isinstance(compare_command.HELP, str) and compare_command.HELP


def test_run_returns_0_and_1(runs: dict[str, str]) -> None:
    """run() returns 0 without a regression and 1 with one."""
    assert run_command(runs["a"], runs["same"], "--no-timing")[0] == 0
    code, out = run_command(runs["a"], runs["extra"], "--no-timing")
    assert code == 1 and "only B" in out


def test_tolerances_and_ignore(runs: dict[str, str]) -> None:
    """--tolerance / --relative-tolerance accept small numeric drift; --ignore hides paths."""
    assert run_command(runs["a"], runs["price"], "--no-timing")[0] == 1
    assert run_command(runs["a"], runs["price"], "--no-timing", "--tolerance", "0.001")[0] == 0
    assert run_command(runs["a"], runs["price"], "--no-timing",
                       "--relative-tolerance", "0.001")[0] == 0
    assert run_command(runs["a"], runs["rid"], "--no-timing")[0] == 1
    assert run_command(runs["a"], runs["rid"], "--no-timing", "--ignore", "fetch:inputs",
                       "--ignore", "*.request_id")[0] == 0


def test_json_output_is_the_documented_shape(runs: dict[str, str]) -> None:
    """--json prints to_dict() as JSON, keys in the documented order."""
    code, out = run_command(runs["a"], runs["extra"], "--json", "--min-timing-ms", "1000")
    doc = json.loads(out)
    assert code == 1
    assert list(doc) == SPEC_KEYS
    assert doc["only_in_b"] == ["fetch"]
    assert doc["timing_regressions"] == []


def test_read_and_usage_errors_are_raised_for_exit_2(runs: dict[str, str],
                                                     tmp_path: Path) -> None:
    """A missing recording raises FlowtapeError; a bad option raises ValueError."""
    with pytest.raises(FlowtapeError):
        run_command(runs["a"], str(tmp_path / "missing.jsonl.zst"))
    with pytest.raises(ValueError, match="min-timing-ms"):
        run_command(runs["a"], runs["same"], "--min-timing-ms", "-1")
    with pytest.raises(ValueError, match="ignore rule"):
        run_command(runs["a"], runs["same"], "--ignore", "fetch:")

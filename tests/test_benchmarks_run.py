"""Every benchmark script still starts: its imports resolve and its options parse.

The budgets are checked by running the scripts (SPEC §10), which takes minutes, so the
suite does not run them; but a script that no longer imports (a helper it borrowed from
another script moved) would go unnoticed until someone needs the figures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
FILES = sorted(BENCHMARKS.glob("*.py"))
#: The scripts; the other files are modules the scripts share.
SCRIPTS = [p.name for p in FILES if 'if __name__ == "__main__"' in p.read_text()]
SHARED = [p.stem for p in FILES if p.name not in SCRIPTS]


def test_there_are_benchmarks() -> None:
    assert {"record_bench.py", "replay_bench.py", "stepper_bench.py"} <= set(SCRIPTS)
    assert "replay_read" in SHARED


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_script_starts(script: str) -> None:
    proc = subprocess.run([sys.executable, str(BENCHMARKS / script), "--help"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout


@pytest.mark.parametrize("module", SHARED)
def test_the_shared_module_imports(module: str) -> None:
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=BENCHMARKS,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr

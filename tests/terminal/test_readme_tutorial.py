"""The README's stepper tutorial works on the example recording: every command it shows is
piped into `flowtape replay latest --step` on a fresh run of examples/research_pipeline.py
(what `make demo` records), and every answer it shows is what the stepper printed.

README answers leave out times and durations, and ``…`` ends what they quote of a line;
the lane column's padding counts as two spaces.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "(flowtape) "
_TIME = re.compile(r"(?<=\d) +\+\S+(?=  )|(?<=  )\d+(\.\d+)?(ns|µs|ms|s)(?=  |$)")
_GAPS = re.compile(r" {2,}")


def tutorial() -> list[tuple[str, list[str]]]:
    """Each command of the README's stepper section with the answer lines shown after it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Stepping through a run", 1)[1].split("\n### ", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    for block in section.split("```")[1::2]:
        for line in block.splitlines():
            if line.startswith(PROMPT):
                steps.append((line[len(PROMPT):].split("  #", 1)[0].strip(), []))
            elif steps and line.strip():
                steps[-1][1].append(line)
    return steps


def shown(line: str) -> str:
    """A line as the README shows it: no times, gaps of two spaces."""
    return _GAPS.sub("  ", _TIME.sub("", line)).rstrip()


def test_the_readme_tutorial_runs_as_shown(tmp_path: Path) -> None:
    steps = tutorial()
    commands = [cmd for cmd, _ in steps]
    assert commands[:3] == ["b node_error", "c", "c"] and "lane researcher:bob" in commands
    for needed in ("w", "u", "a", "rn", "rr"):
        assert needed in commands
    assert any(cmd.startswith("why ") for cmd in commands)
    env = {**os.environ, "FLOWTAPE_STORE": str(tmp_path), "COLUMNS": "400"}
    subprocess.run([sys.executable, "examples/research_pipeline.py", "--store", str(tmp_path)],
                   cwd=ROOT, env=env, capture_output=True, timeout=120, check=True)
    proc = subprocess.run([sys.executable, "-m", "replayer", "replay", "latest", "--step"],
                          input="".join(c + "\n" for c in commands), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    answers = proc.stdout.split("\n" + PROMPT)[1:]
    assert [a.split("\n", 1)[0] for a in answers] == commands
    for (cmd, expected), answer in zip(steps, answers, strict=True):
        got = [shown(line) for line in answer.split("\n")[1:] if line.strip()]
        assert len(got) >= len(expected), (cmd, got)
        for want, line in zip(expected, got, strict=False):
            want = shown(want)
            if "…" in want:
                assert line.startswith(want.split("…", 1)[0]), (cmd, want, line)
            else:
                assert line == want, (cmd, want, line)

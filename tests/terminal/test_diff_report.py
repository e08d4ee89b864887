"""The compare report shows where long values differ, and names the slow span.

A long string (an LLM answer) that differs only at its end must not look
equal: both the rich report and the plain-text one show each side around
the first difference, with context, as pytest's assertion diff does, as wide
as the terminal allows. A timing regression names the span on each side
(start seq) and the attempt, so repeated calls of one node can be told apart.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from recorder import node, record_workflow
from replayer import print_report
from storage import RecordingDiff, diff_recordings

#: A long answer; B's ends with " (v2)", which is all that differs.
STORY = "Once upon a time " + "the model thought for a while and " * 12 + "then answered."


@node("answer")
def answer(text: str) -> dict[str, Any]:
    return {"text": text}


def _diff(tmp_path: Path, a_text: str, b_text: str) -> RecordingDiff:
    paths = []
    for name, text in (("a", a_text), ("b", b_text)):
        path = tmp_path / f"{name}.jsonl.zst"
        with record_workflow("llm", path=str(path)):
            answer(text)
        paths.append(path)
    return diff_recordings(*paths, ignore=["answer:inputs"])


def _report(d: RecordingDiff, width: int) -> str:
    buf = io.StringIO()
    print_report(d, Console(file=buf, width=width, color_system=None))
    return buf.getvalue()


@pytest.mark.parametrize("width", [80, 120, 200])
def test_rich_report_shows_a_difference_at_the_end_of_a_long_string(tmp_path: Path,
                                                                    width: int) -> None:
    """The trailing ' (v2)' is on screen, its context before it, the identical start left out."""
    d = _diff(tmp_path, STORY, STORY + " (v2)")
    out = _report(d, width)
    assert "(v2)" in out and "then answered" in out
    assert "Once upon a time" not in out
    assert max(len(line) for line in out.splitlines()) <= width


def test_plain_report_shows_a_difference_at_the_end_of_a_long_string(tmp_path: Path) -> None:
    """to_text shows both sides around the first difference and says where it is."""
    d = _diff(tmp_path, STORY, STORY + " (v2)")
    text = d.to_text(width=100)
    at = len('"' + STORY)  # the JSON text of the value, quote included
    assert f"outputs.text (differs from character {at + 1}):" in text
    lines = text.splitlines()
    a_line = next(ln for ln in lines if ln.lstrip().startswith("A: …"))
    b_line = next(ln for ln in lines if ln.lstrip().startswith("B: …"))
    assert a_line.endswith('then answered."') and b_line.endswith('then answered. (v2)"')
    assert all(len(ln) <= 100 for ln in (a_line, b_line))
    assert "Once upon a time" not in text


def test_wider_terminal_shows_more_context(tmp_path: Path) -> None:
    """The windows grow with the width: at 200 columns more of the string shows than at 80."""
    d = _diff(tmp_path, STORY, STORY + " (v2)")

    def shown(out: str) -> int:
        """The most of the text before the difference that one line shows."""
        return max((len(m) for m in re.findall(r"[a-z ]*then answered", out)), default=0)

    assert shown(_report(d, 200)) > shown(_report(d, 80)) > 0
    assert shown(d.to_text(width=200)) > shown(d.to_text(width=80)) > 0


def test_difference_at_the_start_shows_the_start(tmp_path: Path) -> None:
    """When the strings differ at once, each side is shown from its beginning."""
    d = _diff(tmp_path, "A" + STORY, "B" + STORY)
    out = _report(d, 120)
    assert '"AOnce upon' in out and '"BOnce upon' in out
    text = d.to_text(width=120)
    assert '"AOnce upon' in text and '"BOnce upon' in text


def test_short_values_are_shown_whole_on_one_line(tmp_path: Path) -> None:
    """Values that fit are shown as they are: `path: a -> b`."""
    d = _diff(tmp_path, "yes", "no")
    assert '      outputs.text: "yes" -> "no"' in d.to_text(width=100).splitlines()


# --- timing regressions name their span ---------------------------------------------------
@node("fetch")
def fetch(i: int, seconds: float) -> int:
    time.sleep(seconds)
    return i


def test_timing_regression_names_the_span_on_each_side_and_the_attempt(tmp_path: Path) -> None:
    """Of three calls of one node, the slow one is named by its start seq in A and B."""
    paths = []
    for name, slow in (("a", 0.002), ("b", 0.040)):
        path = tmp_path / f"{name}.jsonl.zst"
        with record_workflow("loop", path=str(path)):
            for i in range(3):
                fetch(i, slow if i == 1 else 0.0)
        paths.append(path)
    d = diff_recordings(*paths, ignore=["fetch:inputs.seconds"])
    (t,) = d.timing_regressions
    second = [s for s in d.steps if s.node == "fetch"][1]
    assert (t.node, t.a_seq, t.b_seq, t.attempt) == ("fetch", second.a, second.b, 1)
    item = d.to_dict()["timing_regressions"][0]
    assert list(item) == ["node", "a_ns", "b_ns", "ratio", "a_seq", "b_seq", "attempt"]
    out = _report(d, 160)
    row = next(ln for ln in out.splitlines() if "fetch" in ln and "x" in ln and "│" in ln
               and str(t.a_seq) in ln)
    assert re.search(rf"\b{t.a_seq}\b.*\b{t.b_seq}\b", row), row
    assert f"fetch [A#{t.a_seq} B#{t.b_seq}]" in d.to_text()

"""Exports of hostile or damaged recordings: they end, and recorded text cannot escape.

A damaged file may name a span as its own parent, repeat a seq or link two
spans into a loop; every export and the diff must still end (a flipped byte
once made the DOT export write gigabytes). Recorded names and payloads may
hold terminal escape sequences, Markdown structure or Mermaid directives;
the text exports show them as text. The damaged recordings are hand-made
plain ``.jsonl`` files, as a flipped byte would leave them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from replayer import Replayer
from replayer._export import STREAMS, iter_export
from storage import FlowtapeError

FORMATS = sorted(STREAMS)
HEADER = {"kind": "header", "format": "flowtape", "version": 1,
          "recording_id": "01m83j2fk3764czz4dt3vdk6bp", "workflow": "w",
          "started_at": "2026-01-01T00:00:00.000000Z"}
#: Far more text than any export of a handful of events can honestly need.
OUTPUT_BOUND = 1 << 20


def write_plain(path: Path, events: list[dict[str, Any]]) -> Path:
    """A footerless plain ``.jsonl`` recording holding exactly ``events``."""
    lines = [HEADER, *events]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


#: Each damaged file, and the spans every drawing must still show (by start seq).
DRAWN = {"repeated seq 0": {0}, "span is its own parent": {0, 1},
         "two spans each other's parent": {0, 1, 2}}
DAMAGED = {
    # One flipped byte: team_start repeats seq 0, so the team is its own parent.
    "repeated seq 0": [
        {"seq": 0, "ts": 1, "kind": "workflow_start", "node": "w"},
        {"seq": 0, "ts": 2, "kind": "team_start", "node": "t", "parent": 0},
    ],
    "span is its own parent": [
        {"seq": 0, "ts": 1, "kind": "workflow_start", "node": "w"},
        {"seq": 1, "ts": 2, "kind": "node_start", "node": "a", "parent": 1},
        {"seq": 2, "ts": 3, "kind": "node_complete", "node": "a", "span": 1, "parent": 1},
    ],
    "two spans each other's parent": [
        {"seq": 0, "ts": 1, "kind": "workflow_start", "node": "w"},
        {"seq": 1, "ts": 2, "kind": "team_start", "node": "t", "parent": 2},
        {"seq": 2, "ts": 3, "kind": "team_member_start", "node": "m", "parent": 1},
        {"seq": 3, "ts": 4, "kind": "team_message", "node": "t", "parent": 2,
         "data": {"from": "m", "to": "x", "message": "hi"}},
    ],
}


def _bounded(r: Replayer, fmt: str) -> str:
    """The export's text, failing (not hanging) once it outgrows any honest size."""
    size, pieces = 0, []
    for piece in iter_export(r, fmt):
        size += len(piece)
        assert size < OUTPUT_BOUND, f"{fmt} export of a 4-event file keeps growing"
        pieces.append(piece)
    return "".join(pieces)


@pytest.mark.parametrize("case", sorted(DAMAGED))
@pytest.mark.parametrize("fmt", FORMATS)
def test_exports_end_on_spans_that_loop(tmp_path: Path, case: str, fmt: str) -> None:
    """A span that is its own parent or ancestor never makes an export loop."""
    path = write_plain(tmp_path / "damaged.jsonl", DAMAGED[case])
    try:
        with Replayer.open(path, recover=True) as r:
            text = _bounded(r, fmt)
    except FlowtapeError as exc:  # the reader may call it damage: a named error is fine
        assert str(path) in str(exc)
        return
    assert text.endswith("\n")
    if fmt == "dot":
        assert not re.search(r"^\s*(s\d+) -> \1;", text, flags=re.M), "a self-loop edge"
        drawn = re.findall(r"^\s*s(\d+) \[label=", text, flags=re.M)
    elif fmt == "mermaid":
        assert not re.search(r"^\s*(s\d+) --> \1$", text, flags=re.M), "a self-loop edge"
        drawn = re.findall(r"^\s*s(\d+)[(\[{]", text, flags=re.M)
    else:
        return
    assert sorted(map(int, drawn)) == sorted(DRAWN[case]), "each span drawn once"


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_compare_ends_on_spans_that_loop(tmp_path: Path, case: str) -> None:
    """`flowtape compare` of a damaged file with itself ends with an answer or exit 2."""
    path = write_plain(tmp_path / "damaged.jsonl", DAMAGED[case])
    # A subprocess, so a loop fails this test instead of hanging the suite.
    done = subprocess.run([sys.executable, "-m", "replayer", "compare", str(path), str(path),
                           "--json"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode in (0, 1, 2), done.stderr
    if done.returncode == 2:
        assert str(path) in done.stderr and "Traceback" not in done.stderr
    else:
        assert json.loads(done.stdout)["identical"] is True

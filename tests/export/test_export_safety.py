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

from recorder import node, record_workflow
from replayer import Replayer
from replayer.export import STREAMS, export, iter_export
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


#: Each damaged file, and the spans a drawing may show (by start seq): a recovering
#: reader drops the events whose links are out of line, so some may be missing, but
#: none is drawn twice and the root always is.
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
    seqs = [int(d) for d in drawn]
    assert len(seqs) == len(set(seqs)), "each span drawn once"
    assert 0 in seqs and set(seqs) <= DRAWN[case]


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


# --- control characters (10.13) ----------------------------------------------------------
ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31m"
NASTY_NODE = f"fetch{ESCAPES}|x\n## heading"


@node(NASTY_NODE)
def nasty(v: str) -> None:
    raise ValueError(f"boom {ESCAPES}\n```\n| a | b |")


def _record_nasty(path: Path) -> Path:
    with pytest.raises(ValueError), \
            record_workflow(f"wf{ESCAPES}", path=str(path), tags=[f"t{ESCAPES}|"]) as rec:
        rec.snapshot({"note": ESCAPES})
        nasty(ESCAPES)
    return path


def _no_raw_controls(text: str) -> None:
    raw = sorted({f"{ord(c):#04x}" for c in text
                  if (ord(c) < 0x20 and c not in "\n") or 0x7F <= ord(c) < 0xA0})
    assert not raw, f"raw control characters {raw} in the export"


def test_summary_shows_control_characters_visibly(tmp_path: Path) -> None:
    """The summary renders ESC and friends as visible \\x1b, never raw."""
    with Replayer.open(_record_nasty(tmp_path / "n.jsonl.zst")) as r:
        text = export(r, "summary")
    _no_raw_controls(text)
    assert "wf\\x1b]0;owned\\x07\\x1b[2J" in text.splitlines()[0]
    assert "boom \\x1b]0;owned" in text
    assert "fetch\\x1b]0;owned" in text


def _table_rows(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("|")]


def _cells(row: str) -> int:
    """Cells of a GFM table row: pipes that are not escaped (``\\|``) separate them."""
    return len(re.findall(r"(?<!\\)\|", row)) - 1


def test_markdown_shows_control_characters_and_keeps_its_structure(tmp_path: Path) -> None:
    """The report renders control characters visibly, and no name breaks a table or fence."""
    with Replayer.open(_record_nasty(tmp_path / "n.jsonl.zst")) as r:
        text = export(r, "markdown")
    _no_raw_controls(text)
    assert "\\x1b]0;owned\\x07" in text
    assert not re.search(r"^## heading", text, flags=re.M), "a node name made a heading"
    tables: list[list[str]] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    assert tables
    for rows in tables:
        assert len({_cells(row) for row in rows}) == 1, rows
    fences = [ln for ln in text.splitlines() if re.match(r"^`{3,}", ln)]
    assert len(fences) % 2 == 0


# --- Mermaid directives (10.14) ----------------------------------------------------------
DIRECTIVE = '%%{init: {"theme": "dark", "securityLevel": "loose"}}%%'


def test_mermaid_names_cannot_inject_a_directive_or_close_a_label(tmp_path: Path) -> None:
    """Directives and quotes in workflow, node and message text stay inside their labels."""
    hostile = f'x"]\n{DIRECTIVE}\nclick s0 call alert(1)\n%% "y'

    @node(hostile)
    def step() -> str:
        return "ok"

    path = tmp_path / "m.jsonl.zst"
    with record_workflow(f"wf {DIRECTIVE} \"q\"", path=str(path)) as rec:
        step()
        with rec.team("t", members=["a"]) as team, team.member("a"):
            team.message("a", hostile, hostile)
    with Replayer.open(path) as r:
        text = export(r, "mermaid")
    assert "%%{" not in text and "}%%" not in text and "init:" in text.replace("#", "")
    lines = text.splitlines()
    assert lines[1].startswith("  %% ") and lines[1].count("%%") == 1, lines[1]
    for line in lines[2:]:
        assert "%%" not in line, line  # only the title line is a comment
        assert not line.strip().startswith("click"), line
        # Labels are whole quoted strings: quotes come in pairs on every line.
        assert line.count('"') % 2 == 0, line
    assert "#quot;" in text and "#37;#37;{init" in text

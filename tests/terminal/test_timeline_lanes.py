"""`flowtape replay ID`: the lane column for a run with several lanes, attempts above 1, the
start seq on end events, and ``--lane NAME`` (SPEC §8)."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from stepper_recordings import record_debugger, record_shop

from replayer.cli import main

_LINE = re.compile(r"^ *(\d+) +\+\S+  (.*)$")


def replay(capsys: pytest.CaptureFixture[str], store: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--store", str(store), "replay", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def events(out: str) -> dict[int, str]:
    """Each event line's text after the offset, by seq."""
    found = {}
    for line in out.splitlines():
        m = _LINE.match(line)
        if m:
            found[int(m.group(1))] = m.group(2).rstrip()
    return found


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")


def test_lane_column_attempts_and_start_seqs(capsys: pytest.CaptureFixture[str],
                                             store: Path) -> None:
    """Four lanes: a lane column before the indented kind; the retry shows attempt 2; every
    end event names the seq of its start."""
    code, out, _ = replay(capsys, store, record_debugger(store))
    assert code == 0
    lines = events(out)
    assert len(lines) == 45
    assert lines[0] == "MainThread  workflow_start debug"
    assert lines[29] == "bob             team_member_start bob"
    assert lines[25] == "MainThread    node_start flaky  attempt 2"
    assert lines[26].startswith("MainThread    node_complete flaky  attempt 2  (start 25)  ")
    assert lines[20].startswith("MainThread        node_complete inner  (start 19)  ")
    assert lines[37].startswith("alice           team_member_complete alice  (start 28)  ")
    assert lines[23] == "MainThread    node_start flaky"  # attempt 1 is not shown


def test_one_lane_has_no_lane_column(capsys: pytest.CaptureFixture[str], store: Path) -> None:
    """A run in one lane reads as before: no column, the state under its event."""
    code, out, _ = replay(capsys, store, record_shop(store), "--show-state")
    assert code == 0
    lines = events(out)
    assert lines[0] == "workflow_start shop"
    assert lines[8].startswith("      node_complete price  (start 7)  ")
    pad = out.splitlines().index(next(line for line in out.splitlines()
                                      if re.match(r"^ +3 ", line)))
    assert out.splitlines()[pad + 1] == " " * 18 + 'state {"cart": {"items": ["apple"]}}'


def test_lane_filters_the_timeline(capsys: pytest.CaptureFixture[str], store: Path) -> None:
    """--lane bob keeps bob's events only; with the state, its lines line up after the lane."""
    path = record_debugger(store)
    code, out, _ = replay(capsys, store, path, "--lane", "bob")
    assert code == 0
    assert list(events(out)) == [29, 33, 34, 38]
    assert all(text.startswith("bob ") for text in events(out).values())
    code, out, _ = replay(capsys, store, path, "--lane", "MainThread", "--kind", "state",
                          "--show-state")
    assert code == 0
    assert list(events(out)) == [1, 6, 11, 16, 41]
    first = out.splitlines()[2]
    assert first == " " * 30 + 'state {"x": 0, "pages": 0}'


def test_unknown_lane_is_an_error_naming_the_lanes(capsys: pytest.CaptureFixture[str],
                                                   store: Path) -> None:
    """An unknown --lane exits 2 with one line naming the lanes the run has."""
    path = record_debugger(store)
    code, out, err = replay(capsys, store, path, "--lane", "dave")
    assert code == 2 and out == ""
    assert err.startswith("flowtape: error: no lane 'dave' in ")
    assert err.rstrip().endswith("its lanes are MainThread, alice, bob, carol")
    code, out, err = replay(capsys, store, path, "--lane", "dave", "--step")
    assert code == 2 and "no lane 'dave'" in err


def test_step_follows_the_lane(capsys: pytest.CaptureFixture[str], store: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """--step --lane NAME starts the stepper following that lane."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("j 27\ns\ns\n"))
    code, out, _ = replay(capsys, store, record_debugger(store), "--step", "--lane", "carol")
    assert code == 0
    assert "(flowtape) lane carol\nFollowing lane carol" in out
    moves = [line for line in out.splitlines() if line.startswith(">")]
    assert [int(line.split()[1]) for line in moves] == [0, 27, 30, 35]

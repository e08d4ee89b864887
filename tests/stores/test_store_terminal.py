"""Recorded text reaches the terminal through `printable` in the store commands (issue 10.13).

A workflow name, a tag, an error type or a footer status may hold escape
sequences (``\\x1b]0;title\\x07`` retitles a terminal, ``\\x1b[2J`` clears it).
list, stats, cleanup, reindex and verify show them as the visible text
``\\x1b``, never send them raw.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from store_recordings import add_recording, write_malformed

from replayer.cli import main
from storage import FileStore

TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
SHOWN = ("\\x1b]0;pwned\\x07", "\\x1b[2J")


@pytest.fixture
def hostile(tmp_path: Path) -> FileStore:
    """A store whose recordings carry escape sequences in every field the commands print."""
    s = FileStore(tmp_path / "s")
    add_recording(s, workflow=f"etl{TITLE}", tags=[f"t{CLEAR}"], status="failed",
                  error_type=f"Boom{CLEAR}")
    add_recording(s, workflow=f"w{CLEAR}", status=f"odd{TITLE}")
    return s


@pytest.mark.parametrize("argv", [["list"], ["stats"], ["cleanup", "--max-count", "0",
                                                        "--delete-failed", "--dry-run"],
                                  ["reindex"], ["verify", "--deep"], ["verify", "latest"]],
                         ids=" ".join)
def test_no_escape_sequence_reaches_the_terminal(hostile: FileStore, argv: list[str],
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The output holds no ESC or BEL; the sequences are there as visible text."""
    monkeypatch.delenv("COLUMNS", raising=False)
    main(["--store", hostile.root, *argv])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    if argv[0] in ("list", "stats", "cleanup"):
        assert any(shown in out for shown in SHOWN), out


def test_reasons_from_malformed_files_are_shown_not_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """reindex and verify print the reasons of unreadable files through printable too."""
    root = tmp_path / "s"
    add_recording(FileStore(root))
    write_malformed(str(root), "started_at")
    bad = root / "01jbadbadbadbadbadbadbadbad.jsonl"
    bad.write_text('{"kind":"header","format":"flowtape","version":1,"recording_id":"x",'
                   '"workflow":"w","started_at":"\\u001b[2J"}\n')
    for argv in (["reindex"], ["verify"]):
        main(["--store", str(root), *argv])
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\\x1b[2J" in out

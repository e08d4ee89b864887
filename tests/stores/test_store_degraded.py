"""A run the recorder could not record in full is catalogued as degraded (issue 10.3).

`Store.finish(recording_id, path, degraded=notes)` is the recorder's way to
say what went wrong (a full disk, a footer that could not be written); the
notes land in the catalog row, in `RecordingInfo.degraded`, in `list` and
`list --json`, beside the footer's own notes. A recording whose footer could
not be written is ``incomplete`` and degraded, never ``running`` forever, and
a reindex keeps its notes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_recordings import add_recording, write_without_footer

from replayer.cli import main
from storage import FileStore, MemoryStore

NOTE = "writing recording failed: [Errno 28] No space left on device; the footer is missing"


@pytest.fixture(params=["file", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FileStore]:
    s = FileStore(tmp_path / "s") if request.param == "file" else MemoryStore()
    yield s
    if isinstance(s, MemoryStore):
        s.close()


def test_a_footerless_run_finished_degraded_is_incomplete_and_says_why(store: FileStore
                                                                       ) -> None:
    """finish(degraded=...) of a file without a footer: incomplete, with the note, for good."""
    rid = write_without_footer(store)
    assert store.get(rid).status == "incomplete"  # closed, no lock: not running
    store.finish(rid, store.get(rid).path, degraded=[NOTE])
    info = store.get(rid)
    assert (info.status, info.degraded) == ("incomplete", [NOTE])
    assert store.reindex().incomplete == [rid]
    assert store.get(rid).degraded == [NOTE]  # the file cannot say it: the catalog keeps it


def test_notes_from_finish_join_the_footer_s(store: FileStore) -> None:
    """A finished run's footer notes and the notes given to finish are both kept, once each."""
    rid = add_recording(store)
    path = store.get(rid).path
    assert store.get(rid).degraded == []
    store.finish(rid, path, degraded=[NOTE, NOTE])
    assert store.get(rid).degraded == [NOTE]


def test_list_shows_a_degraded_run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """list marks the run degraded; list --json carries the notes in a `degraded` field."""
    monkeypatch.delenv("COLUMNS", raising=False)  # piped output as wide as its content
    s = FileStore(tmp_path / "s")
    fine = add_recording(s, workflow="fine")
    rid = write_without_footer(s, workflow="broken")
    s.finish(rid, s.get(rid).path, degraded=[NOTE])
    assert main(["--store", s.root, "list", "--json"]) == 0
    rows = {r["recording_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[rid]["degraded"] == [NOTE] and rows[fine]["degraded"] == []
    assert main(["--store", s.root, "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    broken = next(line for line in lines if "broken" in line)
    assert "incomplete, degraded" in broken
    assert "degraded" not in next(line for line in lines if " fine " in line)

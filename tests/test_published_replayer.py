"""The earlier-published `ExecutionReplayer` (SPEC §9) answers as it did.

``load`` opens what ``await recorder.save(name)`` wrote even when save added
``.gz`` to the name; ``jump_to_event`` returns True/False, while
`Replayer.jump_to_event` keeps returning the event.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest

from recorder import ExecutionRecorder
from replayer import EventNotFoundError, ExecutionReplayer, Replayer
from storage import RecordingNotFoundError


@pytest.fixture(autouse=True)
def _spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ExecutionRecorder spools under the temp dir: point that into this test's directory."""
    (tmp_path / "spool").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "spool"))


def _saved(tmp_path: Path, name: str) -> Path:
    """A small published-API run saved (compressed) under ``name``; the path save was given."""
    rec = ExecutionRecorder("published")
    rec.record_workflow_start({"q": 1})
    rec.record_node_start("a", {"x": 1})
    rec.record_node_complete("a", {"y": 2})
    rec.record_workflow_complete({"done": True}, success=True)
    target = tmp_path / name
    asyncio.run(rec.save(target))
    return target


def test_load_finds_the_gz_file_save_wrote_beside_the_name(tmp_path: Path) -> None:
    """load("run.json") after save("run.json") opens run.json.gz when run.json does not exist."""
    target = _saved(tmp_path, "run.json")
    assert not target.exists() and target.with_name("run.json.gz").exists()
    with ExecutionReplayer.load(target) as r:
        assert r.path == str(target) + ".gz"
        assert r.events[0].kind == "workflow_start"
        assert r.metadata.workflow_name == "published"
    with ExecutionReplayer.load(str(target)) as r:
        assert r.summary.status == "completed"


def test_load_prefers_the_exact_name(tmp_path: Path) -> None:
    """When both run.json and run.json.gz exist, load opens the name it was given."""
    target = _saved(tmp_path, "run.json")
    other = _saved(tmp_path, "other.json")
    (other.with_name("other.json.gz")).rename(target)
    with ExecutionReplayer.load(target) as r:
        assert r.path == str(target)


def test_load_of_a_name_with_neither_file_is_not_found(tmp_path: Path) -> None:
    """Neither run.json nor run.json.gz: RecordingNotFoundError naming the path asked for."""
    with pytest.raises(RecordingNotFoundError, match=r"nothing\.json"):
        ExecutionReplayer.load(tmp_path / "nothing.json")


def test_published_jump_to_event_returns_true_or_false(tmp_path: Path) -> None:
    """ExecutionReplayer.jump_to_event is True when the cursor moved there, False otherwise."""
    with ExecutionReplayer.load(_saved(tmp_path, "run.json")) as r:
        assert r.jump_to_event(2) is True
        assert r.current_position == 2 and r.current is not None and r.current.seq == 2
        assert r.jump_to_event(99) is False
        assert r.jump_to_event(-1) is False
        assert r.current_position == 2  # a failed jump does not move


def test_new_jump_to_event_still_returns_the_event(tmp_path: Path) -> None:
    """Replayer.jump_to_event returns the event and raises EventNotFoundError for no such seq."""
    with Replayer.open(str(_saved(tmp_path, "run.json")) + ".gz") as r:
        event = r.jump_to_event(2)
        assert event.seq == 2 and event == r.current
        with pytest.raises(EventNotFoundError):
            r.jump_to_event(99)


def test_replay_from_event_works_on_the_published_replayer(tmp_path: Path) -> None:
    """replay_from_event on an ExecutionReplayer moves there, restores, and refuses a bad seq."""
    with ExecutionReplayer.load(_saved(tmp_path, "run.json")) as r:
        with r.replay_from_event(3) as at:
            assert at.position == 3
        assert r.position == 0
        with pytest.raises(EventNotFoundError), r.replay_from_event(99):
            pass

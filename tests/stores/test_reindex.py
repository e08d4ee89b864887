"""Rebuilding the catalog from the files (FileStore.reindex), and runs that crashed."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import msgspec
import pytest
from store_recordings import BASE, add_recording, kill, running_victim

from recorder import record_workflow
from storage import FileStore, LogReader, RecordingQuery, RetentionPolicy

HOUR = dt.timedelta(hours=1)

QUERIES = [
    RecordingQuery(),
    RecordingQuery(workflow_name="etl"),
    RecordingQuery(success=False),
    RecordingQuery(status="incomplete"),
    RecordingQuery(tags=["a", "b"]),
    RecordingQuery(tags=["b"], tags_mode="any"),
    RecordingQuery(start=BASE + 2 * HOUR, end=BASE + 5 * HOUR),
    RecordingQuery(min_duration=2.0, sort_by="duration_ns", sort_order="asc"),
    RecordingQuery(error_type="KeyError"),
    RecordingQuery(sort_by="workflow", limit=3, offset=1),
]


def answers(store: FileStore) -> list[list[dict[str, object]]]:
    return [msgspec.to_builtins(store.list(q)) for q in QUERIES]


def remove_catalog(root: Path) -> None:
    for name in os.listdir(root):
        if name.startswith("catalog.sqlite"):
            os.unlink(root / name)


def test_reindex_after_deleting_the_catalog_gives_the_same_answers(tmp_path: Path) -> None:
    """Delete catalog.sqlite, reindex: every query answers exactly as before."""
    root = tmp_path / "s"
    store = FileStore(root)
    plan = [("etl", "completed", ["a"], None), ("etl", "failed", ["a", "b"], "KeyError"),
            ("report", "completed", ["b"], None), ("report", "timed_out", [], "TimeoutError"),
            ("etl", "completed", ["a", "b"], None), ("sync", "cancelled", ["b"], None)]
    for n, (wf, status, tags, err) in enumerate(plan):
        add_recording(store, workflow=wf, status=status, tags=tags, error_type=err,
                      started=BASE + n * HOUR, duration_s=n + 0.5)
    with record_workflow("etl", store=root, tags=["a"]):
        pass
    with pytest.raises(KeyError), record_workflow("report", store=root, tags=["b"]):
        raise KeyError("k")
    before = answers(store)
    assert len(before[0]) == 8

    remove_catalog(root)
    result = FileStore(root).reindex()
    assert result.indexed == 8 and not (result.dropped or result.unreadable)
    assert answers(FileStore(root)) == before
    # and again through the same object (its connection must follow the new file)
    remove_catalog(root)
    store.reindex()
    assert answers(store) == before


def test_killed_recorder_is_indexed_incomplete(tmp_path: Path) -> None:
    """A recorder killed with SIGKILL leaves a file that reads and indexes as incomplete."""
    root = tmp_path / "s"
    with running_victim(str(root)) as (proc, rid):
        store = FileStore(root)
        assert store.get(rid).status == "running"
        assert store.reindex().running == [rid]  # alive: not misreported
        assert store.get(rid).status == "running"
        kill(proc)
    # Without a reindex: the next read notices the writer is gone.
    info = store.get(rid)
    assert (info.status, info.success) == ("incomplete", None)
    assert info.event_count == 6  # workflow_start + 5 ticks, each flushed before the kill
    # With the catalog gone: the file alone says incomplete.
    remove_catalog(root)
    result = FileStore(root).reindex()
    assert result.incomplete == [rid]
    info = FileStore(root).get(rid)
    assert info.status == "incomplete" and info.tags == ["crash"]
    with LogReader.open(info.path, recover=True) as reader:
        assert reader.status == "incomplete"
        assert [e.data["name"] for e in reader.iter_events()
                if e.kind == "custom"] == ["tick"] * 5


def test_running_recording_survives_retention_and_reindex(tmp_path: Path) -> None:
    """While its writer lives, a footer-less file is running: retention leaves it."""
    root = tmp_path / "s"
    store = FileStore(root)
    add_recording(store)
    with running_victim(str(root)) as (proc, rid):
        remove_catalog(root)
        store.reindex()
        result = store.apply_retention(RetentionPolicy(max_count=0, keep_failed=False))
        assert rid not in result.recording_ids and len(result.recording_ids) == 1
        assert [i.recording_id for i in store.list()] == [rid]
        kill(proc)
    result = store.apply_retention(RetentionPolicy(max_count=0))
    assert result.deleted == []  # now incomplete: a crash, kept by keep_failed
    assert store.get(rid).status == "incomplete"


def test_killed_keep_failure_run_is_adopted(tmp_path: Path) -> None:
    """keep="failure" writes a hidden .partial file; after a crash reindex keeps it."""
    root = tmp_path / "s"
    root.mkdir()
    with running_victim(str(root), keep="failure") as (proc, rid):
        partial = root / f".{rid}.jsonl.zst.partial"
        assert partial.exists()
        assert FileStore(root).reindex().adopted == []  # alive: not ours to decide
        kill(proc)
    result = FileStore(root).reindex()
    assert result.adopted == [rid] and result.incomplete == [rid]
    assert not partial.exists() and (root / f"{rid}.jsonl.zst").exists()


def test_reindex_drops_rows_of_vanished_files_and_reports_unreadable(tmp_path: Path) -> None:
    """Rows whose file is gone are dropped; files that are not recordings are reported."""
    root = tmp_path / "s"
    store = FileStore(root)
    keep, gone = add_recording(store), add_recording(store)
    os.unlink(store.get(gone).path)
    (root / "junk.jsonl.zst").write_bytes(b"not a recording at all")
    result = store.reindex()
    assert result.dropped == [gone]
    assert [p for p, _ in result.unreadable] == [str(root / "junk.jsonl.zst")]
    assert [i.recording_id for i in store.list()] == [keep]


def test_damaged_catalog_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    """A catalog that is not SQLite any more is set aside and rebuilt from the files."""
    root = tmp_path / "s"
    store = FileStore(root)
    rid = add_recording(store)
    remove_catalog(root)
    (root / "catalog.sqlite").write_bytes(b"this is not a database" * 100)
    result = FileStore(root).reindex()
    assert result.indexed == 1
    assert [i.recording_id for i in FileStore(root).list()] == [rid]
    assert any(n.startswith("catalog.sqlite.damaged-") for n in os.listdir(root))

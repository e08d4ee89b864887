"""The earlier-published async storage facades (SPEC §9), over the sync stores."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recorder import ExecutionRecorder
from replayer import FileRecordingStorage, InMemoryRecordingStorage
from storage import RecordingNotFoundError, RecordingQuery, RetentionPolicy

DAY = 86_400.0


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def published_run(name: str = "wf", *, success: bool = True, tags: list[str] | None = None,
                  age_days: float | None = None, nodes: int = 1) -> ExecutionRecorder:
    """A run recorded the published way: record_workflow_start ... record_workflow_complete."""
    rec = ExecutionRecorder(name, tags=tags or ["published"])
    rec.record_workflow_start({"job": name})
    for i in range(nodes):
        rec.record_node_start(f"n{i}", {"i": i})
        rec.record_node_complete(f"n{i}", {"out": i * 2})
    rec.record_workflow_complete({"ok": success}, success=success,
                                 error=None if success else ValueError("bad input"))
    if age_days is not None:
        rec.metadata.started_at = time.time() - age_days * DAY
    return rec


@pytest.fixture(params=["file", "memory"])
def storage(request: pytest.FixtureRequest, tmp_path: Path
            ) -> Iterator[FileRecordingStorage | InMemoryRecordingStorage]:
    """Each facade, empty."""
    if request.param == "file":
        yield FileRecordingStorage(tmp_path / "recordings")
    else:
        mem = InMemoryRecordingStorage()
        yield mem
        mem.close()


def test_save_load_and_metadata(storage: FileRecordingStorage | InMemoryRecordingStorage
                                ) -> None:
    """save returns the id; load gives a replayer; get_metadata the published dict."""
    rec = published_run("etl", nodes=2)
    rid = run(storage.save(rec))
    assert rid == rec.recording_id
    meta = run(storage.get_metadata(rid))
    assert meta is not None
    assert meta["recording_id"] == rid and meta["workflow_name"] == "etl"
    assert meta["success"] is True and meta["tags"] == ["published"]
    assert meta["event_count"] == 6 and meta["node_count"] == 2
    assert meta["file_size_bytes"] == rec.metadata.file_size_bytes > 0
    assert isinstance(meta["started_at"], float) and meta["duration_seconds"] >= 0
    assert meta["degraded"] == []  # what the recorder could not record: nothing here
    path = meta["path"]
    assert rec.metadata.checksum == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    replayer = run(storage.load(rid))
    try:
        assert [e.event_type.value for e in replayer.events][:2] == ["workflow_start",
                                                                      "node_start"]
        assert replayer.metadata.workflow_name == "etl"
    finally:
        replayer.close()


def test_list_filters_and_sorts(storage: FileRecordingStorage | InMemoryRecordingStorage
                                ) -> None:
    """list takes the same RecordingQuery (or its fields as keywords)."""
    a = run(storage.save(published_run("a", tags=["x"])))
    b = run(storage.save(published_run("b", success=False)))
    c = run(storage.save(published_run("a", tags=["x", "y"])))
    assert [m["recording_id"] for m in run(storage.list())] == [c, b, a]
    assert [m["recording_id"] for m in run(storage.list(RecordingQuery(
        workflow_name="a", sort_order="asc")))] == [a, c]
    assert [m["recording_id"] for m in run(storage.list(success=False))] == [b]
    assert [m["recording_id"] for m in run(storage.list(tags=["y"]))] == [c]
    failed = run(storage.get_metadata(b))
    assert failed["success"] is False and failed["error_type"] == "ValueError"


def test_delete_and_get_metadata_after(storage: FileRecordingStorage | InMemoryRecordingStorage
                                       ) -> None:
    """delete returns True then False; get_metadata is None once deleted; load raises."""
    rid = run(storage.save(published_run()))
    assert run(storage.delete(rid)) is True
    assert run(storage.delete(rid)) is False
    assert run(storage.get_metadata(rid)) is None
    with pytest.raises(RecordingNotFoundError):
        run(storage.load(rid))


def test_storage_stats(storage: FileRecordingStorage | InMemoryRecordingStorage) -> None:
    """get_storage_stats counts totals, outcomes, workflows and sizes."""
    for name, ok in (("a", True), ("a", False), ("b", True)):
        run(storage.save(published_run(name, success=ok)))
    st = run(storage.get_storage_stats())
    assert (st["total_recordings"], st["success_count"], st["failed_count"]) == (3, 2, 1)
    assert st["workflow_counts"] == {"a": 2, "b": 1}
    assert st["total_size_bytes"] > 0 and st["total_size_mb"] > 0
    assert st["top_error_types"] == {"ValueError": 1}


def test_retention_honours_the_published_started_at(
        storage: FileRecordingStorage | InMemoryRecordingStorage) -> None:
    """A start set on metadata before save is what age-based retention sees."""
    old = run(storage.save(published_run("old", age_days=40)))
    before = time.time()
    new = run(storage.save(published_run("new")))
    after = time.time()
    policy = RetentionPolicy(max_age_days=30)
    dry = run(storage.apply_retention_policy(policy, dry_run=True))
    assert dry["to_delete"] == 1 and dry["total_recordings"] == 2
    assert dry["total_size_bytes"] > 0 and dry["recording_ids"] == [old]
    assert run(storage.get_metadata(old)) is not None
    done = run(storage.apply_retention_policy(policy))
    assert done["to_delete"] == 1 and "older than 30 days" in done["deleted"][0]["reason"]
    assert [m["recording_id"] for m in run(storage.list())] == [new]
    meta = run(storage.get_metadata(new))
    assert before - 1e-3 <= meta["started_at"] <= after  # the run's own start, not one set


def test_in_memory_recordings_dict_and_clear() -> None:
    """InMemoryRecordingStorage keeps ids in _recordings; clear() forgets everything."""
    storage = InMemoryRecordingStorage()
    try:
        a = run(storage.save(published_run()))
        b = run(storage.save(published_run()))
        assert set(storage._recordings) == {a, b}
        run(storage.delete(a))
        assert set(storage._recordings) == {b}
        storage.clear()
        assert storage._recordings == {}
        assert run(storage.list()) == []
        assert run(storage.get_storage_stats())["total_recordings"] == 0
        c = run(storage.save(published_run()))
        assert set(storage._recordings) == {c}
    finally:
        storage.close()


def test_file_storage_writes_into_base_path(tmp_path: Path) -> None:
    """FileRecordingStorage keeps files (zstd, or plain with compress=False) in base_path."""
    plain = FileRecordingStorage(tmp_path / "plain", compress=False)
    rid = run(plain.save(published_run()))
    assert os.path.exists(tmp_path / "plain" / f"{rid}.jsonl")
    packed = FileRecordingStorage(str(tmp_path / "packed"))
    rid2 = run(packed.save(published_run()))
    assert os.path.exists(tmp_path / "packed" / f"{rid2}.jsonl.zst")


def test_policy_may_be_a_dict(storage: FileRecordingStorage | InMemoryRecordingStorage) -> None:
    """apply_retention_policy accepts the policy's fields as a dict."""
    for _ in range(3):
        run(storage.save(published_run()))
    out = run(storage.apply_retention_policy({"max_count": 1}))
    assert out["to_delete"] == 2 and len(run(storage.list())) == 1

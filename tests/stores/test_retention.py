"""Retention (storage/_retention.py): exactly the right files and rows go, and why."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from pathlib import Path

import pytest
from store_recordings import BASE, add_recording, python_args, subprocess_env

from recorder import record_workflow
from storage import (
    FileStore,
    LogReader,
    RetentionPolicy,
    open_store,
)

DAY = dt.timedelta(days=1)
NOW = BASE + 100 * DAY


def files(root: Path) -> set[str]:
    return {n for n in os.listdir(root) if n.endswith(".jsonl.zst")}


@pytest.fixture
def mixed(tmp_path: Path) -> tuple[FileStore, dict[str, str]]:
    """Eight recordings, newest last: ok1..ok5, two failures, one tagged keep."""
    store = FileStore(tmp_path / "s")
    ids = {}
    plan = [("ok1", "completed", ()), ("fail1", "failed", ()), ("ok2", "completed", ()),
            ("keep1", "completed", ("release",)), ("ok3", "completed", ()),
            ("fail2", "timed_out", ()), ("ok4", "completed", ()), ("ok5", "completed", ())]
    for day, (name, status, tags) in enumerate(plan):
        ids[name] = add_recording(store, workflow=name, status=status, tags=tags,
                                  started=BASE + day * DAY)
    return store, ids


def names(store: FileStore, ids: dict[str, str]) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return sorted(by_id[i.recording_id] for i in store.list())


def test_max_count_keep_failed_and_tags_to_keep(mixed: tuple[FileStore, dict[str, str]]
                                                ) -> None:
    """max_count keeps the newest unprotected; failed and tagged ones neither go nor count."""
    store, ids = mixed
    before = files(Path(store.root))
    result = store.apply_retention(RetentionPolicy(max_count=2, tags_to_keep=("release",)))
    gone = ["ok1", "ok2", "ok3"]
    assert [i.recording_id for i in result.deleted] == [ids[n] for n in gone]  # oldest first
    assert names(store, ids) == sorted(["fail1", "fail2", "keep1", "ok4", "ok5"])
    assert before - files(Path(store.root)) == {f"{ids[n]}.jsonl.zst" for n in gone}
    assert all("beyond max_count=2" in i.reason for i in result.deleted)
    assert result.protected == 3 and result.total_recordings == 8
    assert result.bytes_freed == sum(i.size for i in result.deleted) > 0
    assert result.to_dict()["to_delete"] == 3


def test_dry_run_deletes_nothing(mixed: tuple[FileStore, dict[str, str]]) -> None:
    """dry_run reports the same choice and leaves every file and row."""
    store, _ = mixed
    before = files(Path(store.root))
    dry = store.apply_retention(RetentionPolicy(max_count=1), dry_run=True)
    assert dry.dry_run and len(dry.deleted) == 5
    assert files(Path(store.root)) == before and len(store.list()) == 8
    real = store.apply_retention(RetentionPolicy(max_count=1))
    assert real.recording_ids == dry.recording_ids


def test_keep_failed_false_lets_failures_go(mixed: tuple[FileStore, dict[str, str]]) -> None:
    """Without keep_failed, failed runs count and go like any other."""
    store, ids = mixed
    result = store.apply_retention(RetentionPolicy(max_count=2, keep_failed=False))
    assert names(store, ids) == ["ok4", "ok5"]
    assert ids["fail2"] in result.recording_ids and result.protected == 0


def test_max_age_days(mixed: tuple[FileStore, dict[str, str]]) -> None:
    """Recordings started before now - max_age_days go, with their age as the reason."""
    store, ids = mixed
    result = store.apply_retention(RetentionPolicy(max_age_days=95.5), now=NOW)
    # Days 0..4 are 100..96 days old: all go but fail1 (keep_failed); keep1's tag is
    # not protected by this policy.
    assert sorted(result.recording_ids) == sorted(ids[n] for n in ("ok1", "ok2", "keep1", "ok3"))
    assert "older than 95.5 days (100.0 days old)" in result.deleted[0].reason


def test_max_size_gb_deletes_the_oldest(tmp_path: Path) -> None:
    """Once the newest add up to more than max_size_gb, the older ones go."""
    store = FileStore(tmp_path / "s")
    ids = [add_recording(store, started=BASE + n * DAY, pad=3000) for n in range(5)]
    sizes = {i.recording_id: i.size for i in store.list()}
    limit = sizes[ids[4]] + sizes[ids[3]] + sizes[ids[2]] // 2  # room for two and a half
    result = store.apply_retention(RetentionPolicy(max_size_gb=limit / 1e9))
    assert result.recording_ids == ids[:3]
    assert "over max_size_gb" in result.deleted[0].reason
    assert result.bytes_freed == sum(sizes[i] for i in ids[:3])


def test_no_limits_delete_nothing(mixed: tuple[FileStore, dict[str, str]]) -> None:
    """A policy with no limit set deletes nothing."""
    store, _ = mixed
    assert store.apply_retention(RetentionPolicy()).deleted == []


def test_running_recording_is_never_deleted(tmp_path: Path) -> None:
    """A recording still being written survives max_count=0 and does not count."""
    store = FileStore(tmp_path / "s")
    old = add_recording(store)
    with record_workflow("live", store=store.root) as rec:
        result = store.apply_retention(RetentionPolicy(max_count=0, keep_failed=False))
        assert result.recording_ids == [old]
        assert result.protected == 1
        assert [i.recording_id for i in store.list()] == [rec.recording_id]
    assert store.get(rec.recording_id).status == "completed"


def test_policy_validation() -> None:
    """Negative limits are refused; a single tag string is one tag."""
    with pytest.raises(ValueError, match="max_count"):
        RetentionPolicy(max_count=-1)
    with pytest.raises(ValueError, match="max_age_days"):
        RetentionPolicy(max_age_days=-0.5)
    assert RetentionPolicy(tags_to_keep="gold").tags_to_keep == ("gold",)  # type: ignore[arg-type]


# Records short runs into a store, one after another, until told to stop (a file appears);
# says "recording" after the first and the number of runs at the end.
WRITER = """
    import os, sys
    from recorder import record_workflow

    store, stop = sys.argv[1], sys.argv[2]
    n = 0
    while not os.path.exists(stop) and n < 400:
        with record_workflow("busy", store=store) as rec:
            for i in range(20):
                rec.event("tick", {"i": i})
        n += 1
        if n == 1:
            print("recording", flush=True)
    print(n, flush=True)
"""


@pytest.mark.slow
def test_retention_under_a_concurrent_writer(tmp_path: Path) -> None:
    """Pruning while another process records: no running recording is touched, and at the
    end every row has its file and every file its row."""
    root = tmp_path / "s"
    store = FileStore(root)
    for n in range(5):
        add_recording(store, started=BASE + n * DAY)
    stop = tmp_path / "stop"
    proc = subprocess.Popen(python_args(WRITER, root, stop), stdout=subprocess.PIPE,
                            env=subprocess_env(), text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "recording"
        deadline = time.monotonic() + 2.0
        rounds = 0
        while time.monotonic() < deadline:
            result = store.apply_retention(RetentionPolicy(max_count=3))
            assert all(i.status != "running" for i in result.deleted)
            rounds += 1
        stop.touch()
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert int(out) > 0 and rounds > 0
    infos = store.list()
    assert {os.path.basename(i.path) for i in infos} == files(root)
    for info in infos:
        with LogReader.open(info.path) as reader:
            assert reader.status == info.status == "completed"
    final = store.apply_retention(RetentionPolicy(max_count=3))
    assert len(store.list()) == 3 and files(root) == {
        os.path.basename(i.path) for i in store.list()}
    assert final.total_recordings == len(infos)


def test_retention_with_open_store_urls(tmp_path: Path) -> None:
    """apply_retention works the same through open_store on a path and on memory://."""
    for store in (open_store(tmp_path / "a"), open_store("memory://retention-test")):
        for n in range(3):
            add_recording(store, started=BASE + n * DAY)
        assert len(store.apply_retention(RetentionPolicy(max_count=1)).deleted) == 2
        assert len(store.list()) == 1
    open_store("memory://retention-test").close()  # type: ignore[attr-defined]

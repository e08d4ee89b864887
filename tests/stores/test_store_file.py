"""The file store (storage/_filestore.py) and open_store: files, catalog, lifecycle, verify."""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
from pathlib import Path

import pytest
from store_recordings import add_recording

from recorder import node, record_workflow
from replayer.cli import main
from storage import (
    FileStore,
    FsspecStore,
    MemoryStore,
    RecordingNotFoundError,
    RetentionPolicy,
    Store,
    StoreError,
    open_store,
)
from storage.stores.catalog import SCHEMA_VERSION, close_connections


@node
def double(x: int) -> int:
    return 2 * x


def catalog_rows(root: Path) -> list[tuple[str, str]]:
    """(id, status) of every catalog row, read with plain sqlite3."""
    conn = sqlite3.connect(root / "catalog.sqlite")
    try:
        return sorted(conn.execute("SELECT id, status FROM recordings").fetchall())
    finally:
        conn.close()


# --- open_store -------------------------------------------------------------------------
def test_open_store_picks_the_store_by_url(tmp_path: Path) -> None:
    """Paths and file:// give a FileStore, memory:// a MemoryStore, a Store is passed through."""
    assert isinstance(open_store(str(tmp_path)), FileStore)
    assert isinstance(open_store(tmp_path), FileStore)
    assert open_store(f"file://{tmp_path}").root == str(tmp_path)  # type: ignore[attr-defined]
    mem = open_store("memory://store-test")
    assert isinstance(mem, MemoryStore)
    assert open_store(mem) is mem
    for store in (open_store(tmp_path), mem):
        assert isinstance(store, Store)


def test_open_store_default_is_read_when_called(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a URL the store is $FLOWTAPE_STORE, read at the call."""
    monkeypatch.setenv("FLOWTAPE_STORE", str(tmp_path / "a"))
    assert open_store().root == str(tmp_path / "a")  # type: ignore[attr-defined]
    monkeypatch.setenv("FLOWTAPE_STORE", str(tmp_path / "b"))
    assert open_store().root == str(tmp_path / "b")  # type: ignore[attr-defined]


def test_unknown_scheme_lists_the_known_ones() -> None:
    """An unknown URL scheme is a StoreError naming the schemes that work."""
    with pytest.raises(StoreError, match=r"unknown store URL scheme 'nope'.*file.*memory.*s3"):
        open_store("nope://somewhere")


def test_object_store_without_the_extra_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without fsspec installed, an s3:// store raises ImportError naming flowtape[s3]."""
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(ImportError, match=r"pip install 'flowtape\[s3\]'"):
        open_store("s3://bucket/prefix")
    with pytest.raises(ImportError, match=r"flowtape\[s3\]"):
        FsspecStore("s3://bucket/prefix")


def test_a_missing_extra_is_a_store_error_too(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The missing extra is a StoreError (as its docstring says) and an ImportError, so the
    command line reports it in one line, exit 2, and not as an internal error."""
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(StoreError, match=r"pip install 'flowtape\[s3\]'"):
        open_store("s3://bucket/prefix")
    assert main(["--store", "s3://bucket/prefix", "list"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("flowtape: error: ") and "pip install 'flowtape[s3]'" in err
    assert "internal error" not in err and len(err.splitlines()) == 1


# --- the recorder's calls -------------------------------------------------------------------
def test_recording_is_catalogued_running_then_finished(store: Path) -> None:
    """begin() catalogues a run as running while it records; finish() stores its outcome."""
    with record_workflow("etl", store=store, tags=["nightly"]) as rec:
        double(2)
        assert catalog_rows(store) == [(rec.recording_id, "running")]
        assert open_store(store).get(rec.recording_id).status == "running"
    info = open_store(store).get(rec.recording_id)
    assert (info.status, info.success, info.workflow, info.tags) == (
        "completed", True, "etl", ["nightly"])
    assert info.event_count == 4 and info.node_count == 1
    assert info.size == os.path.getsize(info.path) and info.path == rec.path


def test_failed_run_records_error_type(store: Path) -> None:
    """A run that raises is catalogued failed with the exception's type."""
    with pytest.raises(KeyError), record_workflow("etl", store=store) as rec:
        raise KeyError("missing")
    info = open_store(store).get(rec.recording_id)
    assert (info.status, info.success, info.error_type) == ("failed", False, "KeyError")


def test_catalog_is_wal_sqlite_and_files_are_owner_only(store: Path) -> None:
    """The catalog is a WAL-mode SQLite file; recordings are created mode 0600."""
    with record_workflow("etl", store=store) as rec:
        double(1)
    conn = sqlite3.connect(store / "catalog.sqlite")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    assert rec.path is not None
    assert stat.S_IMODE(os.stat(rec.path).st_mode) == 0o600


def test_keep_failure_catalogues_only_at_finish(store: Path) -> None:
    """keep="failure": nothing is catalogued while running; a failure appears at the end."""
    with record_workflow("ok", store=store, keep="failure"):
        assert open_store(store).list() == []
    with pytest.raises(ValueError), record_workflow("bad", store=store, keep="failure") as rec:
        assert open_store(store).list() == []
        raise ValueError("x")
    infos = open_store(store).list()
    assert [(i.recording_id, i.status) for i in infos] == [(rec.recording_id, "failed")]
    recordings = [n for n in os.listdir(store) if not n.startswith("catalog.sqlite")]
    assert recordings == [os.path.basename(infos[0].path)]


def test_path_outside_the_store_is_catalogued_and_never_deleted(tmp_path: Path,
                                                                 store: Path) -> None:
    """record_workflow(path=, store=) catalogues the file; deleting drops only the row."""
    outside = tmp_path / "mine.jsonl.zst"
    with record_workflow("etl", store=store, path=str(outside)) as rec:
        double(3)
    s = open_store(store)
    assert s.get(rec.recording_id).path == str(outside)
    assert s.delete(rec.recording_id) is True
    assert outside.exists()
    with pytest.raises(RecordingNotFoundError):
        s.get(rec.recording_id)


def test_delete_removes_file_and_row(store: Path) -> None:
    """delete() removes the file and the row; a second delete returns False."""
    s = open_store(store)
    rid = add_recording(s)
    path = s.get(rid).path
    assert s.delete(rid) is True
    assert not os.path.exists(path)
    assert s.list() == []
    assert s.delete(rid) is False


def test_delete_refuses_a_recording_being_written(store: Path) -> None:
    """A running recording is not deleted unless forced."""
    s = open_store(store)
    with record_workflow("etl", store=store) as rec:
        with pytest.raises(StoreError, match="still being written"):
            s.delete(rec.recording_id)
        assert s.get(rec.recording_id).status == "running"


def test_open_reads_the_recording(store: Path) -> None:
    """open(id) gives a LogReader over the recording's events."""
    with record_workflow("etl", store=store) as rec:
        double(5)
    with open_store(store).open(rec.recording_id[:12]) as reader:
        assert [e.kind for e in reader.iter_events()] == [
            "workflow_start", "node_start", "node_complete", "workflow_complete"]


def test_directory_without_catalog_is_indexed_on_first_use(store: Path) -> None:
    """Recordings made before the catalog existed are indexed when a catalog is created."""
    s = open_store(store)
    ids = {add_recording(s, workflow=f"w{i}") for i in range(3)}
    for name in os.listdir(store):
        if name.startswith("catalog.sqlite"):
            os.unlink(store / name)
    assert {i.recording_id for i in open_store(store).list()} == ids


def test_uncatalogued_file_is_found_by_exact_id(store: Path) -> None:
    """get(id) of a file the catalog lacks indexes it on the spot."""
    s = open_store(store)
    rid = add_recording(s)
    conn = sqlite3.connect(store / "catalog.sqlite")
    try:
        conn.execute("DELETE FROM recordings")
        conn.commit()
    finally:
        conn.close()
    assert s.get(rid).recording_id == rid
    assert [i.recording_id for i in s.list()] == [rid]


# --- verify ---------------------------------------------------------------------------------
def test_verify_drops_rows_whose_file_vanished(store: Path) -> None:
    """A row whose file was removed behind the store's back is reported and dropped."""
    s = open_store(store)
    keep, gone = add_recording(s), add_recording(s)
    os.unlink(s.get(gone).path)
    result = s.verify()
    assert result.missing == [gone] and not result.ok
    assert [i.recording_id for i in s.list()] == [keep]
    assert s.verify().ok


def test_verify_reports_uncatalogued_and_corrupt_files(store: Path) -> None:
    """A file the catalog lacks that is no recording is unreadable; deep verify finds a
    damaged frame."""
    s = open_store(store)
    rid = add_recording(s, events=50, pad=64)
    path = s.get(rid).path
    data = bytearray(Path(path).read_bytes())
    mid = len(data) // 2
    data[mid:mid + 8] = b"\x00" * 8
    Path(path).write_bytes(bytes(data))
    stray = store / "stray.jsonl"
    stray.write_text("{}\n")
    result = s.verify(deep=True)
    assert [p for p, _ in result.unreadable] == [str(stray)] and result.uncatalogued == []
    assert "not a flowtape recording" in result.unreadable[0][1]
    assert [c[0] for c in result.corrupt] == [rid]
    assert "is damaged" in result.corrupt[0][1] and not result.ok


def test_open_of_a_vanished_file_drops_the_row(store: Path) -> None:
    """Opening a recording whose file is gone raises not-found and forgets the row."""
    s = open_store(store)
    rid = add_recording(s)
    os.unlink(s.get(rid).path)
    with pytest.raises(RecordingNotFoundError, match="vanished"):
        s.open(rid)
    assert s.list() == []


# --- the memory store -----------------------------------------------------------------------------
def test_memory_store_is_shared_by_name_and_removed_on_close() -> None:
    """memory://name is one store per name in the process; close() removes its files."""
    a = open_store("memory://file-test-a")
    assert open_store("memory://file-test-a") is a
    assert open_store("memory://file-test-b") is not a
    with record_workflow("etl", store="memory://file-test-a") as rec:
        double(1)
    assert [i.recording_id for i in a.list()] == [rec.recording_id]
    assert a.url == "memory://file-test-a"
    root = a.root  # type: ignore[attr-defined]
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    a.close()  # type: ignore[attr-defined]
    assert not os.path.exists(root)
    assert open_store("memory://file-test-a").list() == []
    open_store("memory://file-test-a").close()  # type: ignore[attr-defined]
    open_store("memory://file-test-b").close()  # type: ignore[attr-defined]


def test_memory_store_clear_forgets_everything() -> None:
    """clear() empties a memory store, which then records again."""
    m = MemoryStore()
    try:
        add_recording(m)
        m.clear()
        assert m.list() == []
        rid = add_recording(m)
        assert [i.recording_id for i in m.list()] == [rid]
    finally:
        m.close()


READS = {
    "list": lambda s: s.list(),
    "stats": lambda s: s.stats(),
    "get": lambda s: s.get("latest"),
    "open": lambda s: s.open("abcd"),
    "local_path": lambda s: s.local_path("abcd"),
    "delete": lambda s: s.delete("abcd"),
    "apply_retention": lambda s: s.apply_retention(RetentionPolicy(max_count=0)),
    "reindex": lambda s: s.reindex(),
    "verify": lambda s: s.verify(),
}


@pytest.mark.parametrize("call", sorted(READS))
def test_reading_a_missing_store_is_an_error(tmp_path: Path, call: str) -> None:
    """A store directory that does not exist is a StoreError naming it; nothing is created."""
    where = tmp_path / "nowhere"
    with pytest.raises(StoreError, match=f"no store at {where}: the directory does not exist"):
        READS[call](open_store(where))
    assert not where.exists()


@pytest.mark.parametrize("call", sorted(READS))
def test_a_file_is_not_a_store(tmp_path: Path, call: str) -> None:
    """A store path that is a file is a StoreError saying so; the file is left as it was."""
    where = tmp_path / "some_file.py"
    where.write_text("x = 1\n")
    with pytest.raises(StoreError, match=f"{where} is a file, not a store directory"):
        READS[call](open_store(where))
    assert where.read_text() == "x = 1\n"


def test_recording_into_a_missing_store_creates_it(tmp_path: Path) -> None:
    """The first recording into a store directory that does not exist yet creates it."""
    where = tmp_path / "new" / "store"
    with record_workflow("etl", store=where) as rec:
        double(1)
    assert [i.recording_id for i in open_store(where).list()] == [rec.recording_id]


def test_a_catalog_of_an_older_schema_is_brought_up_to_date(store: Path) -> None:
    """A version-1 catalog (no skipped table, no degraded column) is migrated in place,
    its rows kept."""
    s = open_store(store)
    rid = add_recording(s)
    close_connections()
    conn = sqlite3.connect(store / "catalog.sqlite")
    try:
        conn.execute("DROP TABLE skipped")
        conn.execute("ALTER TABLE recordings DROP COLUMN degraded")
        conn.execute("PRAGMA user_version = 1")
        conn.commit()
    finally:
        conn.close()
    assert [(i.recording_id, i.degraded) for i in open_store(store).list()] == [(rid, [])]
    conn = sqlite3.connect(store / "catalog.sqlite")
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT COUNT(*) FROM skipped").fetchone()[0] == 0
    finally:
        conn.close()

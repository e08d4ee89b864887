"""The object store against a real S3-compatible server (moto) on 127.0.0.1.

The server (`s3_server.moto_server`) runs in a child process for this module
only; it stops when the tests close its stdin, or by itself after five minutes. The store
talks to it through s3fs exactly as it would to S3: the endpoint and
credentials come from the standard AWS environment variables.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from s3_server import moto_server, s3_environment
from store_recordings import (
    MALFORMED,
    kill,
    running_victim,
    write_malformed,
    write_without_footer,
)

pytest.importorskip("moto", reason="the S3 tests need the dev extra (moto[server])")
pytest.importorskip("s3fs", reason="the S3 tests need the s3 extra (fsspec, s3fs)")

from recorder import node, record_workflow
from replayer import Replayer
from storage import (
    FileStore,
    FsspecStore,
    RecordingNotFoundError,
    RecordingQuery,
    RetentionPolicy,
    StoreError,
    open_store,
)

# One server per test worker: keep this module's tests on one (make test uses loadgroup).
pytestmark = pytest.mark.xdist_group("s3")

BUCKET = "flowtape-test"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 for this module's tests: its URL."""
    with moto_server() as url:
        yield url


@pytest.fixture
def s3(endpoint: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty s3:// prefix (its own per test) with the environment pointing at the server."""
    with s3_environment(endpoint, tmp_path):
        url = f"s3://{BUCKET}/{request.node.name}"
        fs = open_store(url).fs  # type: ignore[attr-defined]
        if not fs.exists(BUCKET):
            fs.mkdir(BUCKET)
        yield url


@node
def square(x: int) -> int:
    return x * x


def record(url: str, n: int, *, fail: int | None = None, tags: tuple[str, ...] = ()) -> str:
    try:
        with record_workflow("etl", store=url, tags=list(tags)) as rec:
            for i in range(n):
                square(i)
            rec.snapshot({"done": n})
            if fail is not None:
                raise RuntimeError("planned")
    except RuntimeError:
        pass
    return rec.recording_id


def objects(url: str) -> list[str]:
    fs = open_store(url).fs  # type: ignore[attr-defined]
    root = url.removeprefix("s3://")
    fs.invalidate_cache(root)
    try:
        return sorted(p.rsplit("/", 1)[-1] for p in fs.ls(root))
    except FileNotFoundError:
        return []


@contextlib.contextmanager
def counting_reads(store: FsspecStore) -> Iterator[list[int]]:
    """Within the block, the sizes of the byte ranges ``store`` reads (a spy: every byte
    still comes from the server)."""
    reads: list[int] = []
    real = store.fs.cat_file

    def counting(path: str, start: int | None = None, end: int | None = None,
                 **kw: Any) -> bytes:
        data: bytes = real(path, start=start, end=end, **kw)
        reads.append(len(data))
        return data

    store.fs.cat_file = counting
    try:
        yield reads
    finally:
        del store.fs.cat_file


def test_round_trip(s3: str) -> None:
    """record -> list -> open -> replay -> retention, all through the S3 server."""
    ids = [record(s3, 3, tags=("a",)), record(s3, 2, fail=1), record(s3, 4, tags=("a", "b"))]
    assert objects(s3) == sorted(f"{i}.jsonl.zst" for i in ids)
    store = open_store(s3)
    assert isinstance(store, FsspecStore)
    assert not os.listdir(store.spool_dir)  # uploaded, spool emptied

    infos = store.list()
    assert [i.recording_id for i in infos] == ids[::-1]
    assert [i.status for i in infos] == ["completed", "failed", "completed"]
    assert infos[0].path == f"{s3}/{ids[2]}.jsonl.zst"
    assert [i.recording_id for i in store.list(RecordingQuery(tags=["a"]))] == [ids[2], ids[0]]
    assert store.get(ids[1][:20]).error_type == "RuntimeError"

    with Replayer.open(ids[2], store=store) as r:
        assert r.summary.status == "completed"
        assert [e.kind for e in r.step_forward(3)] == ["workflow_start", "node_start",
                                                        "node_complete"]
        assert r.get_state_at_event(len(r) - 2) == {"done": 4}

    result = store.apply_retention(RetentionPolicy(max_count=1))
    assert result.recording_ids == [ids[0]]  # the failure is protected, the newest kept
    assert objects(s3) == sorted(f"{i}.jsonl.zst" for i in ids[1:])
    assert [i.recording_id for i in store.list()] == [ids[2], ids[1]]
    st = store.stats()
    assert (st.total, st.successes, st.failures) == (2, 1, 1)


def test_another_machine_rebuilds_the_catalog_from_the_objects(s3: str, tmp_path: Path
                                                               ) -> None:
    """A store with an empty cache lists the same recordings, reading only headers/footers."""
    small = record(s3, 2, fail=1)
    with record_workflow("big", store=s3) as rec:
        for _ in range(150):
            rec.event("blob", {"hex": os.urandom(1500).hex()})  # ~250 KB, little compression
    ids = [small, rec.recording_id]
    mine = open_store(s3).list()
    other = FsspecStore(s3, cache_dir=tmp_path / "elsewhere")
    with counting_reads(other) as reads:
        theirs = other.list()
    strip = [(i.recording_id, i.status, i.event_count, i.size, i.tags) for i in mine]
    assert [(i.recording_id, i.status, i.event_count, i.size, i.tags) for i in theirs] == strip
    big = next(i for i in theirs if i.recording_id == ids[1])
    assert big.size > 200_000 and big.event_count == 152
    assert sum(reads) < big.size // 4  # the header and footer, not the events
    with other.open(ids[1]) as reader:
        assert reader.event_count == big.event_count


@pytest.mark.slow
def test_crash_leaves_the_spool_and_upload_spooled_sends_it(s3: str) -> None:
    """A recorder killed mid-run leaves its spool file; upload_spooled uploads it later."""
    store = open_store(s3)
    assert isinstance(store, FsspecStore)
    with running_victim(s3) as (proc, rid):
        spooled = os.path.join(store.spool_dir, f"{rid}.jsonl.zst")
        assert os.path.exists(spooled)
        assert store.upload_spooled().skipped == [rid]  # still being written
        kill(proc)
    assert objects(s3) == []
    result = store.upload_spooled()
    assert result.uploaded == [rid] and not result.failed
    assert not os.path.exists(spooled)
    assert objects(s3) == [f"{rid}.jsonl.zst"]
    info = FsspecStore(s3, cache_dir=os.path.join(store.local_root, "x")).get(rid)
    assert (info.status, info.event_count) == ("incomplete", 6)
    check = store.verify(deep=True)  # the verdict `verify FILE` gives: not OK
    assert check.incomplete == [rid] and not check.ok


def test_failed_upload_keeps_the_spool_until_reindex(s3: str, caplog: pytest.LogCaptureFixture
                                                     ) -> None:
    """If the upload fails the run goes on, the spool stays, and reindex uploads it."""
    url = f"s3://flowtape-missing-bucket/{s3.rsplit('/', 1)[-1]}"
    rid = record(url, 2)  # the bucket does not exist: the upload fails, the workflow does not
    assert "stays in the spool" in caplog.text
    store = open_store(url)
    assert isinstance(store, FsspecStore)
    assert os.path.exists(os.path.join(store.spool_dir, f"{rid}.jsonl.zst"))
    with pytest.raises(StoreError, match="the bucket 'flowtape-missing-bucket' does not exist"):
        store.get(rid)  # reading a store whose bucket is missing is an error, not silence
    store.fs.mkdir("flowtape-missing-bucket")
    try:
        result = store.reindex()
        assert result.uploaded == [rid]
        assert store.get(rid).path == f"{url}/{rid}.jsonl.zst"
        assert store.verify(deep=True).ok
    finally:
        store.fs.rm("flowtape-missing-bucket", recursive=True)


def test_deleting_and_vanished_objects(s3: str) -> None:
    """delete() removes the object; an object removed behind the store's back is dropped."""
    a, b = record(s3, 1), record(s3, 1)
    store = open_store(s3)
    assert store.delete(a) is True
    assert objects(s3) == [f"{b}.jsonl.zst"]
    store.fs.rm_file(f"{s3.removeprefix('s3://')}/{b}.jsonl.zst")  # type: ignore[attr-defined]
    assert store.list() == []
    with pytest.raises(RecordingNotFoundError):
        store.get(b)


def test_an_object_is_not_a_store(s3: str) -> None:
    """A store URL naming an object rather than a prefix is a StoreError saying so."""
    rid = record(s3, 1)
    url = f"{s3}/{rid}.jsonl.zst"
    for read in (lambda s: s.list(), lambda s: s.stats(), lambda s: s.verify()):
        with pytest.raises(StoreError, match="is an object, not a store prefix"):
            read(open_store(url))


def test_malformed_objects_are_reported_and_skipped(s3: str, tmp_path: Path) -> None:
    """The malformed recordings of the file-store tests, as objects: the prefix still works,
    each one is reported with the reason the file store gives, and is not read again."""
    good = record(s3, 2)
    local = FileStore(tmp_path / "local")
    local.path_for("x", "zstd")  # creates the directory
    store = open_store(s3)
    assert isinstance(store, FsspecStore)
    paths, urls = {}, {}
    for kind in MALFORMED:
        paths[kind] = write_malformed(local.root, kind)
        urls[kind] = f"{s3}/{os.path.basename(paths[kind])}"
        store.fs.put_file(paths[kind], urls[kind].removeprefix("s3://"))
    assert [i.recording_id for i in store.list()] == [good]
    with counting_reads(store) as reads:
        assert store.stats().total == 1
    assert reads == []  # known bad objects are remembered, not read on every query
    result = store.reindex()
    assert result.indexed == 1
    check = store.verify(deep=True)
    assert check.checked == 1 and check.corrupt == []
    mine = {kind: reason.removeprefix(f"{urls[kind]}: ")
            for kind, reason in ((k, dict(check.unreadable)[urls[k]]) for k in MALFORMED)}
    assert mine == {kind: reason.removeprefix(f"{urls[kind]}: ")
                    for kind, reason in ((k, dict(result.unreadable)[urls[k]])
                                         for k in MALFORMED)}
    local.reindex()
    theirs = {kind: dict(local.verify().unreadable)[paths[kind]].removeprefix(f"{paths[kind]}: ")
              for kind in MALFORMED}
    assert mine == theirs  # the same named errors, whichever store met the file
    assert store.apply_retention(RetentionPolicy(max_count=0, keep_failed=False)
                                 ).recording_ids == [good]
    assert objects(s3) == sorted(os.path.basename(p) for p in paths.values())


def test_a_copied_object_is_a_duplicate_not_a_second_row(s3: str) -> None:
    """A copy X-backup of object X: one row (X's), the copy reported by reindex and verify
    and not read again on every query; once X is deleted the copy is catalogued instead."""
    rid, other = record(s3, 2), record(s3, 3)
    store = open_store(s3)
    assert isinstance(store, FsspecStore)
    root = s3.removeprefix("s3://")
    store.fs.copy(f"{root}/{rid}.jsonl.zst", f"{root}/{rid}-backup.jsonl.zst")
    backup = f"{s3}/{rid}-backup.jsonl.zst"
    assert sorted(i.recording_id for i in store.list()) == sorted([rid, other])
    assert store.get(rid).path == f"{s3}/{rid}.jsonl.zst"
    with counting_reads(store) as reads:
        assert len(store.list()) == 2
    assert reads == []
    result = store.reindex()
    assert result.indexed == 2 and [p for p, _ in result.duplicates] == [backup]
    assert f"a second copy of recording {rid}" in result.duplicates[0][1]
    check = store.verify()
    assert check.ok and [p for p, _ in check.duplicates] == [backup] and not check.unreadable
    assert store.delete(rid) is True
    assert store.get(rid).path == backup


def test_finish_uploads_a_degraded_run_as_incomplete(s3: str) -> None:
    """finish(degraded=...) of a spooled file without a footer: uploaded, incomplete, noted."""
    store = open_store(s3)
    assert isinstance(store, FsspecStore)
    rid = write_without_footer(store)
    store.finish(rid, os.path.join(store.spool_dir, f"{rid}.jsonl.zst"),
                 degraded=["the footer could not be written"])
    info = store.get(rid)
    assert info.path == f"{s3}/{rid}.jsonl.zst"
    assert (info.status, info.degraded) == ("incomplete", ["the footer could not be written"])

"""One malformed file never breaks a whole store (issue 10.8).

Each recording of `store_recordings.MALFORMED` — a header whose
``started_at`` is "yesterday", a footer-less file whose ``pid`` is 2**40, a
header nested 5000 deep, ``recording_id``s like ``../../etc/passwd`` or with
a NUL, a footer whose duration does not fit the catalog — sits in a store
beside a good recording. Every store operation goes on working; reindex and
verify name each bad file and what is wrong with it, and nothing of it
enters the catalog. The object store gets the same files in
tests/stores/test_store_s3.py and must give the same reasons.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from store_recordings import MALFORMED, add_recording, write_malformed

from replayer.cli import main
from storage import FileStore, MemoryStore, RetentionPolicy
from storage.stores.catalog import CATALOG_NAME


def reasons(pairs: list[tuple[str, str]], paths: dict[str, str]) -> dict[str, str]:
    """kind -> the reason reported for that kind's file, its path (or URL) prefix cut off."""
    by_path = dict(pairs)
    return {kind: by_path[path].removeprefix(f"{path}: ") for kind, path in paths.items()}


def expected_reasons() -> dict[str, str]:
    return {kind: what for kind, (_, _, what) in MALFORMED.items()}


def assert_reported(found: dict[str, str]) -> None:
    """Each reason says what the table says is wrong with that file."""
    for kind, reason in found.items():
        assert MALFORMED[kind][2] in reason, (kind, reason)


@pytest.fixture(params=["file", "memory"])
def bad_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[FileStore, str,
                                                                       dict[str, str]]:
    """A store holding one good recording and every malformed one, with no catalog yet.

    Returns (store, the good id, kind -> path of the malformed file).
    """
    store = FileStore(tmp_path / "s") if request.param == "file" else MemoryStore()
    good = add_recording(store)
    paths = {kind: write_malformed(store.root, kind) for kind in MALFORMED}
    for name in os.listdir(store.root):
        if name.startswith(CATALOG_NAME):
            os.unlink(os.path.join(store.root, name))
    yield store, good, paths
    if isinstance(store, MemoryStore):
        store.close()


def test_the_store_works_around_malformed_files(
        bad_store: tuple[FileStore, str, dict[str, str]]) -> None:
    """list (which builds the catalog), get, stats, reindex, verify and retention all answer;
    only the good recording is catalogued."""
    store, good, paths = bad_store
    assert [i.recording_id for i in store.list()] == [good]
    assert store.get("latest").recording_id == good
    assert store.stats().total == 1
    result = store.reindex()
    assert result.indexed == 1
    assert sorted(p for p, _ in result.unreadable) == sorted(paths.values())
    assert_reported(reasons(result.unreadable, paths))
    check = store.verify(deep=True)
    assert check.uncatalogued == [] and check.checked == 1
    assert reasons(check.unreadable, paths) == reasons(result.unreadable, paths)
    gone = store.apply_retention(RetentionPolicy(max_count=0, keep_failed=False))
    assert gone.recording_ids == [good]
    assert all(os.path.exists(p) for p in paths.values())  # reported, never touched


def test_nothing_malformed_enters_the_catalog(tmp_path: Path) -> None:
    """No id from a malformed header reaches the catalog, whichever way a file is met."""
    store = FileStore(tmp_path / "s")
    add_recording(store)
    for kind in MALFORMED:
        write_malformed(store.root, kind)
    store.reindex()
    ids = {i.recording_id for i in store.list()}
    assert len(ids) == 1 and all(i.isalnum() for i in ids)


def test_reindex_and_verify_name_the_files_on_the_command_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """flowtape reindex and verify print each malformed file with its reason; exit 0 / 1."""
    root = tmp_path / "s"
    add_recording(FileStore(root))
    paths = {kind: write_malformed(str(root), kind) for kind in MALFORMED}
    assert main(["--store", str(root), "reindex"]) == 0
    out = capsys.readouterr().out
    assert f"{len(MALFORMED)} unreadable" in out
    for kind, path in paths.items():
        assert f"{path}: " in out and MALFORMED[kind][2] in out
    assert main(["--store", str(root), "verify"]) == 1
    out = capsys.readouterr().out
    assert f"{len(MALFORMED)} unreadable" in out and "uncatalogued" not in out

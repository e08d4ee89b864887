"""What a store does to stay inside its own directory and keep its catalog private.

The catalog holds workflow names, tags and error types — as private as the
recordings, which are created 0600 — so it and its ``-wal``/``-shm`` files
are 0600 whatever the umask. A symbolic link named like a recording is
never followed out of the store: opening it by id is refused, and reindex,
verify and cleanup do not read, index or delete through it.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_recordings import add_recording

from storage import FileStore, RetentionPolicy, StoreError
from storage.stores.catalog import close_connections

CATALOG_FILES = ("catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm")


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which new files are 0644 unless made otherwise."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def modes(root: Path) -> dict[str, int]:
    return {n: stat.S_IMODE(os.stat(root / n).st_mode) for n in CATALOG_FILES
            if (root / n).exists()}


@pytest.mark.usefixtures("umask_022")
def test_catalog_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    """A new catalog, its -wal and its -shm are created 0600 under umask 022."""
    root = tmp_path / "s"
    store = FileStore(root)
    add_recording(store)
    found = modes(root)
    assert set(found) == set(CATALOG_FILES)  # WAL mode: the connection keeps all three
    assert found == dict.fromkeys(CATALOG_FILES, 0o600)


@pytest.mark.usefixtures("umask_022")
def test_an_open_catalog_is_made_owner_only(tmp_path: Path) -> None:
    """A catalog left 0644 by an older flowtape is made 0600 when it is next opened."""
    root = tmp_path / "s"
    store = FileStore(root)
    add_recording(store)
    close_connections()
    for name in CATALOG_FILES:
        if (root / name).exists():
            os.chmod(root / name, 0o644)
    assert len(store.list()) == 1
    assert set(modes(root).values()) == {0o600}


@pytest.fixture
def linked(tmp_path: Path) -> tuple[FileStore, str, Path]:
    """A store holding one recording and a link ``<id>.jsonl.zst`` to a recording outside it.

    Returns (store, the link's id, the file outside).
    """
    store = FileStore(tmp_path / "s")
    add_recording(store)
    elsewhere = FileStore(tmp_path / "elsewhere")
    rid = add_recording(elsewhere, workflow="secret")
    outside = Path(elsewhere.get(rid).path)
    os.symlink(outside, store.root + f"/{rid}.jsonl.zst")
    return store, rid, outside


def test_a_link_out_of_the_store_is_refused_by_id(linked: tuple[FileStore, str, Path]) -> None:
    """get/open/local_path of a link leaving the store raise StoreError naming it."""
    store, rid, outside = linked
    for call in (store.get, store.open, store.local_path):
        with pytest.raises(StoreError, match=rf"{rid}\.jsonl\.zst is a symbolic link to "
                           rf"{outside}, outside the store"):
            call(rid)
    assert [i.workflow for i in store.list()] == ["wf"]


def test_a_catalogued_file_replaced_by_a_link_is_refused(tmp_path: Path) -> None:
    """A recording swapped for a link after it was catalogued is refused when opened by id."""
    store = FileStore(tmp_path / "s")
    rid = add_recording(store)
    path = Path(store.get(rid).path)
    outside = tmp_path / "outside.jsonl.zst"
    shutil.move(path, outside)
    os.symlink(outside, path)
    with pytest.raises(StoreError, match=r"is a symbolic link to .*outside the store"):
        store.open(rid)


def test_walks_do_not_follow_links(linked: tuple[FileStore, str, Path]) -> None:
    """reindex and verify report the link without reading through it; cleanup leaves it."""
    store, rid, outside = linked
    link = os.path.join(store.root, f"{rid}.jsonl.zst")
    result = store.reindex()
    assert result.indexed == 1
    assert result.unreadable == [(link, f"a symbolic link to {outside}; links in a store are "
                                  "not followed: move or copy the recording itself into the "
                                  "store")]
    check = store.verify(deep=True)
    assert check.unreadable == result.unreadable and link not in check.uncatalogued
    store.apply_retention(RetentionPolicy(max_count=0, keep_failed=False))
    assert outside.exists() and os.path.islink(link)
    assert store.list() == []

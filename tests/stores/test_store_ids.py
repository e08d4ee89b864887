"""Ids are ids (SPEC §7): nothing given as an id can address a file outside the store."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from store_recordings import add_recording

from storage import FileStore, InvalidIdError, MemoryStore, Store, StoreError

BAD_IDS = [
    "../x",
    "../../etc/passwd",
    "/etc/passwd",
    "/tmp",
    "a/b",
    "a\\b",
    "..",
    ".",
    "",
    " ",
    "abc def",
    "x;rm -rf",
    "id\x00",
    "caf\u00e9",
    "\u0661\u0662",  # Arabic-Indic digits
    "x" * 129,
    "*",
    "a?",
    "~root",
    "C:evil",
    "%2e%2e",
]

CALLS: dict[str, Callable[[Store, str], object]] = {
    "get": lambda s, i: s.get(i),
    "open": lambda s, i: s.open(i),
    "delete": lambda s, i: s.delete(i),
    "local_path": lambda s, i: s.local_path(i),
    "path_for": lambda s, i: s.path_for(i, "zstd"),
}


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the store, and a file beside the store that ids must not reach."""
    root = tmp_path_factory.mktemp("ids")
    (root / "x.jsonl.zst").write_bytes(b"secret")
    return root


@pytest.fixture(scope="module", params=["file", "memory"])
def store(request: pytest.FixtureRequest, outside: Path) -> Iterator[Store]:
    """A store with one recording in it."""
    s: FileStore = FileStore(outside / "s") if request.param == "file" else MemoryStore()
    add_recording(s)
    yield s
    if isinstance(s, MemoryStore):
        s.close()


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("bad", BAD_IDS, ids=[repr(b)[:20] for b in BAD_IDS])
def test_bad_ids_are_refused(store: Store, call: str, bad: str) -> None:
    """Every store call refuses anything but [0-9A-Za-z_-] with InvalidIdError (a ValueError)."""
    with pytest.raises(InvalidIdError) as err:
        CALLS[call](store, bad)
    assert isinstance(err.value, ValueError)
    assert "is not a recording id" in str(err.value)
    assert "letters, digits" in str(err.value)


def test_nothing_outside_the_store_was_touched(store: Store, outside: Path) -> None:
    """After every bad call, the file beside the store is still there and unread."""
    for bad in BAD_IDS:
        for call in CALLS.values():
            with pytest.raises(InvalidIdError):
                call(store, bad)
    assert (outside / "x.jsonl.zst").read_bytes() == b"secret"
    assert len(store.list()) == 1


def test_path_for_stays_in_the_store(store: Store) -> None:
    """A valid id always maps to a file directly inside the store's directory."""
    root = os.path.realpath(store.root)  # type: ignore[attr-defined]
    for rid in ("abc", "A-b_c", "0" * 128, "-", "_"):
        path = os.path.realpath(store.path_for(rid, "gzip"))
        assert os.path.dirname(path) == root
        assert os.path.basename(path) == rid + ".jsonl.gz"


def test_unknown_codec_is_refused(store: Store) -> None:
    """path_for with an unknown codec raises ValueError naming the codecs."""
    with pytest.raises(ValueError, match="gzip, none, zstd"):
        store.path_for("abc", "lz4")


def test_latest_is_a_word_not_an_id(store: Store) -> None:
    """`latest` resolves to the newest recording rather than being looked up as an id."""
    newest = store.list()[0].recording_id
    assert store.get("latest").recording_id == newest


def test_error_names_the_way_out() -> None:
    """The message says what ids may hold and that files are opened by path."""
    err = InvalidIdError("../x")
    assert "'../x' is not a recording id" in str(err)
    assert "to open a file, pass its path" in str(err)
    assert not isinstance(err, StoreError)

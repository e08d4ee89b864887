"""Two files holding one recording id in a store (issue 9.10).

A copy ``X-backup.jsonl.zst`` of recording X sits beside ``X.jsonl.zst``.
reindex catalogues one of them — the intact one, whatever the names and
their order — counts what it really indexed, and names the other copy with
what to do; verify names it too, instead of calling it uncatalogued and
suggesting reindex forever. The object store does the same with objects
(tests/stores/test_store_s3.py).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from store_recordings import add_recording

from replayer.cli import main
from storage import FileStore


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    """A file store with three recordings."""
    s = FileStore(tmp_path / "s")
    for workflow in ("a", "b", "c"):
        add_recording(s, workflow=workflow, events=40, pad=32)
    return s


def copy_of(store: FileStore, rid: str, name: str) -> Path:
    """Copy recording ``rid``'s file to ``name`` inside the store."""
    target = Path(store.root) / name
    shutil.copyfile(store.get(rid).path, target)
    return target


def damage(path: Path) -> None:
    """Flip a byte in the middle of the file (an event frame: the footer still reads)."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_reindex_keeps_one_row_and_names_the_copy(store: FileStore) -> None:
    """A backup copy: 3 indexed (not 4), the original stays catalogued, the copy is reported."""
    rid = store.list()[0].recording_id
    original = store.get(rid).path
    backup = copy_of(store, rid, f"{rid}-backup.jsonl.zst")
    result = store.reindex()
    assert result.indexed == 3 and len(store.list()) == 3
    assert store.get(rid).path == original
    assert [p for p, _ in result.duplicates] == [str(backup)]
    reason = result.duplicates[0][1]
    assert f"a second copy of recording {rid}" in reason and original in reason
    assert "remove this copy, or move it out of the store" in reason


@pytest.mark.parametrize("damaged", ["original", "copy"])
@pytest.mark.parametrize("name", ["{rid}-backup.jsonl.zst", "{rid}_zcopy.jsonl.zst"])
def test_a_damaged_copy_never_shadows_the_intact_file(store: FileStore, damaged: str,
                                                      name: str) -> None:
    """Whichever of the two is damaged, and whichever name sorts first, the intact one is
    catalogued and the damaged one reported."""
    rid = store.list()[1].recording_id
    original = Path(store.get(rid).path)
    copy = copy_of(store, rid, name.format(rid=rid))
    bad, good = (original, copy) if damaged == "original" else (copy, original)
    damage(bad)
    result = store.reindex()
    assert result.indexed == 3
    assert store.get(rid).path == str(good)
    assert [p for p, _ in result.duplicates] == [str(bad)]
    assert "(damaged)" in result.duplicates[0][1]


def test_verify_names_the_copy_and_what_to_do(store: FileStore,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """verify reports the copy as a duplicate (exit 0), never as uncatalogued; --json too."""
    rid = store.list()[2].recording_id
    backup = copy_of(store, rid, f"{rid}-backup.jsonl.zst")
    check = store.verify()
    assert check.uncatalogued == [] and check.ok
    assert [p for p, _ in check.duplicates] == [str(backup)]
    assert main(["--store", store.root, "verify"]) == 0
    out = capsys.readouterr().out
    assert "1 duplicate: files holding a recording the store already has" in out
    assert f"{backup}: a second copy of recording {rid}" in out
    assert "uncatalogued" not in out and out.rstrip().endswith("OK")
    assert main(["--store", store.root, "reindex", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["indexed"] == 3 and [d[0] for d in result["duplicates"]] == [str(backup)]
    assert os.path.exists(backup)  # reported, never removed

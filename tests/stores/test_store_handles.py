"""Ids by a unique prefix or a unique suffix, and the shortest handle `list` shows (issue 9.13).

Recording ids begin with the time, so runs of the same minute share long
prefixes; their ends are random. Wherever an id is taken, a unique prefix
or a unique suffix of at least 4 characters names the recording; one that
matches several is an `AmbiguousIdError` listing them. `Store.handles` gives
each id the shortest such handle, which `flowtape list` shows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from store_recordings import add_recording

from replayer.cli import main
from storage import AmbiguousIdError, FileStore, RecordingNotFoundError
from storage.stores.ids import shortest_handles

# Ids made to collide: A and B share their first 10 and last 4 characters; D begins with
# the 4 characters C ends with.
A = "01hzzzzzzzaaaaaaaaaaaaqrst"
B = "01hzzzzzzzbbbbbbbbbbbbqrst"
C = "01hzzzzzzzcccccccccccc9876"
D = "9876ffffffffffffffffffffff"


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    s = FileStore(tmp_path / "s")
    for rid in (A, B, C, D):
        add_recording(s, rid=rid)
    return s


def test_a_unique_suffix_names_a_recording(store: FileStore) -> None:
    """get/open/local_path/delete take a unique suffix of 4 or more characters."""
    assert store.get("aqrst").recording_id == A
    assert store.get("c9876").recording_id == C
    with store.open("bqrst") as reader:
        assert reader.header.recording_id == B
    assert os.path.basename(store.local_path("aaqrst")) == f"{A}.jsonl.zst"
    assert store.delete("c9876") is True
    assert {i.recording_id for i in store.list()} == {A, B, D}


def test_a_short_suffix_is_not_an_id(store: FileStore) -> None:
    """Three characters are too few for a suffix (prefixes may be any length)."""
    with pytest.raises(RecordingNotFoundError):
        store.get("rst")
    assert store.get("9").recording_id == D  # a one-character unique prefix


@pytest.mark.parametrize(("text", "expected"), [
    ("qrst", [A, B]),           # a suffix of two
    ("01hzzzzzzz", [A, B, C]),  # a prefix of three
    ("9876", [C, D]),           # the suffix of one and the prefix of another
])
def test_an_ambiguous_handle_lists_the_candidates(store: FileStore, text: str,
                                                  expected: list[str]) -> None:
    """A prefix or suffix matching several ids raises AmbiguousIdError naming each."""
    with pytest.raises(AmbiguousIdError) as err:
        store.get(text)
    assert sorted(err.value.candidates) == expected
    assert all(rid in str(err.value) for rid in expected)
    assert f"{text!r} matches {len(expected)} recordings as an id prefix or suffix" \
        in str(err.value)  # "id prefix" alone would be wrong where it matched as a suffix


def test_handles_are_the_shortest_that_resolve(store: FileStore) -> None:
    """Each handle resolves to its id, and nothing shorter would."""
    handles = store.handles([A, B, C, D])
    assert handles == {A: "aqrst", B: "bqrst", C: "c9876", D: "9"}
    for rid, handle in handles.items():
        assert store.get(handle).recording_id == rid
        for shorter in {handle[:-1], handle[1:]} - {""}:
            with pytest.raises((AmbiguousIdError, RecordingNotFoundError)):
                assert store.get(shorter).recording_id != rid


def test_shortest_handles_prefers_a_prefix_of_equal_length() -> None:
    """Where a prefix and a suffix are equally short, the prefix is the handle; an id that
    is the prefix of another is its own handle (an exact id always wins)."""
    ids = ["abcd1234", "abce5678"]
    assert shortest_handles(ids, ids) == {"abcd1234": "abcd", "abce5678": "abce"}
    assert shortest_handles(["abcd"], ["abcd", "abcde", "xabcd"]) == {"abcd": "abcd"}


def test_list_shows_each_handle(store: FileStore, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The table has a handle column; --json keeps its fields; verify takes a handle."""
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["--store", store.root, "list"]) == 0
    rows = {words[0]: words[1] for words in map(str.split, capsys.readouterr().out.splitlines())
            if words and words[0] in (A, B, C, D)}
    assert rows == {A: "aqrst", B: "bqrst", C: "c9876", D: "9"}
    assert main(["--store", store.root, "list", "--json"]) == 0
    assert "handle" not in json.loads(capsys.readouterr().out)[0]
    assert main(["--store", store.root, "verify", "bqrst"]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith(f"{B}.jsonl.zst")


def names(text: str, ids: list[str]) -> set[str]:
    """What a store's lookup finds for ``text``, written out longhand: the exact id, else
    every id it begins, and (from 4 characters on) every id it ends."""
    if text in ids:
        return {text}
    return {i for i in ids if i.startswith(text) or (len(text) >= 4 and i.endswith(text))}


@given(st.lists(st.text("ab01", min_size=1, max_size=9), min_size=1, max_size=12,
                unique=True))
def test_shortest_handles_agrees_with_trying_every_text(ids: list[str]) -> None:
    """On ids over a tiny alphabet (collisions everywhere), each handle names its id alone,
    and no shorter prefix or suffix does."""
    handles = shortest_handles(ids, ids)
    for rid, handle in handles.items():
        assert names(handle, ids) == {rid}
        shorter = [t for n in range(1, len(handle)) for t in (rid[:n], rid[-n:])]
        assert all(names(t, ids) != {rid} for t in shorter), (rid, handle)

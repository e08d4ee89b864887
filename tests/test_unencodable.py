"""Values JSON cannot hold as they are never break the run (SPEC §4, docs/format.md).

Non-string dict keys become ``str(key)``; numpy numbers and arrays, and other
int/float subclasses, become numbers and lists; strings with lone surrogates
(file names from ``os.listdir`` over non-UTF-8 names) are recorded with the
bad code points escaped, through every entry point, and the footer counts
exactly the events in the file.
"""

from __future__ import annotations

import asyncio
import enum
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recorder import node, record_workflow
from storage import diff_recordings

BAD = "report-\udcff.txt"
ESCAPED = "report-\\udcff.txt"


def value_of(r: Any, kind: str, name: str | None = None) -> Any:
    return next(e.data["value"] for e in r.of_kind(kind)
                if name is None or e.data["name"] == name)


class Level(enum.IntEnum):
    HIGH = 3


class Ratio(float):
    pass


def test_non_string_keys_become_str_of_the_key(store: Path, read: Any) -> None:
    """{(1, 2): "x", 3: "y"} is recorded as {"(1, 2)": "x", "3": "y"} (issue 9.14)."""
    with record_workflow("etl", store=str(store)) as rec:
        rec.event("e", {(1, 2): "x", 3: "y"})
        rec.event("f", {"grid": {(0, 1): "a", None: "b", True: "c", frozenset({1}): "d"}})
    r = read(rec)
    assert value_of(r, "custom", "e") == {"(1, 2)": "x", "3": "y"}
    assert value_of(r, "custom", "f") == {"grid": {"(0, 1)": "a", "None": "b", "True": "c",
                                                   "frozenset({1})": "d"}}


def test_numpy_values_and_number_subclasses_are_numbers(store: Path, read: Any) -> None:
    """numpy scalars and arrays, IntEnum and float subclasses are recorded as numbers/lists."""
    with record_workflow("etl", store=str(store)) as rec:
        rec.event("e", {"f": np.float32(0.5), "i": np.int64(7), "b": np.bool_(True),
                        "a": np.arange(4).reshape(2, 2), "lvl": Level.HIGH,
                        "r": Ratio(0.25)})
        rec.snapshot({"scores": np.array([0.5, 0.25])})
    r = read(rec)
    assert value_of(r, "custom") == {"f": 0.5, "i": 7, "b": True, "a": [[0, 1], [2, 3]],
                                     "lvl": 3, "r": 0.25}
    assert r.of_kind("state")[0].state == {"scores": [0.5, 0.25]}


SCALE = {"now": 1.0}


@node
def embed(text: str) -> Any:
    return np.array([0.5, 0.25], dtype=np.float32) * SCALE["now"]


def test_numeric_tolerance_applies_to_numpy_values(tmp_path: Path) -> None:
    """numpy outputs are compared as numbers, so `numeric_tolerance` covers them (issue 9.14)."""
    paths = []
    for name, scale in (("a", 1.0), ("b", 1.001)):  # the same call, outputs 0.1 % apart
        SCALE["now"] = scale
        with record_workflow("embed", store=str(tmp_path / name)) as rec:
            embed("doc")
        paths.append(rec.path)
    assert diff_recordings(*paths).regression
    assert diff_recordings(*paths, relative_tolerance=0.01).identical
    assert diff_recordings(*paths, numeric_tolerance=0.001).identical
    assert diff_recordings(*paths, numeric_tolerance=0.0001).regression


# --- lone surrogates ------------------------------------------------------------------------------
@node
def takes(name: str) -> str:
    return name


@node
def fails(name: str) -> None:
    raise FileNotFoundError(name)


@node(BAD)
def badly_named() -> int:
    return 1


def test_lone_surrogates_never_raise_at_any_entry_point(store: Path, read: Any) -> None:
    """Inputs, outputs, errors, snapshot, event, checkpoint, messages, names, tags, meta."""
    with pytest.raises(FileNotFoundError) as info, record_workflow(
            BAD, store=str(store), inputs={"file": BAD}, tags=[BAD], meta={"src": BAD}) as rec:
        assert takes(BAD) == BAD
        assert badly_named() == 1
        rec.snapshot({"files": [BAD]})
        rec.event(BAD, {"f": BAD})
        rec.checkpoint("cp", BAD)
        with rec.team(BAD) as team, team.member(BAD):
            team.message(BAD, "b", BAD)
        with rec.recursion("walk", BAD):
            pass
        rec.event("keys", {BAD: 1})
        for _ in range(2):  # the second time through the hot path's flat-dict branch
            rec.event("short", {"s": "\udcff"})
        fails(BAD)
    assert str(info.value) == BAD  # the user's own exception, unchanged
    r = read(rec)
    assert r.status == "failed"
    assert r.footer.event_count == len(r.events)
    assert [e.seq for e in r.events] == list(range(len(r.events)))
    assert r.footer.degraded == []
    assert r.header.workflow == ESCAPED
    assert r.header.tags == [ESCAPED]
    assert r.header.meta == {"src": ESCAPED}
    assert r.header.inputs == {"file": ESCAPED}
    start, done = r.of_kind("node_start")[0], r.of_kind("node_complete")[0]
    assert start.data["inputs"] == {"name": ESCAPED}
    assert done.data["outputs"] == ESCAPED
    assert r.of_kind("node_start")[1].node == ESCAPED
    assert r.of_kind("state")[0].state == {"files": [ESCAPED]}
    assert value_of(r, "custom", ESCAPED) == {"f": ESCAPED}
    assert value_of(r, "checkpoint") == ESCAPED
    assert r.of_kind("team_start")[0].node == ESCAPED
    assert r.of_kind("team_member_start")[0].node == ESCAPED
    assert r.of_kind("team_message")[0].data["message"] == ESCAPED
    assert r.of_kind("recursion_enter")[0].node == ESCAPED
    assert value_of(r, "custom", "keys") == {ESCAPED: 1}
    assert [e.data["value"] for e in r.of_kind("custom") if e.data["name"] == "short"] \
        == [{"s": "\\udcff"}] * 2
    assert r.of_kind("node_error")[0].data["error"]["message"] == ESCAPED
    assert r.footer.error["message"] == ESCAPED


def test_lone_surrogates_in_an_async_node(store: Path, read: Any) -> None:
    """The async wrapper copes the same way."""
    @node
    async def atakes(name: str) -> str:
        await asyncio.sleep(0)
        return name + "!"

    async def main() -> Any:
        async with record_workflow("etl", store=str(store)) as rec:
            assert await atakes(BAD) == BAD + "!"
        return rec

    r = read(asyncio.run(main()))
    assert r.of_kind("node_complete")[0].data["outputs"] == ESCAPED + "!"
    assert r.footer.event_count == len(r.events)

"""Checked-in version-1 recordings still read, field for field.

The files in ``tests/golden/`` were made once by ``tests/golden/make_golden.py``
and are never regenerated: they are what flowtape 0.1 wrote. If a change to
the reader (or to the event model) makes any assertion here fail, that change
breaks every version-1 recording users already have. See docs/format.md
§Versioning.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

from storage import LogReader, apply_patch

GOLDEN = Path(__file__).parents[1] / "golden"
DOCS = Path(__file__).parents[2] / "docs" / "format.md"

_CONFIG = {"record_inputs": True, "record_outputs": True, "record_state_snapshots": True,
           "keyframe_every": 8, "max_payload_bytes": 256}
_COMMON_HEADER = {
    "kind": "header", "format": "flowtape", "version": 1, "workflow": "golden",
    "tags": ["golden", "v1"], "host": "vm", "pid": 8483, "python": "3.11.7",
    "meta": {"purpose": "golden v1"}, "inputs": {"topic": "tides", "password": "[REDACTED]"},
    "entry": "tests.golden.make_golden:record", "replay_of": None,
}
_ZSTD_HEADER = {**_COMMON_HEADER, "recording_id": "01m83j2fk3764czz4dt3vdk6bp",
                "started_at": "2026-11-23T06:39:08.899535Z", "codec": "zstd",
                "config": {**_CONFIG, "compress": True, "codec": "zstd"}}

HEADERS: dict[str, dict[str, Any]] = {
    "v1-zstd.jsonl.zst": _ZSTD_HEADER,
    "v1-gzip.jsonl.gz": {**_COMMON_HEADER, "recording_id": "01m83j2fk6q1hk9jbtzw76v83v",
                         "started_at": "2026-11-23T06:39:08.902262Z", "codec": "gzip",
                         "config": {**_CONFIG, "compress": True, "codec": "gzip"}},
    "v1-plain.jsonl": {**_COMMON_HEADER, "recording_id": "01m83j2fk8m9zp7x2fbggc68zm",
                       "started_at": "2026-11-23T06:39:08.904136Z", "codec": "none",
                       "config": {**_CONFIG, "compress": False, "codec": "none"}},
    "v1-incomplete.jsonl.zst": _ZSTD_HEADER,
}

_TRUNCATED = {"$truncated": 402, "$preview": '"' + "x" * 199}
_ERROR_TB = "Traceback (most recent call last):\n{}\n"

#: Every event but the last, as the reader returns it (defaults omitted), without ``ts``.
EVENTS: list[dict[str, Any]] = [
    {"seq": 0, "kind": "workflow_start", "node": "golden",
     "data": {"inputs": {"topic": "tides", "password": "[REDACTED]"}}},
    {"seq": 1, "kind": "node_start", "node": "fetch", "parent": 0, "attempt": 1,
     "data": {"inputs": {"url": "https://example.org", "api_key": "[REDACTED]"},
              "node_type": "tool"}},
    {"seq": 2, "kind": "node_error", "node": "fetch", "span": 1, "parent": 0, "attempt": 1,
     "data": {"error": {"type": "ConnectionError", "module": "builtins",
                        "message": "https://example.org unreachable",
                        "traceback": _ERROR_TB.format("ConnectionError"), "causes": []}}},
    {"seq": 3, "kind": "node_start", "node": "fetch", "parent": 0, "attempt": 2,
     "data": {"inputs": {"url": "https://example.org", "api_key": "[REDACTED]"},
              "node_type": "tool"}},
    {"seq": 4, "kind": "node_complete", "node": "fetch", "span": 3, "parent": 0, "attempt": 2,
     "data": {"outputs": {"status": 200, "body": "ok"}}},
    {"seq": 5, "kind": "state", "parent": 0,
     "state": {"step": 1, "brief": "the tides of the north sea"}},
    {"seq": 6, "kind": "state", "parent": 0,
     "patch": [{"op": "replace", "path": "/step", "value": 2}]},
    {"seq": 7, "kind": "state", "parent": 0, "patch": []},
    {"seq": 8, "kind": "team_start", "node": "crew", "parent": 0,
     "data": {"member_count": 2, "formation": "sequential", "members": ["writer", "editor"]}},
    {"seq": 9, "kind": "team_member_start", "node": "writer", "parent": 8,
     "data": {"team": "crew", "role": "drafts"}},
    {"seq": 10, "kind": "node_start", "node": "summarise", "parent": 9, "attempt": 1,
     "data": {"inputs": {"text": "draft"}}},
    {"seq": 11, "kind": "node_complete", "node": "summarise", "span": 10, "parent": 9,
     "attempt": 1, "data": {"outputs": "DRAFT"}},
    {"seq": 12, "kind": "team_message", "node": "crew", "parent": 9,
     "data": {"from": "writer", "to": "editor", "message": {"draft": "DRAFT"}}},
    {"seq": 13, "kind": "team_member_complete", "node": "writer", "span": 9, "parent": 8},
    {"seq": 14, "kind": "team_member_start", "node": "editor", "parent": 8,
     "data": {"team": "crew"}},
    {"seq": 15, "kind": "team_member_complete", "node": "editor", "span": 14, "parent": 8},
    {"seq": 16, "kind": "team_complete", "node": "crew", "span": 8, "parent": 0,
     "data": {"success": True, "outputs": "published"}},
    {"seq": 17, "kind": "recursion_enter", "node": "root", "parent": 0, "depth": 1,
     "data": {"operation": "expand"}},
    {"seq": 18, "kind": "recursion_enter", "node": "child", "parent": 17, "depth": 2,
     "data": {"operation": "expand"}},
    {"seq": 19, "kind": "checkpoint", "parent": 18, "depth": 2,
     "data": {"name": "deepest", "value": {"level": 2}}},
    {"seq": 20, "kind": "recursion_exit", "node": "child", "span": 18, "parent": 17,
     "depth": 2},
    {"seq": 21, "kind": "recursion_exit", "node": "root", "span": 17, "parent": 0, "depth": 1},
    {"seq": 22, "kind": "custom", "parent": 0,
     "data": {"name": "note", "value": {"opaque": {"$repr": "Opaque(7)",
                                                   "$type": "__main__.Opaque"},
                                        "token": "[REDACTED]"}}},
    {"seq": 23, "kind": "node_start", "node": "big", "parent": 0, "attempt": 1,
     "data": {"inputs": {}}},
    {"seq": 24, "kind": "node_complete", "node": "big", "span": 23, "parent": 0, "attempt": 1,
     "data": {"outputs": _TRUNCATED}},
]
_COMPLETE = {"seq": 25, "kind": "workflow_complete", "node": "golden", "span": 0}
_FAILED = {"seq": 25, "kind": "workflow_error", "node": "golden", "span": 0,
           "data": {"error": {"type": "RuntimeError", "module": "builtins",
                              "message": "golden failure",
                              "traceback": _ERROR_TB.format("RuntimeError"), "causes": []}}}
LAST_EVENT = {"v1-zstd.jsonl.zst": _COMPLETE, "v1-gzip.jsonl.gz": _FAILED,
              "v1-plain.jsonl": _COMPLETE, "v1-incomplete.jsonl.zst": _COMPLETE}

_COUNTS = {"nodes": 4, "teams": 1, "messages": 1, "max_depth": 2, "states": 3}
_DROPPED = ["seq 24 node_complete big: data.outputs (402 bytes) truncated"]
FOOTERS: dict[str, dict[str, Any] | None] = {
    "v1-zstd.jsonl.zst": {
        "kind": "footer", "status": "completed", "event_count": 26, "duration_ns": 2508265,
        "ended_at": "2026-11-23T06:39:08.902042Z", "error": None,
        "counts": {**_COUNTS, "errors": 1}, "dropped": _DROPPED, "degraded": [],
        "index": {"frames": [[0, 368], [3, 720], [7, 1043], [11, 1308], [15, 1562],
                             [19, 1800], [23, 2079]],
                  "keyframes": [5], "state_frames": [1, 2]}},
    "v1-gzip.jsonl.gz": {
        "kind": "footer", "status": "failed", "event_count": 26, "duration_ns": 1649645,
        "ended_at": "2026-11-23T06:39:08.903915Z",
        "error": {"type": "RuntimeError", "module": "builtins", "message": "golden failure"},
        "counts": {**_COUNTS, "errors": 2}, "dropped": _DROPPED, "degraded": [],
        "index": {"frames": [[0, 358], [3, 695], [7, 1007], [11, 1269], [15, 1523],
                             [19, 1769], [23, 2050]],
                  "keyframes": [5], "state_frames": [1, 2]}},
    "v1-plain.jsonl": {
        "kind": "footer", "status": "completed", "event_count": 26, "duration_ns": 1078874,
        "ended_at": "2026-11-23T06:39:08.905218Z", "error": None,
        "counts": {**_COUNTS, "errors": 1}, "dropped": _DROPPED, "degraded": [],
        "index": {"frames": [[0, 536], [3, 1165], [7, 1757], [11, 2279], [15, 2810],
                             [19, 3334], [23, 3873]],
                  "keyframes": [5], "state_frames": [1, 2]}},
    "v1-incomplete.jsonl.zst": None,
}
SIZES = {"v1-zstd.jsonl.zst": 2640, "v1-gzip.jsonl.gz": 2749, "v1-plain.jsonl": 4881,
         "v1-incomplete.jsonl.zst": 2289}
CODECS = {"v1-zstd.jsonl.zst": "zstd", "v1-gzip.jsonl.gz": "gzip", "v1-plain.jsonl": "none",
          "v1-incomplete.jsonl.zst": "zstd"}
NAMES = list(HEADERS)


def _plain(obj: Any) -> Any:
    """``obj`` as the JSON it is on disk (tuples become lists), decoded to builtins."""
    return msgspec.json.decode(msgspec.json.encode(obj))


def _as_written(read: dict[str, Any], written: dict[str, Any]) -> dict[str, Any]:
    """``read`` without the fields added since the file was written, which must read back
    as their defaults (docs/format.md §Versioning: new fields come with defaults)."""
    added = {k: v for k, v in read.items() if k not in written}
    assert all(v is None for v in added.values()), added
    return {k: v for k, v in read.items() if k in written}


def _event_dict(event: Any) -> dict[str, Any]:
    d: dict[str, Any] = _plain(event)
    del d["ts"], d["lane"]
    return d


def test_golden_files_are_all_there() -> None:
    """Every golden recording is checked in, at the size it was made with."""
    assert {p.name: p.stat().st_size for p in GOLDEN.glob("v1-*")} == SIZES


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("recover", [False, True])
def test_golden_reads_field_for_field(name: str, recover: bool) -> None:
    """A version-1 recording reads back with exactly the header, events and footer it had."""
    with LogReader.open(GOLDEN / name, recover=recover) as reader:
        assert reader.codec == CODECS[name]
        assert _as_written(_plain(reader.header), HEADERS[name]) == HEADERS[name]
        events = list(reader.iter_events())
        footer = None if reader.footer is None else _plain(reader.footer)
        assert footer == FOOTERS[name]
        assert reader.status == ("incomplete" if footer is None else footer["status"])
        assert reader.tail_garbage == 0
        assert reader.skipped == []
        assert reader.event_count == 26
        assert reader.keyframes == [5]
        # The incomplete file is the zstd one cut before its footer: a scan finds its frames.
        indexed = FOOTERS[name] or FOOTERS["v1-zstd.jsonl.zst"]
        assert indexed is not None
        assert [[f.first_seq, f.offset] for f in reader.frames] == indexed["index"]["frames"]
    assert [_event_dict(e) for e in events] == [*EVENTS, LAST_EVENT[name]]
    assert {e.lane for e in events} == {"MainThread"}
    ts = [e.ts for e in events]
    assert ts == sorted(ts) and ts[0] > 0


@pytest.mark.parametrize("name", NAMES)
def test_golden_single_event_access(name: str) -> None:
    """Any event is found by seq through the frame index, from the last back to the first."""
    with LogReader.open(GOLDEN / name) as reader:
        for seq in reversed(range(26)):
            assert reader.get(seq).seq == seq
        assert [e.seq for e in reader.iter_events(start_seq=12)] == list(range(12, 26))
        with pytest.raises(IndexError):
            reader.get(26)


@pytest.mark.parametrize("name", NAMES)
def test_golden_state_history(name: str) -> None:
    """The keyframe and patches rebuild the state at each of the three state events."""
    with LogReader.open(GOLDEN / name) as reader:
        states = []
        state: Any = None
        for e in reader.iter_events():
            if e.kind == "state":
                state = e.state if e.state is not None else apply_patch(state, e.patch or [])
                states.append(state)
    brief = "the tides of the north sea"
    assert states == [{"step": 1, "brief": brief}, {"step": 2, "brief": brief},
                      {"step": 2, "brief": brief}]


@pytest.mark.parametrize(("name", "trailer"), [
    ("v1-zstd.jsonl.zst",
     "5f2a4d18" "18000000" "464c4f5754415045" "f108000000000000" "3f01000000000000"),
    ("v1-gzip.jsonl.gz",
     "1f8b0804" "00000000" "00ff" "1c00" "4654" "1800"
     "464c4f5754415045" "3809000000000000" "5301000000000000" "0300" "00000000" "00000000"),
])
def test_golden_trailer_bytes(name: str, trailer: str) -> None:
    """The trailer bytes are exactly those docs/format.md §Trailer shows."""
    data = (GOLDEN / name).read_bytes()
    assert data[-len(trailer) // 2:].hex() == trailer


def _reference_reader() -> dict[str, Any]:
    """The reader sketched in docs/format.md §Reference reader, executed as written."""
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(r"^## Reference reader$.*?^```python\n(.*?)^```$", text, re.S | re.M)
    assert match, "docs/format.md lost its reference reader"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), str(DOCS), "exec"), namespace)
    return namespace


@pytest.mark.parametrize("name", NAMES)
def test_documented_reference_reader_reads_golden(name: str) -> None:
    """The format document's stdlib+zstandard reader gets the same lines as LogReader."""
    ref = _reference_reader()
    header, events, footer = ref["read_recording"](GOLDEN / name)
    assert header == HEADERS[name]
    assert [{k: v for k, v in e.items() if k not in ("ts", "lane")} for e in events] == [
        *EVENTS, LAST_EVENT[name]]
    assert footer == FOOTERS[name]
    if name.endswith(".zst"):
        assert ref["read_footer"](GOLDEN / name) == FOOTERS[name]

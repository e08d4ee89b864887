"""A footer or seek index that lies about the file is damage: checked, worked around, said.

A finished recording is opened through its footer without reading the
events, so the footer is checked against the file where that is cheap (the
index's shape, the last frame against ``event_count``); a lie found there
makes the reader scan instead and note why. A lie only reading a frame can
find is `CorruptRecordingError` — or, recovering, a scan that reads every
event. Nothing raises raw (issue 10, item 7), and `check_file` reports it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bad_files import (
    CODECS,
    SUFFIX,
    Valid,
    event_line,
    header_line,
    make_valid,
    with_footer,
    zstd_frame,
)

from replayer import Replayer
from storage import CorruptRecordingError, LogReader
from storage.format.codec import codec_for_name
from storage.format.integrity import check_file


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Valid]:
    """One good recording per codec (shared: tests only read the bytes)."""
    directory = tmp_path_factory.mktemp("valid")
    return {codec: make_valid(directory, codec) for codec in CODECS}


def _set(**index_or_fields: Any) -> Callable[[dict[str, Any]], None]:
    def edit(footer: dict[str, Any]) -> None:
        for key, value in index_or_fields.items():
            if key in ("frames", "keyframes", "state_frames"):
                footer["index"][key] = value(footer["index"][key]) if callable(value) else value
            else:
                footer[key] = value(footer[key]) if callable(value) else value
    return edit


#: Lies the reader catches when it opens the file (then it scans, and says so).
OPEN_LIES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("event_count too large", _set(event_count=lambda n: n + 100), "event_count"),
    ("event_count too small", _set(event_count=lambda n: n - 3), "event_count"),
    ("event_count negative", _set(event_count=-5), "event_count"),
    ("no frames in the index", _set(frames=[]), "seek index"),
    ("frames out of order", _set(frames=lambda f: [f[1], f[0], *f[2:]]), "seek index"),
    ("first frame not at seq 0", _set(frames=lambda f: [[1, f[0][1]], *f[1:]]), "seek index"),
    ("frame offset past the footer", _set(frames=lambda f: [*f[:-1], [f[-1][0], 10**9]]),
     "seek index"),
    ("keyframe past the end", _set(keyframes=lambda k: [*k, 10**6]), "keyframe"),
    ("keyframes out of order", _set(keyframes=lambda k: k[::-1]), "keyframe"),
    ("state frame out of range", _set(state_frames=[99]), "state_frames"),
]


def _file(tmp_path: Path, v: Valid, edit: Callable[[dict[str, Any]], None]) -> Path:
    path = tmp_path / f"lying{SUFFIX[v.codec]}"
    path.write_bytes(with_footer(v, edit))
    return path


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("lie", [pytest.param(c, id=c[0]) for c in OPEN_LIES])
def test_lie_found_at_open_is_scanned_around_and_noted(
        tmp_path: Path, valid: dict[str, Valid], codec: str,
        lie: tuple[str, Callable[[dict[str, Any]], None], str]) -> None:
    """Every event is read, len and r[i] agree with them, and the summary says what lied."""
    v = valid[codec]
    path = _file(tmp_path, v, lie[1])
    for recover in (False, True):
        with Replayer.open(path, recover=recover) as r:
            assert len(r) == v.event_count == r.summary.event_count
            assert [e.seq for e in r.events] == list(range(v.event_count))
            assert r[len(r) - 1].seq == v.event_count - 1
            assert r.summary.status == "completed"
            assert any(lie[2] in note for note in r.summary.notes), r.summary.notes
            r.spans()
            for seq in range(len(r)):
                r.get_state_at_event(seq)
    report = check_file(str(path))
    assert report.verdict == "damaged"
    assert any(lie[2] in p for p in report.problems), report.problems


#: Lies only decoding a frame can find.
FRAME_LIES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("a frame's first seq", _set(frames=lambda f: [*f[:2], [f[2][0] + 1, f[2][1]], *f[3:]])),
    ("a frame's offset", _set(frames=lambda f: [*f[:2], [f[2][0], f[2][1] + 3], *f[3:]])),
]


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("lie", [pytest.param(c, id=c[0]) for c in FRAME_LIES])
def test_lie_found_in_a_frame_is_named_or_recovered(
        tmp_path: Path, valid: dict[str, Valid], codec: str,
        lie: tuple[str, Callable[[dict[str, Any]], None]]) -> None:
    """Strict reading names the frame the index misplaces; recovering reads every event."""
    v = valid[codec]
    path = _file(tmp_path, v, lie[1])
    with pytest.raises(CorruptRecordingError, match=r"frame [23]"), \
            LogReader.open(path) as reader:
        list(reader.iter_events())
    with Replayer.open(path, recover=True) as r:
        assert [e.seq for e in r.events] == list(range(v.event_count))
        assert len(r) == v.event_count
        assert any("seek index" in note for note in r.summary.notes), r.summary.notes
    assert check_file(str(path)).verdict == "damaged"


def test_keyframe_that_is_not_a_state_event_is_named(tmp_path: Path,
                                                     valid: dict[str, Valid]) -> None:
    """An index keyframe pointing at another kind of event: a named error, or the truth."""
    v = valid["zstd"]
    with LogReader.open(_file(tmp_path, v, _set())) as reader:
        first_key = reader.keyframes[0]
    path = _file(tmp_path, v, _set(keyframes=lambda k: [first_key - 1, *k[1:]]))
    with Replayer.open(path) as r, pytest.raises(CorruptRecordingError, match="keyframe"):
        r.get_state_at_event(first_key)
    with Replayer.open(path, recover=True) as r:
        assert r.get_state_at_event(first_key) == {"i": 0, "items": []}
    assert check_file(str(path)).verdict == "damaged"


def test_index_frame_longer_than_any_frame_is_not_read(tmp_path: Path) -> None:
    """An index whose last frame would span 20 MiB of padding is refused before reading it."""
    codec = codec_for_name("zstd")
    head = zstd_frame(header_line())
    events = zstd_frame(event_line(0, "workflow_start", node="w"))
    padding = codec.make_trailer(0, 0)[:4] + (20 << 20).to_bytes(4, "little") + bytes(20 << 20)
    footer_at = len(head) + len(events) + len(padding)
    footer = zstd_frame(json.dumps({
        "kind": "footer", "status": "completed", "event_count": 1, "duration_ns": 1,
        "index": {"frames": [[0, len(head)]]}}, separators=(",", ":")).encode() + b"\n")
    path = tmp_path / "padded.jsonl.zst"
    path.write_bytes(head + events + padding + footer
                     + codec.make_trailer(footer_at, len(footer)))
    with Replayer.open(path) as r:
        assert [e.seq for e in r.events] == [0]
        assert any("longer than any frame" in note for note in r.summary.notes)

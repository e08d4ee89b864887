"""`storage._integrity.check_file`: one verdict per file, and a trailer that must be right.

The trailer is only sound when its offsets add up to the file's size and
point at the footer frame (docs/format.md §Trailer); one pointing past the
end of the file, or elsewhere, is a problem, not "trailer present" (issue
10, item 9). The verdict is the one word every caller reports.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from bad_files import SUFFIX, Valid, make_valid, with_footer

from replayer import Replayer
from storage import RecordingNotFoundError
from storage.format.codec import codec_for_name
from storage.format.integrity import check_file, trailer_present


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Valid]:
    """One good recording per compressed codec (shared: tests only read the bytes)."""
    directory = tmp_path_factory.mktemp("valid")
    return {codec: make_valid(directory, codec) for codec in ("zstd", "gzip")}


def _retrailed(v: Valid, offset: int, length: int) -> bytes:
    """``v``'s bytes with a trailer that says the footer is at ``offset``, ``length`` long."""
    codec = codec_for_name(v.codec)
    return v.data[:len(v.data) - codec.trailer_size] + codec.make_trailer(offset, length)


def _footer_length(v: Valid) -> int:
    return len(v.data) - codec_for_name(v.codec).trailer_size - v.events_end


@pytest.mark.parametrize("codec", ["zstd", "gzip"])
def test_intact_file_has_a_sound_trailer(tmp_path: Path, valid: dict[str, Valid],
                                         codec: str) -> None:
    """A good file: verdict intact, the trailer checked and found pointing at the footer."""
    path = tmp_path / f"ok{SUFFIX[codec]}"
    path.write_bytes(valid[codec].data)
    report = check_file(str(path))
    assert (report.verdict, report.problems, report.trailer) == ("intact", [], True)
    assert any("trailer present" in c for c in report.checks)


@pytest.mark.parametrize("codec", ["zstd", "gzip"])
@pytest.mark.parametrize("lie", ["past the end", "at an event frame", "length off by one"])
def test_trailer_that_points_wrong_is_a_problem(tmp_path: Path, valid: dict[str, Valid],
                                                codec: str, lie: str) -> None:
    """A trailer pointing past the end, or anywhere but the footer frame, makes it damaged."""
    v = valid[codec]
    footer_at, footer_len = v.events_end, _footer_length(v)
    offset, length = {
        "past the end": (footer_at + 10_000, footer_len),
        "at an event frame": (v.frames[1].offset, footer_len),
        "length off by one": (footer_at, footer_len + 1),
    }[lie]
    path = tmp_path / f"lying{SUFFIX[codec]}"
    path.write_bytes(_retrailed(v, offset, length))
    report = check_file(str(path))
    assert report.verdict == "damaged"
    assert report.trailer is False
    assert any("trailer points at" in p for p in report.problems), report.problems
    assert not any("trailer present" in c for c in report.checks)
    with Replayer.open(path) as r:  # readers still find the footer, by scanning
        assert r.summary.status == "completed" and len(r) == v.event_count
        assert trailer_present(r.reader) is False


@pytest.mark.parametrize("codec", ["zstd", "gzip"])
def test_bytes_after_the_trailer_are_a_problem(tmp_path: Path, valid: dict[str, Valid],
                                               codec: str) -> None:
    """Anything appended after the trailer leaves it not at the end: a problem, named."""
    path = tmp_path / f"appended{SUFFIX[codec]}"
    path.write_bytes(valid[codec].data + b"\x00appended")
    report = check_file(str(path))
    assert report.verdict == "damaged"
    assert any("no valid trailer" in p for p in report.problems), report.problems


def test_trailer_magic_with_huge_offsets_is_a_problem(tmp_path: Path,
                                                      valid: dict[str, Valid]) -> None:
    """A trailer whose 64-bit offsets are absurd is reported, never followed or raised."""
    v = valid["zstd"]
    data = bytearray(v.data)
    data[-16:] = struct.pack("<QQ", 2**63, 2**63)
    path = tmp_path / "huge.jsonl.zst"
    path.write_bytes(bytes(data))
    report = check_file(str(path))
    assert report.verdict == "damaged"
    assert any("trailer points at" in p for p in report.problems)


def test_missing_file_is_recording_not_found(tmp_path: Path) -> None:
    """check_file of a path with no file raises RecordingNotFoundError naming it."""
    with pytest.raises(RecordingNotFoundError, match="nothing"):
        check_file(str(tmp_path / "nothing.jsonl.zst"))


def test_index_without_frames_is_damage_not_a_crash(tmp_path: Path,
                                                    valid: dict[str, Valid]) -> None:
    """A footer whose seek index lists no frames: check_file reports it (issue 10, item 7)."""
    path = tmp_path / "noframes.jsonl.zst"
    path.write_bytes(with_footer(valid["zstd"], lambda f: f["index"].update(frames=[])))
    report = check_file(str(path))
    assert report.verdict == "damaged"
    assert any("seek index" in p for p in report.problems)

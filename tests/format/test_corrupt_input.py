"""Damaged and foreign files give the named error, with the path, and nothing else.

Like msgspec's JSONTestSuite table: each bad input below must raise exactly
the `storage` error it names, with the file's path in the message — never a
raw zstd, zlib, msgspec or Unicode error. Then the recovery paths (a
damaged frame skipped, a cut-short tail kept up to its last whole frame)
and a property test: whatever the bytes, `LogReader` raises only
`FlowtapeError` subclasses. See docs/format.md §Reading and §Integrity.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from bad_files import (
    CODECS,
    SUFFIX,
    Valid,
    flip,
    gzip_frame,
    header_line,
    make_valid,
    zstd_frame,
    zstd_raw_frame,
)
from hypothesis import given
from hypothesis import strategies as st

from storage import (
    CorruptRecordingError,
    Event,
    FlowtapeError,
    Footer,
    LogReader,
    NotARecordingError,
    RecordingNotFoundError,
    RecordingReadError,
    SkippedFrame,
    UnsupportedVersionError,
)


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Valid]:
    """One good recording per codec, several frames each (shared: tests only read the bytes)."""
    directory = tmp_path_factory.mktemp("valid")
    return {codec: make_valid(directory, codec) for codec in CODECS}


@dataclass
class ReadAll:
    """What reading a whole file found (the reader is closed by then)."""

    codec: str
    status: str
    footer: Footer | None
    events: list[Event]
    skipped: list[SkippedFrame]
    tail_garbage: int

    @property
    def seqs(self) -> list[int]:
        return [e.seq for e in self.events]


def _read_all(path: Path, *, recover: bool = False) -> ReadAll:
    """Open and decode every event, as a user reading the whole recording does."""
    with LogReader.open(path, recover=recover) as reader:
        events = list(reader.iter_events())
        return ReadAll(reader.codec, reader.status, reader.footer, events, reader.skipped,
                       reader.tail_garbage)


_EVENT = b'{"seq":0,"ts":1,"kind":"workflow_start","node":"w"}\n'


# --- the table ----------------------------------------------------------------------------
Build = Callable[[dict[str, Valid]], bytes]


#: (id, how to build the bytes, the error, what its message says, whether recover=True
#: skips the damage instead of raising).
BAD_INPUTS: list[tuple[str, Build, type[FlowtapeError], tuple[str, ...], bool]] = [
    ("empty file", lambda v: b"", NotARecordingError, ("empty",), False),
    ("random bytes", lambda v: random.Random(7).randbytes(300).replace(b"{", b"}"),
     NotARecordingError, ("not a flowtape recording",), False),
    ("whitespace only", lambda v: b" \n\n \t\n", NotARecordingError,
     ("not a flowtape recording",), False),
    ("a Python file", lambda v: b"import os\nprint(os.getcwd())\n", NotARecordingError,
     ("not a flowtape recording",), False),
    ("foreign JSON", lambda v: b'{"name": "not a recording"}\n', NotARecordingError,
     ("not a flowtape recording",), False),
    ("foreign JSON, zstd", lambda v: zstd_frame(b'{"name": "x"}\n') + zstd_frame(_EVENT),
     NotARecordingError, ("not a flowtape recording", '"format": "flowtape"'), False),
    ("plain header without newline", lambda v: header_line().rstrip(b"\n"),
     CorruptRecordingError, ("header line is cut short",), False),
    ("header line not JSON", lambda v: b"{not json\n" + _EVENT, CorruptRecordingError,
     ("header line is not JSON",), False),
    ("header not UTF-8", lambda v: zstd_frame(b'{"kind":"header","\xff":1}\n'),
     CorruptRecordingError, ("header line is not JSON", "frame 0"), False),
    ("version 99, zstd", lambda v: zstd_frame(header_line(version=99, codec=7)),
     UnsupportedVersionError, ("format version 99", "upgrade flowtape"), False),
    ("version 99, gzip", lambda v: gzip_frame(header_line(version=99)) + gzip_frame(_EVENT),
     UnsupportedVersionError, ("format version 99", "upgrade flowtape"), False),
    ("version 99, plain", lambda v: header_line(version=99, workflow=["not", "a", "str"])
     + b"whatever comes next\n", UnsupportedVersionError, ("format version 99",), False),
    ("version as string", lambda v: zstd_frame(header_line(version="1")), CorruptRecordingError,
     ("invalid version",), False),
    ("version 0", lambda v: zstd_frame(header_line(version=0)), CorruptRecordingError,
     ("invalid version",), False),
    ("header field of the wrong type", lambda v: zstd_frame(header_line(pid="many")),
     CorruptRecordingError, ("header is malformed",), False),
    ("header frame holding an event too", lambda v: zstd_frame(header_line() + _EVENT),
     CorruptRecordingError, ("holds more than the header",), False),
    ("zstd magic alone", lambda v: b"\x28\xb5\x2f\xfd", CorruptRecordingError,
     ("header frame is cut short",), False),
    ("gzip magic alone", lambda v: b"\x1f\x8b", CorruptRecordingError,
     ("header frame is cut short",), False),
    ("empty gzip member", lambda v: gzip_frame(b""), CorruptRecordingError,
     ("header line is not JSON",), False),
    ("gzip of random bytes", lambda v: gzip_frame(random.Random(3).randbytes(500)),
     CorruptRecordingError, ("frame 0",), False),
    ("zstd header frame bit-flipped",
     lambda v: flip(v["zstd"].data, v["zstd"].header_end // 2), CorruptRecordingError,
     ("frame 0", "byte offset 0"), False),
    ("gzip header frame bit-flipped",
     lambda v: flip(v["gzip"].data, v["gzip"].header_end // 2), CorruptRecordingError,
     ("frame 0", "byte offset 0"), False),
    ("zstd header frame cut short", lambda v: v["zstd"].data[:v["zstd"].header_end - 3],
     CorruptRecordingError, ("header frame is cut short",), False),
    ("gzip header frame cut short", lambda v: v["gzip"].data[:v["gzip"].header_end - 3],
     CorruptRecordingError, ("header frame is cut short",), False),
    ("zstd frame declaring exabytes of content",
     lambda v: zstd_frame(header_line()) + zstd_raw_frame(_EVENT, 1 << 62),
     CorruptRecordingError, ("frame 1", "16 MiB"), True),
    ("event line not UTF-8",
     lambda v: zstd_frame(header_line()) + zstd_frame(_EVENT[:-3] + b'\xff"}\n'),
     CorruptRecordingError, ("frame 1", "UTF-8"), True),
    ("event line not an event",
     lambda v: zstd_frame(header_line()) + zstd_frame(b'{"seq":"zero"}\n'),
     CorruptRecordingError, ("frame 1", "does not match"), True),
    ("event line nested too deeply",
     lambda v: header_line() + b'{"seq":0,"ts":0,"kind":"custom","data":' + b"[" * 100_000
     + b"]" * 100_000 + b"}\n", CorruptRecordingError, ("nests too deeply",), True),
    ("plain event line cut mid-file", lambda v: header_line() + _EVENT[:20] + b"\n"
     + _EVENT, CorruptRecordingError, ("not valid JSON",), True),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in BAD_INPUTS])
@pytest.mark.parametrize("recover", [False, True], ids=["strict", "recover"])
def test_bad_input_raises_the_named_error(
    tmp_path: Path, valid: dict[str, Valid],
    case: tuple[str, Build, type[FlowtapeError], tuple[str, ...], bool], recover: bool,
) -> None:
    """Each bad input raises its error, whose message names the file and what is wrong."""
    _, build, error, fragments, recoverable = case
    path = tmp_path / "bad.jsonl.zst"  # the name says zstd; only the bytes count
    path.write_bytes(build(valid))
    if recover and recoverable:
        reader = _read_all(path, recover=True)  # damage past the header: stepped over
        assert reader.skipped
        assert reader.status == "incomplete"
        return
    with pytest.raises(error) as info:
        _read_all(path, recover=recover)
    message = str(info.value)
    assert type(info.value) is error
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in BAD_INPUTS
                                  if c[2] is NotARecordingError])
def test_not_a_recording_says_so_without_suggesting_recover(
    tmp_path: Path, valid: dict[str, Valid],
    case: tuple[str, Build, type[FlowtapeError], tuple[str, ...], bool],
) -> None:
    """An empty or foreign file is 'not a flowtape recording', and --recover is not offered."""
    path = tmp_path / "foreign.jsonl.zst"
    path.write_bytes(case[1](valid))
    for recover in (False, True):
        with pytest.raises(NotARecordingError) as info:
            LogReader.open(path, recover=recover)
        message = str(info.value)
        assert isinstance(info.value, CorruptRecordingError)
        assert message.startswith(f"{path}: not a flowtape recording")
        assert "recover" not in message


def test_damaged_header_does_not_suggest_recover(tmp_path: Path, valid: dict[str, Valid]) -> None:
    """Header damage cannot be skipped, so the message says so instead of offering --recover."""
    v = valid["zstd"]
    path = tmp_path / "header.jsonl.zst"
    path.write_bytes(flip(v.data, v.header_end // 2))
    with pytest.raises(CorruptRecordingError) as info:
        LogReader.open(path, recover=True)
    assert "--recover" not in str(info.value)
    assert "header" in str(info.value)


def test_damaged_event_frame_suggests_recover(tmp_path: Path, valid: dict[str, Valid]) -> None:
    """Damage past the header is what --recover skips, so that message offers it."""
    path = tmp_path / "frame.jsonl.zst"
    path.write_bytes(_damage(valid["zstd"], 1))
    with pytest.raises(CorruptRecordingError) as info:
        _read_all(path)
    assert "--recover" in str(info.value)


def test_missing_file_is_recording_not_found(tmp_path: Path) -> None:
    """A path with no file raises RecordingNotFoundError, which is also a FileNotFoundError."""
    path = tmp_path / "nowhere.jsonl.zst"
    for recover in (False, True):
        with pytest.raises(RecordingNotFoundError) as info:
            LogReader.open(path, recover=recover)
        assert isinstance(info.value, FileNotFoundError)
        assert str(path) in str(info.value)
    with pytest.raises(FileNotFoundError):
        LogReader.open(str(path))


def test_directory_is_a_read_error(tmp_path: Path) -> None:
    """A directory is refused with RecordingReadError naming it."""
    with pytest.raises(RecordingReadError) as info:
        LogReader.open(tmp_path)
    assert str(tmp_path) in str(info.value)
    assert "directory" in str(info.value)


@pytest.mark.parametrize("codec", CODECS)
def test_codec_is_told_from_bytes_not_name(tmp_path: Path, valid: dict[str, Valid],
                                           codec: str) -> None:
    """A recording under a misleading name reads as what its first bytes say."""
    path = tmp_path / "misnamed.jsonl.gz" if codec != "gzip" else tmp_path / "misnamed.jsonl"
    path.write_bytes(valid[codec].data)
    reader = _read_all(path)
    assert (reader.codec, reader.status) == (codec, "completed")
    assert len(reader.events) == valid[codec].event_count


# --- damaged frames: named in strict mode, skipped with recover ----------------------------
def _damage(v: Valid, k: int) -> bytes:
    """``v``'s bytes with event frame ``k`` damaged so that no decoder can miss it."""
    span = v.frames[k]
    if v.codec == "none":  # no checksum: make the frame's first line invalid JSON
        return flip(v.data, span.offset, 0x80)
    return flip(v.data, span.offset + span.length // 2)


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("finished", [True, False], ids=["indexed", "scanned"])
def test_damaged_frame_is_named_then_skipped_with_recover(
    tmp_path: Path, valid: dict[str, Valid], codec: str, finished: bool,
) -> None:
    """A damaged frame raises CorruptRecordingError with its number and offset; recover skips it."""
    v = valid[codec]
    k = 2
    span = v.frames[k]
    data = _damage(v, k)
    if not finished:  # no footer: the reader must find the frames by scanning
        data = data[:v.events_end]
    path = tmp_path / f"damaged{SUFFIX[codec]}"
    path.write_bytes(data)

    # Without an index a plain file's lines are one run: the damaged line is in "frame" 1.
    frame = 1 if codec == "none" and not finished else k + 1
    with pytest.raises(CorruptRecordingError) as info:
        _read_all(path)
    err = info.value
    assert (err.frame, err.offset) == (frame, span.offset)
    assert f"frame {frame}" in str(err) and f"byte offset {span.offset}" in str(err)
    assert str(path) in str(err)

    reader = _read_all(path, recover=True)
    seqs = reader.seqs
    if codec == "none":  # no frames of its own: only the damaged line is lost
        lost = {span.first_seq}
    else:
        lost = set(range(span.first_seq, v.frames[k + 1].first_seq))
    assert seqs == [s for s in range(v.event_count) if s not in lost]
    assert [(s.frame, s.offset) for s in reader.skipped] == [(frame, span.offset)]
    assert reader.status == ("completed" if finished else "incomplete")


@pytest.mark.parametrize("codec", ["zstd", "gzip"])
@pytest.mark.parametrize("where", ["magic", "block header"])
def test_damaged_frame_boundary_is_resynchronised(
    tmp_path: Path, valid: dict[str, Valid], codec: str, where: str,
) -> None:
    """Damage to a frame's magic or lengths in a scanned file skips that frame, not the rest."""
    v = valid[codec]
    k = 1
    span = v.frames[k]
    at = span.offset if where == "magic" else span.offset + (6 if codec == "zstd" else 3)
    path = tmp_path / f"boundary{SUFFIX[codec]}"
    path.write_bytes(flip(v.data[:v.events_end], at, 0x80))

    with pytest.raises(CorruptRecordingError) as info:
        _read_all(path)
    assert (info.value.frame, info.value.offset) == (k + 1, span.offset)

    reader = _read_all(path, recover=True)
    lost = set(range(span.first_seq, v.frames[k + 1].first_seq))
    assert reader.seqs == [
        s for s in range(v.event_count) if s not in lost]
    assert [(s.frame, s.offset, s.length) for s in reader.skipped] == [
        (k + 1, span.offset, span.length)]
    assert (reader.status, reader.tail_garbage) == ("incomplete", 0)


@pytest.mark.parametrize("codec", ["zstd", "gzip"])
def test_damaged_footer_falls_back_to_scanning(tmp_path: Path, valid: dict[str, Valid],
                                               codec: str) -> None:
    """A damaged footer frame is named; recover keeps every event and reports incomplete."""
    v = valid[codec]
    footer_at = v.events_end
    path = tmp_path / f"footer{SUFFIX[codec]}"
    path.write_bytes(flip(v.data, footer_at + 20))
    with pytest.raises(CorruptRecordingError) as info:
        _read_all(path)
    assert info.value.offset == footer_at
    reader = _read_all(path, recover=True)
    assert len(reader.events) == v.event_count
    assert reader.status == "incomplete"


@pytest.mark.parametrize("codec", ["zstd", "gzip"])
@pytest.mark.parametrize("damage", ["trailer flipped", "garbage appended", "trailer cut"])
def test_unusable_trailer_costs_only_speed(tmp_path: Path, valid: dict[str, Valid],
                                           codec: str, damage: str) -> None:
    """Without a usable trailer the reader scans and still finds every event and the footer."""
    v = valid[codec]
    if damage == "trailer flipped":
        data = flip(v.data, len(v.data) - 20)  # inside b"FLOWTAPE" or the offsets
    elif damage == "garbage appended":
        data = v.data + b"\x00garbage"
    else:
        data = v.data[:-5]
    path = tmp_path / f"trailer{SUFFIX[codec]}"
    path.write_bytes(data)
    reader = _read_all(path)
    assert reader.status == "completed"
    assert reader.seqs == list(range(v.event_count))


# --- cut-short tails: what a crash leaves ------------------------------------------------------
@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("recover", [False, True], ids=["strict", "recover"])
def test_truncated_tail_keeps_every_complete_frame(
    tmp_path: Path, valid: dict[str, Valid], codec: str, recover: bool,
) -> None:
    """A file cut inside a frame reads as incomplete, with every whole frame and the tail size."""
    v = valid[codec]
    k = len(v.frames) - 2
    span = v.frames[k]
    cut = span.offset + span.length // 2
    path = tmp_path / f"cut{SUFFIX[codec]}"
    path.write_bytes(v.data[:cut])
    reader = _read_all(path, recover=recover)
    assert reader.status == "incomplete"
    assert reader.footer is None
    seqs = reader.seqs
    if codec == "none":  # plain files keep every whole line
        whole = v.data[span.offset:cut].count(b"\n")
        assert seqs == list(range(span.first_seq + whole))
        assert reader.tail_garbage == cut - (v.data.rfind(b"\n", 0, cut) + 1) > 0
    else:
        assert seqs == list(range(span.first_seq))
        assert reader.tail_garbage == cut - span.offset
    assert reader.skipped == []


@pytest.mark.parametrize("codec", CODECS)
def test_cut_at_a_frame_boundary_has_no_tail(tmp_path: Path, valid: dict[str, Valid],
                                             codec: str) -> None:
    """A file that ends between frames (a crash right after a flush) has no tail garbage."""
    v = valid[codec]
    path = tmp_path / f"boundary{SUFFIX[codec]}"
    path.write_bytes(v.data[:v.frames[3].offset])
    reader = _read_all(path)
    assert (reader.status, reader.tail_garbage) == ("incomplete", 0)
    assert reader.seqs == list(range(v.frames[3].first_seq))


# --- property: nothing but FlowtapeError, whatever the bytes --------------------------------------
def _read_never_raw(path: Path) -> None:
    for recover in (False, True):
        try:
            with LogReader.open(path, recover=recover) as reader:
                for _ in reader.iter_events():
                    pass
                assert reader.status in ("completed", "failed", "timed_out", "cancelled",
                                         "incomplete")
        except FlowtapeError:
            pass


_PREFIXES = st.sampled_from([b"", b"\x28\xb5\x2f\xfd", b"\x1f\x8b\x08", b"{", b"\x5f\x2a\x4d\x18"])


@given(prefix=_PREFIXES, body=st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_flowtape_errors(tmp_path: Path, prefix: bytes,
                                                    body: bytes) -> None:
    """Any bytes at all: LogReader either reads them or raises a FlowtapeError subclass."""
    path = tmp_path / "arbitrary"
    path.write_bytes(prefix + body)
    _read_never_raw(path)


#: (what, where in the file as a fraction, a small number, bytes to insert); "tail"
#: flips a bit within the last 64 bytes, where the trailer and the footer are.
_MUTATION = st.tuples(st.sampled_from(["truncate", "flip", "insert", "delete", "tail"]),
                      st.floats(0, 1), st.integers(0, 63), st.binary(min_size=1, max_size=16))


@given(codec=st.sampled_from(CODECS), mutations=st.lists(_MUTATION, min_size=1, max_size=4))
def test_mutated_recordings_raise_only_flowtape_errors(
    tmp_path: Path, valid: dict[str, Valid], codec: str,
    mutations: list[tuple[str, float, int, bytes]],
) -> None:
    """A valid recording truncated, bit-flipped or given garbage raises only FlowtapeErrors."""
    data = bytearray(valid[codec].data)
    for op, where, n, blob in mutations:
        if not data:
            break
        if op == "tail":
            pos = max(0, len(data) - 1 - n)
        else:
            pos = min(len(data) - 1, int(where * len(data)))
        if op == "truncate":
            del data[pos:]
        elif op in ("flip", "tail"):
            data[pos] ^= 1 << (n % 8)
        elif op == "insert":
            data[pos:pos] = blob
        else:
            del data[pos:pos + 1 + n % 16]
    path = tmp_path / "mutated"
    path.write_bytes(bytes(data))
    _read_never_raw(path)

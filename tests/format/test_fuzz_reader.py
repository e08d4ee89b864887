"""Fuzzing the read side: whatever the bytes, only named errors come out.

Every golden file and a fresh recording in each codec are mutated the ways
files get damaged and the ways an attacker would damage them: bytes flipped,
cut, deleted, inserted and spliced; frames repeated, swapped and dropped
(repeated and out-of-order seqs); seqs, parents and spans rewritten inside
a frame that still checksums; footers whose counts and seek index lie, and
trailers that point anywhere; frames replaced by compression bombs and by
lines nested thousands deep. Each result is opened strictly and recovering,
counted, iterated, indexed, turned into spans and states, and checked with
`check_file`: the only exceptions allowed are `FlowtapeError` subclasses
(issue 10, "Done when").

``FLOWTAPE_FUZZ_EXAMPLES`` sets the examples per test (default 300, well
under a minute in ``make test``); a long run prints how many inputs it tried
when run with ``-s``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bad_files import CODECS, gzip_bomb, make_valid, zstd_bomb
from hypothesis import given
from hypothesis import strategies as st
from strategies import FUZZ_SETTINGS

from replayer import Replayer
from storage import FlowtapeError, LogReader, build_spans, iter_event_views
from storage.format.codec import Codec, FrameError, codec_for_name
from storage.format.frames import FrameSpan
from storage.format.integrity import check_file

GOLDEN = Path(__file__).parents[1] / "golden"
TRIED = {"inputs": 0}


@dataclass(frozen=True)
class Sample:
    """A recording to mutate: its bytes and where its frames and footer are."""

    name: str
    codec: Codec
    data: bytes
    frames: list[FrameSpan]
    footer_at: int | None
    footer_end: int


#: What the tests mutate, filled once per module by the `corpus` fixture — kept out of
#: the tests' arguments, which hypothesis prints for a failing example.
CORPUS: list[Sample] = []
BOMBS: dict[str, bytes] = {}


def _sample(path: Path) -> Sample:
    with LogReader.open(path) as reader:
        codec = codec_for_name(reader.codec)
        at = reader.footer_offset
        end = at + reader.footer_length if at is not None else reader.size
        return Sample(path.name, codec, path.read_bytes(), reader.frames, at, end)


@pytest.fixture(scope="module", autouse=True)
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The golden files, a fresh recording of each codec and the bomb frames (over the
    16 MiB limit); prints how many inputs were read at the end."""
    fresh = tmp_path_factory.mktemp("fresh")
    for codec in CODECS:
        make_valid(fresh, codec)
    CORPUS[:] = [_sample(p) for p in sorted(GOLDEN.glob("v1-*")) + sorted(fresh.iterdir())]
    BOMBS.update({"zstd declared": zstd_bomb(1 << 30),
                  "zstd undeclared": zstd_bomb(20 << 20, declared=False),
                  "gzip": gzip_bomb(20 << 20)})
    yield
    print(f"\nfuzz: {TRIED['inputs']} mutated recordings read every way")


# --- structured damage: frames, seqs, footers, trailers ----------------------------------
def _frame(s: Sample, k: int) -> FrameSpan | None:
    return s.frames[k % len(s.frames)] if s.frames else None


def _content(s: Sample, span: FrameSpan) -> bytes | None:
    try:
        return s.codec.decompress(s.data[span.offset:span.offset + span.length])
    except FrameError:
        return None


_FIELD = re.compile(rb'"(seq|parent|span)":(-?\d+)')


def _structured(s: Sample, op: tuple[Any, ...]) -> bytes:
    """``s``'s bytes with one piece of structured damage (frame-level, footer or trailer)."""
    data, kind = s.data, op[0]
    if kind in ("footer", "trailer"):
        return _footer_lie(s, op) if kind == "footer" else _trailer_lie(s, op[1], op[2])
    span = _frame(s, op[1])
    if span is None:
        return data
    a, b = span.offset, span.offset + span.length
    frame = data[a:b]
    if kind == "dup_frame":
        return data[:b] + frame + data[b:]
    if kind == "drop_frame":
        return data[:a] + data[b:]
    if kind == "swap_frames":
        nxt = _frame(s, op[1] + 1)
        if nxt is None or nxt.offset <= a:
            return data
        c, d = nxt.offset, nxt.offset + nxt.length
        return data[:a] + data[c:d] + data[b:c] + frame + data[d:]
    if kind == "bomb":
        return data[:a] + BOMBS[op[2]] + data[b:]
    content = _content(s, span)
    if content is None:
        return data
    if kind == "field":  # rewrite the n-th seq/parent/span number, checksums kept right
        found = list(_FIELD.finditer(content))
        if not found:
            return data
        m = found[op[2] % len(found)]
        content = content[:m.start(2)] + str(op[3]).encode() + content[m.end(2):]
    elif kind == "deep":
        try:
            first = json.loads(content.split(b"\n", 1)[0])
        except ValueError:
            return data
        value = "[" * op[2] + "]" * op[2]
        line = (f'{{"seq":{first.get("seq", 0)},"ts":0,"kind":"state","patch":[{{"op":"add",'
                f'"path":"/x","value":{value}}}]}}\n').encode()
        content = line + content
    return data[:a] + s.codec.compress(content) + data[b:]


def _footer_lie(s: Sample, op: tuple[Any, ...]) -> bytes:
    if s.footer_at is None:
        return s.data
    raw = s.data[s.footer_at:s.footer_end]
    try:
        footer = json.loads(s.codec.decompress(raw))
    except (FrameError, ValueError):
        return s.data
    _, field, value = op
    if field in ("frames", "keyframes", "state_frames"):
        footer["index"][field] = value
    else:
        footer[field] = value
    line = json.dumps(footer, separators=(",", ":")).encode() + b"\n"
    frame = s.codec.compress(line)
    return s.data[:s.footer_at] + frame + s.codec.make_trailer(s.footer_at, len(frame))


def _trailer_lie(s: Sample, offset: int, length: int) -> bytes:
    size = s.codec.trailer_size
    if size == 0 or s.footer_at is None:
        return s.data
    return s.data[:len(s.data) - size] + s.codec.make_trailer(offset % (1 << 64),
                                                              length % (1 << 64))


_ints = st.integers(-3, 10**6) | st.integers(-(2**63), 2**63 - 1)
_seq_lists = st.lists(st.integers(-2, 60), max_size=8)
STRUCTURED = st.one_of(
    st.tuples(st.sampled_from(["dup_frame", "drop_frame", "swap_frames"]), st.integers(0, 99)),
    st.tuples(st.just("bomb"), st.integers(0, 99),
              st.sampled_from(["zstd declared", "zstd undeclared", "gzip"])),
    st.tuples(st.just("field"), st.integers(0, 99), st.integers(0, 999),
              st.sampled_from([-1, 0, 1, 2, 5, 9, 40, 10**9]) | st.integers(-5, 60)),
    st.tuples(st.just("deep"), st.integers(0, 99), st.sampled_from([900, 3000, 100_000])),
    st.tuples(st.just("footer"), st.sampled_from(["event_count", "duration_ns"]), _ints),
    st.tuples(st.just("footer"), st.just("status"), st.sampled_from(["exploded", "", "failed"])),
    st.tuples(st.just("footer"), st.just("frames"),
              st.lists(st.tuples(st.integers(-2, 60), st.integers(-5, 5000)), max_size=8)),
    st.tuples(st.just("footer"), st.sampled_from(["keyframes", "state_frames"]), _seq_lists),
    st.tuples(st.just("trailer"), _ints, _ints),
)


# --- byte damage -----------------------------------------------------------------------
BYTES = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 64)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=32)),
    st.tuples(st.just("splice"), st.floats(0, 1), st.floats(0, 1), st.integers(1, 400)),
    st.tuples(st.just("tail"), st.integers(0, 63), st.integers(0, 7)),
)


def _written(directory: Path, data: bytes, ops: list[tuple[Any, ...]]) -> Path:
    """A file holding ``data`` with the byte damage ``ops`` done to it."""
    buf = bytearray(data)
    for op in ops:
        _bytes(buf, op)
    path = directory / "fuzzed"
    path.write_bytes(bytes(buf))
    return path


def _bytes(data: bytearray, op: tuple[Any, ...]) -> None:
    if not data:
        return
    kind = op[0]
    at = min(len(data) - 1, int(op[1] * len(data))) if kind != "tail" else \
        max(0, len(data) - 1 - op[1])
    if kind in ("flip", "tail"):
        data[at] ^= 1 << op[2]
    elif kind == "truncate":
        del data[at:]
    elif kind == "delete":
        del data[at:at + op[2]]
    elif kind == "insert":
        data[at:at] = op[2]
    elif kind == "splice":  # a stretch of the file copied over another place in it
        src = min(len(data) - 1, int(op[2] * len(data)))
        data[at:at + op[3]] = data[src:src + op[3]]


# --- reading everything, every way ------------------------------------------------------
def read_every_way(path: Path) -> None:
    """Everything a user can ask of a recording; only FlowtapeErrors may escape."""
    TRIED["inputs"] += 1
    for recover in (False, True):
        try:
            with Replayer.open(path, recover=recover) as r:
                n = len(r)
                assert n >= 0
                seqs = [e.seq for e in r.events]
                assert len(seqs) == n and seqs == sorted(set(seqs))
                for i in (0, n // 2, n - 1, n, -1):
                    try:
                        event = r[i]
                        assert r.get_event(event.seq).seq == event.seq
                    except FlowtapeError:
                        pass
                spans = r.spans()
                assert all(s.parent is None or s.parent < s.start_seq for s in spans)
                list(build_spans(iter_event_views(r.reader)))
                for seq in seqs:
                    r.get_state_at_event(seq)
                    r.state_unknown(seq)
                r.summary  # noqa: B018 (computing it is the test)
                while r.current is not None:
                    next(r.step_forward(1))
        except FlowtapeError:
            pass
    with contextlib.suppress(FlowtapeError):
        check_file(str(path))


@FUZZ_SETTINGS
@given(pick=st.integers(0, 99), ops=st.lists(BYTES, min_size=1, max_size=4))
def test_byte_damage_raises_only_named_errors(tmp_path: Path, pick: int,
                                              ops: list[tuple[Any, ...]]) -> None:
    """Flipped, cut, deleted, inserted and spliced bytes: named errors or a sound read."""
    s = CORPUS[pick % len(CORPUS)]
    read_every_way(_written(tmp_path, s.data, ops))


@FUZZ_SETTINGS
@given(pick=st.integers(0, 99), structured=st.lists(STRUCTURED, min_size=1, max_size=2),
       ops=st.lists(BYTES, max_size=2))
def test_structured_damage_raises_only_named_errors(
        tmp_path: Path, pick: int, structured: list[tuple[Any, ...]],
        ops: list[tuple[Any, ...]]) -> None:
    """Repeated, swapped and dropped frames, rewritten seqs and links, lying footers and
    trailers, bombs and deep nesting — then maybe a few bytes more — only named errors."""
    s = CORPUS[pick % len(CORPUS)]
    # The footer and trailer first (they leave the frames where they are), then one frame.
    at_end = [op for op in structured if op[0] in ("footer", "trailer")]
    in_frames = [op for op in structured if op[0] not in ("footer", "trailer")][:1]
    for op in at_end + in_frames:
        data = _structured(s, op)
        end = len(data) - s.codec.trailer_size if s.footer_at is not None else len(data)
        s = dataclasses.replace(s, data=data, footer_end=end)
    read_every_way(_written(tmp_path, s.data, ops))

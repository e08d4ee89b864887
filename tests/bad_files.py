"""Good recordings and the bad bytes made from them, for the reader's damage tests.

`make_valid` records a small run with the public API in each codec and notes
where its frames lie; the builders below turn bytes into frames (`zstd`,
`gzip`), hand-made lines (`header_line`, `event_line`), rewritten footers
(`with_footer`) and compression bombs (`zstd_bomb`, `gzip_bomb`), so each
test states the damage it is about in one line.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard

from recorder import node, record_workflow
from storage import LogReader
from storage.format.codec import codec_for_name
from storage.format.frames import FrameSpan

__all__ = [
    "CODECS",
    "SUFFIX",
    "Valid",
    "event_line",
    "flip",
    "gzip_bomb",
    "gzip_frame",
    "header_line",
    "make_valid",
    "plain",
    "with_footer",
    "zstd_bomb",
    "zstd_frame",
    "zstd_raw_frame",
]

CODECS = ("zstd", "gzip", "none")
SUFFIX = {"zstd": ".jsonl.zst", "gzip": ".jsonl.gz", "none": ".jsonl"}


@dataclass(frozen=True)
class Valid:
    """A good recording's bytes and where its frames are."""

    codec: str
    data: bytes
    frames: list[FrameSpan]
    event_count: int

    @property
    def header_end(self) -> int:
        return self.frames[0].offset

    @property
    def events_end(self) -> int:
        """Where the footer frame starts."""
        return self.frames[-1].offset + self.frames[-1].length


@node
def work(i: int) -> dict[str, int]:
    return {"i": i, "square": i * i}


@node
def broken() -> None:
    raise RuntimeError("expected")


def make_valid(directory: Path, codec: str) -> Valid:
    """A finished 47-event recording in 5-event frames, with state keyframes and patches."""
    path = directory / f"valid{SUFFIX[codec]}"
    with record_workflow("corrupt", path=str(path), codec=codec, flush_every=5,
                         keyframe_every=2) as rec:
        for i in range(20):
            work(i)
            if i % 7 == 0:
                rec.snapshot({"i": i, "items": list(range(i))})
        with contextlib.suppress(RuntimeError):
            broken()
    with LogReader.open(path) as reader:
        assert reader.status == "completed"
        return Valid(codec, path.read_bytes(), reader.frames, reader.event_count)


def flip(data: bytes, at: int, bit: int = 0x10) -> bytes:
    """``data`` with one bit of the byte at ``at`` flipped."""
    out = bytearray(data)
    out[at] ^= bit
    return bytes(out)


def header_line(**changes: object) -> bytes:
    """A valid header line, with fields changed or added."""
    header = {"kind": "header", "format": "flowtape", "version": 1,
              "recording_id": "01m83j2fk3764czz4dt3vdk6bp", "workflow": "w",
              "started_at": "2026-01-01T00:00:00.000000Z", **changes}
    return json.dumps(header, separators=(",", ":")).encode() + b"\n"


def event_line(seq: int, kind: str = "custom", **fields: Any) -> bytes:
    """One event line with ``seq``, ``ts`` = seq and ``kind``, plus any other fields."""
    event = {"seq": seq, "ts": seq, "kind": kind, **fields}
    return json.dumps(event, separators=(",", ":")).encode() + b"\n"


def plain(*lines: bytes) -> bytes:
    """A plain (``none`` codec) recording: a header line, then ``lines``."""
    return header_line() + b"".join(lines)


def zstd_frame(data: bytes, *, content_size: bool = True) -> bytes:
    """One zstd frame with a checksum (and, unless told otherwise, its content size)."""
    return zstandard.ZstdCompressor(write_checksum=True,
                                    write_content_size=content_size).compress(data)


def gzip_frame(data: bytes) -> bytes:
    """One gzip member."""
    return gzip.compress(data, mtime=0)


def zstd_raw_frame(content: bytes, declared_size: int) -> bytes:
    """A structurally valid zstd frame (one raw block) whose header declares a false size."""
    fhd = 0xE0  # Frame_Content_Size_flag 3 (8 bytes), Single_Segment_flag, no checksum
    block = ((len(content) << 3) | 1).to_bytes(3, "little")  # last block, raw
    return (b"\x28\xb5\x2f\xfd" + bytes([fhd]) + declared_size.to_bytes(8, "little")
            + block + content)


def zstd_bomb(size: int = 1 << 30, *, declared: bool = True) -> bytes:
    """A zstd frame of ~size/32768 bytes that inflates to ``size`` spaces (RLE blocks).

    ``declared`` writes the content size into the frame header; without it
    only decompressing tells how big the frame is.
    """
    block = 128 << 10
    count = size // block
    if declared:  # single segment, 8-byte content size
        head = b"\x28\xb5\x2f\xfd" + bytes([0xE0]) + size.to_bytes(8, "little")
    else:  # a window descriptor of 128 KiB, no content size
        head = b"\x28\xb5\x2f\xfd" + bytes([0x00, 7 << 3])
    rle = (block << 3) | (1 << 1)
    body = b"".join((rle | (1 if i == count - 1 else 0)).to_bytes(3, "little") + b" "
                    for i in range(count))
    return head + body


def gzip_bomb(size: int = 256 << 20) -> bytes:
    """A gzip member that inflates to ``size`` spaces (about size/220 bytes on disk)."""
    c = zlib.compressobj(1, zlib.DEFLATED, 31)
    chunk = b" " * (1 << 20)
    parts = [c.compress(chunk) for _ in range(size >> 20)]
    return b"".join(parts) + c.flush()


def with_footer(v: Valid, edit: Callable[[dict[str, Any]], None]) -> bytes:
    """``v``'s bytes with its footer rewritten by ``edit`` (and a trailer that points at it)."""
    codec = codec_for_name(v.codec)
    end = len(v.data) - codec.trailer_size
    raw = codec.decompress(v.data[v.events_end:end])
    footer = json.loads(raw)
    edit(footer)
    line = json.dumps(footer, separators=(",", ":")).encode() + b"\n"
    frame = codec.compress(line)
    return v.data[:v.events_end] + frame + codec.make_trailer(v.events_end, len(frame))

"""Frame codecs and the trailer: how lines become bytes on disk.

A recording is a concatenation of independent frames (zstd frames, gzip
members, or plain line groups for ``none``). Each codec here compresses one
frame, decompresses one frame, and finds where a frame ends when scanning a
file that has no usable index. The trailer (docs/format.md §Trailer) is a
fixed-size block after the footer frame that says where the footer starts.

No frame holds more than `MAX_FRAME_CONTENT` (16 MiB) decompressed (SPEC
§3): the writer never makes one, and decompressing refuses one that
declares or inflates to more — without allocating what it declares — so a
compression bomb costs a reader at most that much memory.
"""

from __future__ import annotations

import struct
import zlib
from typing import Protocol

import zstandard

__all__ = [
    "CODECS",
    "MAX_FRAME_BYTES",
    "MAX_FRAME_CONTENT",
    "TRAILER_MAGIC",
    "Codec",
    "FrameError",
    "FrameTooLarge",
    "codec_for_name",
    "detect_codec",
    "suffix_for_codec",
]

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
#: Skippable-frame magic used for the trailer (0x184D2A5F, little-endian).
SKIPPABLE_MAGIC = b"\x5f\x2a\x4d\x18"
TRAILER_MAGIC = b"FLOWTAPE"
_TRAILER_BODY = struct.Struct("<8sQQ")  # magic, footer frame offset, footer frame length


#: The most a frame may hold decompressed; the writer splits bigger buffers.
MAX_FRAME_CONTENT = 16 << 20
#: The most a frame of at most MAX_FRAME_CONTENT can take on disk (incompressible
#: content: zstd adds 3 bytes a 128 KiB block, deflate 5 a 64 KiB stored block).
MAX_FRAME_BYTES = MAX_FRAME_CONTENT + (64 << 10)
_LIMIT = "more than the 16 MiB a frame may hold"


class FrameError(Exception):
    """A frame failed to decode (internal; readers turn it into CorruptRecordingError)."""


class TruncatedFrame(FrameError):
    """The bytes end before the frame does (a crash mid-write, or a file still growing)."""


class FrameTooLarge(FrameError):
    """The frame declares or inflates to more than `MAX_FRAME_CONTENT` (a compression bomb)."""


class Codec(Protocol):
    """How one frame is compressed, decompressed and delimited."""

    name: str
    suffix: str
    trailer_size: int
    magic: bytes
    """The bytes every frame starts with (empty for ``none``), to resynchronise after damage."""

    def compress(self, data: bytes) -> bytes:
        """One whole frame holding ``data``."""
        ...

    def decompress(self, frame: bytes | memoryview) -> bytes:
        """The contents of one whole frame; raises `FrameError` if it is damaged."""
        ...

    def frame_length(self, buf: bytes | memoryview, pos: int) -> int:
        """Length of the frame starting at ``pos``; `TruncatedFrame` if it runs past the end."""
        ...

    def is_trailer(self, buf: bytes | memoryview, pos: int) -> bool:
        """True when the frame at ``pos`` is the trailer (or another skippable block)."""
        ...

    def skip_length(self, buf: bytes | memoryview, pos: int) -> int | None:
        """The length of a skippable block at ``pos``, told by its first 8 bytes alone (so
        a reader steps over it unread); None when none starts there."""
        ...

    def make_trailer(self, footer_offset: int, footer_length: int) -> bytes:
        """The fixed-size trailer pointing at the footer frame."""
        ...

    def parse_trailer(self, tail: bytes) -> tuple[int, int] | None:
        """(footer offset, footer length) from the file's last bytes, or None."""
        ...


class ZstdCodec:
    """zstd frames with content checksums; the trailer is a skippable frame."""

    name = "zstd"
    suffix = ".jsonl.zst"
    magic = ZSTD_MAGIC
    trailer_size = 8 + _TRAILER_BODY.size

    def __init__(self, level: int = 1) -> None:
        self._cctx = zstandard.ZstdCompressor(level=level, write_checksum=True,
                                              write_content_size=True)
        self._dctx = zstandard.ZstdDecompressor()

    def compress(self, data: bytes) -> bytes:
        return self._cctx.compress(data)

    def decompress(self, frame: bytes | memoryview) -> bytes:
        try:
            # The one-shot decompressor allocates what the frame header declares up
            # front: refuse a declaration past the limit before it does.
            declared = zstandard.frame_content_size(frame)
            if declared > MAX_FRAME_CONTENT:
                raise FrameTooLarge(f"the zstd frame header declares {declared} bytes of "
                                    f"content, {_LIMIT}")
            if declared >= 0:
                return self._dctx.decompress(frame)
        except zstandard.ZstdError as exc:
            raise FrameError(f"zstd: {exc}") from exc
        # No size declared (a streaming writer): inflate into a buffer of the limit.
        try:
            return self._dctx.decompress(frame, max_output_size=MAX_FRAME_CONTENT)
        except zstandard.ZstdError as exc:
            if "full frame" not in str(exc):
                raise FrameError(f"zstd: {exc}") from exc
            try:
                complete = self.frame_length(frame, 0) <= len(frame)
            except FrameError:
                complete = False
            if complete:
                raise FrameTooLarge(f"the zstd frame inflates to {_LIMIT}") from None
            raise FrameError("zstd: the frame is cut short") from None

    def frame_length(self, buf: bytes | memoryview, pos: int) -> int:
        """Walk the frame header and block headers (RFC 8878 §3.1.1) to find the end."""
        end = len(buf)
        if pos + 4 > end:
            raise TruncatedFrame("frame header cut short")
        magic = bytes(buf[pos:pos + 4])
        if magic[1:] == SKIPPABLE_MAGIC[1:] and (magic[0] & 0xF0) == 0x50:
            if pos + 8 > end:
                raise TruncatedFrame("skippable frame header cut short")
            size = int.from_bytes(buf[pos + 4:pos + 8], "little")
            if pos + 8 + size > end:
                raise TruncatedFrame("skippable frame cut short")
            return 8 + size
        if magic != ZSTD_MAGIC:
            raise FrameError(f"no zstd frame magic (found {magic.hex()})")
        if pos + 5 > end:
            raise TruncatedFrame("frame header cut short")
        fhd = buf[pos + 4]
        if fhd & 0x08:
            raise FrameError("reserved bit set in zstd frame header")
        fcs_flag = fhd >> 6
        single_segment = (fhd >> 5) & 1
        checksum = (fhd >> 2) & 1
        dict_size = (0, 1, 2, 4)[fhd & 3]
        fcs_size = (1 if single_segment else 0, 2, 4, 8)[fcs_flag]
        p = pos + 5 + (0 if single_segment else 1) + dict_size + fcs_size
        while True:
            if p + 3 > end:
                raise TruncatedFrame("block header cut short")
            bh = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)
            last = bh & 1
            btype = (bh >> 1) & 3
            bsize = bh >> 3
            if btype == 3:
                raise FrameError("reserved zstd block type")
            p += 3 + (1 if btype == 1 else bsize)
            if last:
                break
        p += 4 if checksum else 0
        if p > end:
            raise TruncatedFrame("frame cut short")
        return p - pos

    def is_trailer(self, buf: bytes | memoryview, pos: int) -> bool:
        head = bytes(buf[pos:pos + 4])
        return len(head) == 4 and head[1:] == SKIPPABLE_MAGIC[1:] and (head[0] & 0xF0) == 0x50

    def skip_length(self, buf: bytes | memoryview, pos: int) -> int | None:
        if len(buf) < pos + 8 or not self.is_trailer(buf, pos):
            return None
        return 8 + int.from_bytes(buf[pos + 4:pos + 8], "little")

    def make_trailer(self, footer_offset: int, footer_length: int) -> bytes:
        body = _TRAILER_BODY.pack(TRAILER_MAGIC, footer_offset, footer_length)
        return SKIPPABLE_MAGIC + struct.pack("<I", len(body)) + body

    def parse_trailer(self, tail: bytes) -> tuple[int, int] | None:
        if len(tail) < self.trailer_size:
            return None
        t = tail[-self.trailer_size:]
        if t[:4] != SKIPPABLE_MAGIC or struct.unpack("<I", t[4:8])[0] != _TRAILER_BODY.size:
            return None
        magic, off, length = _TRAILER_BODY.unpack(t[8:])
        return (off, length) if magic == TRAILER_MAGIC else None


class GzipCodec:
    """gzip members (CRC32 each); the trailer is an empty member with an extra field."""

    name = "gzip"
    suffix = ".jsonl.gz"
    magic = GZIP_MAGIC + b"\x08"  # ID1 ID2 and CM=8 (deflate), the only method in use
    # header(10) + XLEN(2) + subfield(4 + body) + empty deflate(2) + CRC32/ISIZE(8)
    trailer_size = 10 + 2 + 4 + _TRAILER_BODY.size + 2 + 8

    def __init__(self, level: int = 6) -> None:
        self._level = level

    def compress(self, data: bytes) -> bytes:
        c = zlib.compressobj(self._level, zlib.DEFLATED, 31)
        return c.compress(data) + c.flush()

    def decompress(self, frame: bytes | memoryview) -> bytes:
        d = zlib.decompressobj(31)
        try:
            out = d.decompress(frame, MAX_FRAME_CONTENT + 1)  # inflate no further than that
        except zlib.error as exc:
            raise FrameError(f"gzip: {exc}") from exc
        if len(out) > MAX_FRAME_CONTENT:
            raise FrameTooLarge(f"the gzip member inflates to {_LIMIT}")
        if not d.eof:
            raise FrameError("gzip member ends early")
        return out

    def frame_length(self, buf: bytes | memoryview, pos: int) -> int:
        """Inflate (at most the limit, 64 KiB of input at a time) until the member ends."""
        if bytes(buf[pos:pos + 2]) != GZIP_MAGIC:
            if pos + 2 > len(buf):
                raise TruncatedFrame("member header cut short")
            raise FrameError(f"no gzip magic (found {bytes(buf[pos:pos + 2]).hex()})")
        d = zlib.decompressobj(31)
        mv = memoryview(buf)
        p, chunk, total = pos, 1 << 16, 0
        try:
            while p < len(buf):
                piece = mv[p:p + chunk]
                pending: bytes | memoryview = piece
                while pending and total <= MAX_FRAME_CONTENT:
                    total += len(d.decompress(pending, MAX_FRAME_CONTENT + 1 - total))
                    pending = d.unconsumed_tail
                if total > MAX_FRAME_CONTENT:
                    raise FrameTooLarge(f"the gzip member inflates to {_LIMIT}")
                if d.eof:
                    return p + len(piece) - len(d.unused_data) - pos
                p += len(piece)
        except zlib.error as exc:
            raise FrameError(f"gzip: {exc}") from exc
        raise TruncatedFrame("member cut short")

    def is_trailer(self, buf: bytes | memoryview, pos: int) -> bool:
        head = bytes(buf[pos:pos + 16])
        return (len(head) == 16 and head[:2] == GZIP_MAGIC and head[3] & 0x04 != 0
                and head[12:14] == b"FT")

    def skip_length(self, buf: bytes | memoryview, pos: int) -> int | None:
        return None  # the trailer is an ordinary (empty) member

    def make_trailer(self, footer_offset: int, footer_length: int) -> bytes:
        body = _TRAILER_BODY.pack(TRAILER_MAGIC, footer_offset, footer_length)
        sub = b"FT" + struct.pack("<H", len(body)) + body
        header = GZIP_MAGIC + b"\x08\x04" + b"\x00\x00\x00\x00" + b"\x00\xff"
        return header + struct.pack("<H", len(sub)) + sub + b"\x03\x00" + b"\x00" * 8

    def parse_trailer(self, tail: bytes) -> tuple[int, int] | None:
        if len(tail) < self.trailer_size:
            return None
        t = tail[-self.trailer_size:]
        if t[:4] != GZIP_MAGIC + b"\x08\x04" or t[12:14] != b"FT":
            return None
        if t[-10:] != b"\x03\x00" + b"\x00" * 8:
            return None
        magic, off, length = _TRAILER_BODY.unpack(t[16:16 + _TRAILER_BODY.size])
        return (off, length) if magic == TRAILER_MAGIC else None


class PlainCodec:
    """Uncompressed NDJSON (for export and debugging): a frame is a group of lines."""

    name = "none"
    suffix = ".jsonl"
    magic = b""
    trailer_size = 0

    def compress(self, data: bytes) -> bytes:
        return data

    def decompress(self, frame: bytes | memoryview) -> bytes:
        data = bytes(frame)
        if data and not data.endswith(b"\n"):
            raise TruncatedFrame("last line has no newline")
        return data

    def frame_length(self, buf: bytes | memoryview, pos: int) -> int:
        """Plain files are scanned line by line: a 'frame' runs to the last newline."""
        data = bytes(buf[pos:])
        cut = data.rfind(b"\n")
        if cut < 0:
            raise TruncatedFrame("no complete line")
        return cut + 1

    def is_trailer(self, buf: bytes | memoryview, pos: int) -> bool:
        return False

    def skip_length(self, buf: bytes | memoryview, pos: int) -> int | None:
        return None

    def make_trailer(self, footer_offset: int, footer_length: int) -> bytes:
        return b""

    def parse_trailer(self, tail: bytes) -> tuple[int, int] | None:
        return None


CODECS: dict[str, type[ZstdCodec] | type[GzipCodec] | type[PlainCodec]] = {
    "zstd": ZstdCodec,
    "gzip": GzipCodec,
    "none": PlainCodec,
}


def codec_for_name(name: str) -> Codec:
    """A fresh codec for ``name``; unknown names raise ValueError listing the known ones."""
    try:
        return CODECS[name]()
    except KeyError:
        raise ValueError(
            f"unknown codec {name!r}; choose one of {', '.join(sorted(CODECS))}"
        ) from None


def suffix_for_codec(name: str) -> str:
    """The file-name suffix a recording with this codec gets (``.jsonl.zst`` …)."""
    return codec_for_name(name).suffix


def detect_codec(first_bytes: bytes) -> str | None:
    """The codec name from a file's first bytes (never from its name), or None."""
    if first_bytes.startswith(ZSTD_MAGIC):
        return "zstd"
    if first_bytes.startswith(GZIP_MAGIC):
        return "gzip"
    if first_bytes.lstrip(b" \t\r\n").startswith(b"{"):
        return "none"
    return None

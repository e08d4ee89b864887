"""Reading a recording's header and footer from object storage by range requests.

To catalogue an object, a store reads its first `HEAD_BYTES` (the header
frame) and its last `TAIL_BYTES` (trailer and footer) — one more request only
when a header or footer is bigger than that — and never the events
(docs/stores.md §Object storage). The header goes through the reader's own
check, so a damaged or hostile header is named exactly as for a local file.
"""

from __future__ import annotations

from typing import Any

from ..errors import CorruptRecordingError, StoreError
from ..format.codec import Codec, FrameError, TruncatedFrame, codec_for_name, detect_codec
from ..format.events import Footer, Header
from ..format.footer import find_footer
from ..format.header import header_from_frame

__all__ = ["HEAD_BYTES", "TAIL_BYTES", "read_ends"]

HEAD_BYTES = 16 << 10  # the header frame; bigger ones cost one more request
TAIL_BYTES = 16 << 10  # trailer and footer; a footer with a big seek index: one more
MAX_HEADER_BYTES = 16 << 20


def read_ends(fs: Any, remote: str, where: str, size: int) -> tuple[Header, Footer | None]:
    """The header and footer (None without a usable one) of the ``size``-byte object
    ``remote`` on the fsspec filesystem ``fs``; errors name it as ``where`` (its URL).

    The bytes are parsed by the format's own code (`storage.format.header`,
    `storage.format.footer`), exactly as for a local file. Raises
    `CorruptRecordingError` (`NotARecordingError`) or `UnsupportedVersionError`
    for a bad header, `StoreError` when the object cannot be read,
    FileNotFoundError when it is gone.
    """
    head = _range(fs, remote, 0, min(size, HEAD_BYTES))
    kind = detect_codec(head[:8])
    if kind is None:
        raise CorruptRecordingError(
            where, "not a flowtape recording (no zstd, gzip or JSON start)", offset=0)
    codec = codec_for_name(kind)
    header = header_from_frame(where, codec, _header_frame(fs, remote, where, head,
                                                             size=size, codec=codec))
    tail_start = max(0, size - TAIL_BYTES)
    tail = head[tail_start:] if len(head) >= size else _range(fs, remote, tail_start, size)

    def pread(offset: int, length: int) -> bytes:
        if offset >= tail_start:
            return tail[offset - tail_start: offset - tail_start + length]
        return _range(fs, remote, offset, offset + length)

    found = find_footer(codec, pread, size)
    return header, found[0] if found is not None else None


def _range(fs: Any, remote: str, start: int, end: int) -> bytes:
    if end <= start:
        return b""
    try:
        return bytes(fs.cat_file(remote, start=start, end=end))
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise StoreError(f"reading {remote} failed: {exc}") from None


def _header_frame(fs: Any, remote: str, where: str, head: bytes, *, size: int, codec: Codec
                  ) -> bytes:
    """The header frame's bytes (a plain file's first line), fetching more when it is big."""
    if codec.name == "none":
        line, nl, _ = head.partition(b"\n")
        if not nl:
            raise CorruptRecordingError(where, "the header line is cut short", frame=0,
                                        offset=0)
        return line
    length = len(head)
    while True:
        try:
            return head[:codec.frame_length(head, 0)]
        except FrameError as exc:
            if len(head) >= size or length >= MAX_HEADER_BYTES:
                reason = ("the header frame is cut short" if isinstance(exc, TruncatedFrame)
                          else f"the header frame is damaged ({exc})")
                raise CorruptRecordingError(where, reason, frame=0, offset=0) from None
            length *= 4
            head = _range(fs, remote, 0, min(size, length))

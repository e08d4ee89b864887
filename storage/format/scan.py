"""Walking a recording's bytes frame by frame, for a file without a usable index.

`FrameScanner` reads the file through a sliding window — a megabyte at a
time, more only for a frame that needs it, never more than the largest frame
allowed (`MAX_FRAME_BYTES`) — so scanning a big crashed recording holds a
frame or two of it, not the file. It cuts the bytes into `Piece`\\ s: a
frame and its decompressed content, a skippable block (the trailer), or
damage with the reason, ending each stretch of damage where the next whole
frame starts (found by its magic bytes). A frame cut short by the end of the
file ends the walk: it is the tail of a crash, or of a file still being
written (docs/format.md §Reading, step 5). Plain files are cut into groups of
whole lines, the footer line alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

from .codec import (
    MAX_FRAME_BYTES,
    MAX_FRAME_CONTENT,
    Codec,
    FrameError,
    FrameTooLarge,
    TruncatedFrame,
)

__all__ = ["FOOTER_PREFIX", "FrameScanner", "Piece"]

#: Every footer line starts with these bytes (docs/format.md §Lines).
FOOTER_PREFIX = b'{"kind":"footer"'
#: How much of the file one read brings in, and how much of a plain file one group takes.
WINDOW = 1 << 20
#: Candidate frame starts tried after damage before giving the rest up as damaged.
_RESYNC_TRIES = 64


class Piece(NamedTuple):
    """A stretch of the file: a frame, a skippable block, or damage."""

    offset: int
    length: int
    content: bytes = b""
    """The frame's decompressed lines (empty for a skippable block or damage)."""
    problem: str = ""
    """Why these bytes are not a readable frame; empty when they are."""
    skip: bool = False
    """A skippable block (the trailer): neither events nor damage."""


class FrameScanner:
    """Cuts the bytes of one file, from a given offset on, into pieces."""

    def __init__(self, codec: Codec, pread: Callable[[int, int], bytes], size: int) -> None:
        self.codec = codec
        self.size = size
        self._pread = pread
        self._buf = b""
        self._at = 0  # file offset of _buf[0]

    def _view(self, pos: int, need: int) -> tuple[bytes, int]:
        """A buffer holding the file's bytes ``pos`` … ``pos + need`` (fewer at the end), and
        where ``pos`` is in it."""
        end = min(self.size, pos + need)
        if not self._at <= pos or end > self._at + len(self._buf):
            self._buf = self._pread(pos, min(self.size - pos, max(need, WINDOW)))
            self._at = pos
        return self._buf, pos - self._at

    def pieces(self, pos: int, *, first_line_alone: bool = False) -> Iterator[Piece]:
        """The pieces from ``pos`` to the end of the file or a frame cut short there.

        ``first_line_alone`` makes a plain file's first line a piece of its own
        (the header).
        """
        if not self.codec.magic:
            yield from self._lines(pos, first_line_alone)
            return
        while pos < self.size:
            head, rel = self._view(pos, 8)
            skip = self.codec.skip_length(head, rel)
            if skip is not None and pos + skip <= self.size:  # stepped over unread
                yield Piece(pos, skip, skip=True)
                pos += skip
                continue
            try:
                n = self._measure(pos)
            except FrameError as exc:
                nxt = self._resync(pos)
                if nxt is None and isinstance(exc, TruncatedFrame):
                    return  # the tail of a crash, or a frame still being written
                reason = str(exc)
                if nxt is not None and isinstance(exc, TruncatedFrame):
                    reason += f", yet a complete frame follows at byte offset {nxt}"
                end = self.size if nxt is None else nxt
                yield Piece(pos, end - pos, problem=reason)
                pos = end
                continue
            buf, rel = self._view(pos, n)
            if self.codec.is_trailer(buf, rel):
                yield Piece(pos, n, skip=True)
            else:
                try:
                    content = self.codec.decompress(buf[rel:rel + n])
                except FrameError as exc:
                    yield Piece(pos, n, problem=str(exc))
                else:
                    yield Piece(pos, n, content)
            pos += n

    def _measure(self, pos: int) -> int:
        """The length of the frame at ``pos``, reading as much of the file as it needs.

        Raises `TruncatedFrame` when the file ends first, `FrameTooLarge` for a
        frame longer than any frame of at most 16 MiB can be, `FrameError` for
        bytes that are not a frame.
        """
        need = WINDOW
        while True:
            buf, rel = self._view(pos, need)
            try:
                n = self.codec.frame_length(buf, rel)
            except TruncatedFrame:
                have = len(buf) - rel
                if pos + have >= self.size:
                    raise
                if have >= MAX_FRAME_BYTES:
                    raise FrameTooLarge("the frame runs on for more than the 16 MiB a frame "
                                        "may hold") from None
                need = min(MAX_FRAME_BYTES, 2 * have)
                continue
            if n > MAX_FRAME_BYTES:
                raise FrameTooLarge("the frame is longer than a frame of at most 16 MiB can be")
            return n

    def _resync(self, pos: int) -> int | None:
        """Where the next whole frame after damage at ``pos`` starts (by its magic), or None."""
        magic = self.codec.magic
        q, tries = pos + 1, _RESYNC_TRIES
        while q < self.size and tries > 0:
            buf, rel = self._view(q, WINDOW)
            k = buf.find(magic, rel)
            if k < 0:
                if self._at + len(buf) >= self.size:
                    return None
                q = self._at + len(buf) - len(magic) + 1
                continue
            candidate = self._at + k
            tries -= 1
            try:
                self._measure(candidate)
            except FrameError:
                q = candidate + 1
                continue
            return candidate
        return None

    def _lines(self, pos: int, first_line_alone: bool) -> Iterator[Piece]:
        """Groups of whole lines of a plain file (at most a window's worth each)."""
        alone = first_line_alone
        while pos < self.size:
            buf, rel = self._view(pos, WINDOW)
            cut = buf.find(b"\n", rel) if alone or buf.startswith(FOOTER_PREFIX, rel) \
                else buf.rfind(b"\n", rel, rel + WINDOW)
            if cut < 0:
                buf, rel = self._view(pos, MAX_FRAME_CONTENT + 1)
                cut = buf.find(b"\n", rel, rel + MAX_FRAME_CONTENT + 1)
                if cut < 0:
                    if self._at + len(buf) >= self.size:
                        return  # a last line without its newline: the tail of a crash
                    end = self._line_end(pos + MAX_FRAME_CONTENT)
                    yield Piece(pos, end - pos, problem="a line runs on for more than the "
                                "16 MiB a frame may hold")
                    pos = end
                    continue
            group = buf[rel:cut + 1]
            footer_at = group.find(b"\n" + FOOTER_PREFIX)
            if footer_at >= 0:  # the footer line travels alone
                group = group[:footer_at + 1]
            alone = False
            yield Piece(pos, len(group), group)
            pos += len(group)

    def _line_end(self, pos: int) -> int:
        """The offset just after the next newline at or after ``pos`` (the file's size if none)."""
        while pos < self.size:
            buf, rel = self._view(pos, WINDOW)
            nl = buf.find(b"\n", rel)
            if nl >= 0:
                return self._at + nl + 1
            pos = self._at + len(buf)
        return self.size

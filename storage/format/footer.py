"""The footer line: found through the trailer, and checked before its index is used.

A finished recording ends with a footer frame and a trailer that says where
that frame starts (docs/format.md §Trailer); a plain file's footer is its
last line. `find_footer` finds it without reading anything else, and
`index_problem` checks what the footer claims on its face — a count that is
negative, a seek index whose frames or keyframes are out of order or outside
the file — so a reader never trusts a half-valid footer (§Reading, step 2).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import msgspec

from .codec import MAX_FRAME_BYTES, Codec, FrameError
from .events import Footer
from .frames import BAD_JSON
from .scan import FOOTER_PREFIX

__all__ = ["find_footer", "footer_of", "index_problem"]

_footer = msgspec.json.Decoder(Footer)


def footer_of(content: bytes) -> Footer | None:
    """The footer, when ``content`` (a frame's lines, a plain file's last line) is the footer
    line; None when it is something else. Raises one of `BAD_JSON` when it starts as a
    footer but does not decode as one."""
    return _footer.decode(content) if content.startswith(FOOTER_PREFIX) else None


def find_footer(codec: Codec, pread: Callable[[int, int], bytes],
                size: int) -> tuple[Footer, int, int] | None:
    """(the footer, its frame's offset, its length) via the trailer, or None."""
    if codec.trailer_size == 0:
        return _plain_footer(pread, size)
    if size < codec.trailer_size:
        return None
    loc = codec.parse_trailer(pread(size - codec.trailer_size, codec.trailer_size))
    if loc is None:
        return None
    off, length = loc
    if off <= 0 or off + length + codec.trailer_size != size or length > MAX_FRAME_BYTES:
        return None
    try:
        footer = footer_of(codec.decompress(pread(off, length)))
    except (FrameError, *BAD_JSON):
        return None
    return None if footer is None else (footer, off, length)


def _plain_footer(pread: Callable[[int, int], bytes], size: int) -> tuple[Footer, int, int] | None:
    """Plain files: the footer is the last line; the index offsets are byte offsets."""
    tail_len = min(size, 1 << 20)
    tail = pread(size - tail_len, tail_len)
    if not tail.endswith(b"\n"):
        return None
    cut = tail.rfind(b"\n", 0, len(tail) - 1)
    if cut < 0 and tail_len < size:
        return None
    last = tail[cut + 1:]
    try:
        footer = footer_of(last)
    except BAD_JSON:
        return None
    return None if footer is None else (footer, size - len(last), len(last))


def index_problem(footer: Footer, footer_offset: int) -> str | None:
    """What is wrong with the footer's count and seek index on their face, or None."""
    n = footer.event_count
    frames = footer.index.frames
    if n < 0:
        return f"event_count {n} is negative"
    if not frames:
        return None if n == 0 else f"seek index lists no frames for event_count {n}"
    firsts = [f for f, _ in frames]
    offsets = [o for _, o in frames]
    if firsts[0] != 0:
        return f"seek index starts its first frame at seq {firsts[0]}, not 0"
    if any(b <= a for a, b in itertools.pairwise(firsts)):
        return "seek index lists frames whose first seqs do not increase"
    if offsets[0] <= 0 or offsets[-1] >= footer_offset or any(
            b <= a for a, b in itertools.pairwise(offsets)):
        return "seek index lists frame offsets that do not increase within the file"
    ends = [*offsets[1:], footer_offset]
    if any(end - start > MAX_FRAME_BYTES for start, end in zip(offsets, ends, strict=True)):
        return "seek index lists a frame longer than any frame can be"
    if n <= firsts[-1]:
        return f"event_count {n} leaves the seek index's last frame (seq {firsts[-1]} on) empty"
    keys = footer.index.keyframes
    if any(not 0 <= k < n for k in keys) or any(
            b <= a for a, b in itertools.pairwise(keys)):
        return "seek index lists keyframes out of order or past the last event"
    states = footer.index.state_frames
    if any(not 0 <= k < len(frames) for k in states) or any(
            b <= a for a, b in itertools.pairwise(states)):
        return "seek index lists state_frames out of order or past the last frame"
    return None

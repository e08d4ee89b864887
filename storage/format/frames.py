"""The reader's table of event frames, and the promises a frame's events must keep.

`FrameTable` says where each event frame lies and which ``seq``\\ s it holds,
so a reader can go from a position (the n-th readable event) to a seq and
back even when damage left gaps. `sound_events` checks what the format
promises about the events of one frame (docs/format.md §Events): ``seq``
increases, and ``parent`` / ``span`` name an earlier event — so nothing
built on them (spans, exports) can loop — and a state patch is a list of
operations. A reader raises on the first broken promise, or, recovering,
drops the events that break one.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

import msgspec

__all__ = [
    "BAD_JSON",
    "Damage",
    "FrameSpan",
    "FrameTable",
    "Linked",
    "SkippedFrame",
    "damage_reason",
    "decode_lines",
    "fits",
    "sound_events",
    "with_lost",
]


class FrameSpan(msgspec.Struct, frozen=True, gc=False):
    """Where one event frame lies: its first ``seq``, byte offset and compressed length."""

    first_seq: int
    offset: int
    length: int


class SkippedFrame(msgspec.Struct, frozen=True, gc=False):
    """Damage that ``recover=True`` reading stepped over: a frame, or events within one."""

    frame: int
    """The frame's number (frame 0 is the header; docs/format.md §Layout)."""
    offset: int
    """Byte offset where the damaged bytes (a frame, or a plain file's line) start."""
    length: int
    reason: str
    first_seq: int | None = None
    """The first seq lost with it, when the events around it tell (None: none or unknown)."""
    last_seq: int | None = None
    """The last seq lost with it (None: unknown, e.g. damage at the end of the file)."""


class Linked(Protocol):
    """What `sound_events` reads of an event (an `Event` or a slim `EventView`)."""

    @property
    def seq(self) -> int: ...
    @property
    def span(self) -> int | None: ...
    @property
    def parent(self) -> int | None: ...
    @property
    def kind(self) -> str: ...


E = TypeVar("E", bound=Linked)


def sound_events(events: list[E], last: int) -> tuple[list[E], list[tuple[int, str]]]:
    """The events that keep the format's promises, and (seq, why) for each that does not.

    ``last`` is the seq of the event before the frame (-1 for none). An event
    breaks a promise when its seq is negative or not above the last one kept,
    when it sits between two events that are in order without it (one seq
    flipped far ahead drops that event, not the ones after it), when its
    ``parent`` or ``span`` is not an earlier seq, or when a state event's
    ``patch`` holds something other than operations with string ``op`` and
    ``path``. The list is returned as it was when every event is sound.
    """
    problems: list[tuple[int, str]] = []
    kept: list[E] | None = None
    n = len(events)
    for k in range(n):
        e = events[k]
        seq = e.seq
        why = None
        if seq < 0:
            why = f"seq {seq} is negative"
        elif seq <= last:
            why = f"seq {seq} repeats" if seq == last else f"seq {seq} comes after seq {last}"
        elif k + 1 < n and last < events[k + 1].seq < seq:
            why = f"seq {seq} is out of order (between seq {last} and seq {events[k + 1].seq})"
        else:
            parent, span = e.parent, e.span
            if parent is not None and not 0 <= parent < seq:
                why = f"seq {seq} names parent {parent}, which is not an earlier event"
            elif span is not None and not 0 <= span < seq:
                why = f"seq {seq} ends span {span}, which is not an earlier event"
            elif e.kind == "state" and not _patch_ok(getattr(e, "patch", None)):
                why = f"seq {seq} holds a malformed state patch"
        if why is None:
            last = seq
            if kept is not None:
                kept.append(e)
            continue
        problems.append((seq, why))
        if kept is None:
            kept = list(events[:k])
    return (events if kept is None else kept), problems


def _patch_ok(patch: Any) -> bool:
    if patch is None or isinstance(patch, msgspec.Raw):
        return True  # absent, or left undecoded by a slim view (whoever decodes it checks)
    for op in patch:
        if type(op) is not dict or type(op.get("op")) is not str \
                or type(op.get("path")) is not str:
            return False
        if "from" in op and type(op["from"]) is not str:
            return False
    return True


class FrameTable:
    """The event frames of a recording in file order, and the seqs each holds.

    A frame added with a count holds the dense seqs ``first_seq`` … ``first_seq
    + count - 1`` (what a finished file's seek index says); one added with a
    list holds exactly those (what reading found, gaps and all). Positions
    count the readable events from 0. An ``indexed`` table's frames are those
    of the footer's seek index: each holds seqs from its ``first_seq`` on.
    """

    def __init__(self, *, indexed: bool = False) -> None:
        self.indexed = indexed
        self.spans: list[FrameSpan] = []
        self._first_seqs: list[int] = []
        self._starts: list[int] = []  # position of each frame's first event
        self._sparse: dict[int, list[int]] = {}
        self._numbers: list[int] = []
        self.total = 0

    def add(self, span: FrameSpan, seqs: int | Sequence[int], *, number: int) -> None:
        """Append frame ``number`` of the file (frame 0 is the header), holding ``seqs``: a
        count of dense seqs from ``span.first_seq``, or the seqs themselves."""
        if isinstance(seqs, int):
            count = seqs
        else:
            count = len(seqs)
            if count and (seqs[0] != span.first_seq or seqs[-1] != span.first_seq + count - 1):
                self._sparse[len(self.spans)] = list(seqs)
        self.spans.append(span)
        self._first_seqs.append(span.first_seq)
        self._starts.append(self.total)
        self._numbers.append(number)
        self.total += count

    def __len__(self) -> int:
        return len(self.spans)

    def number(self, i: int) -> int:
        """Frame ``i``'s number in the file, for messages (skipped frames are counted too)."""
        return self._numbers[i]

    def start(self, i: int) -> int:
        """The position of frame ``i``'s first event."""
        return self._starts[i]

    def count(self, i: int) -> int:
        """How many readable events frame ``i`` holds."""
        end = self._starts[i + 1] if i + 1 < len(self._starts) else self.total
        return end - self._starts[i]

    def seqs(self, i: int) -> Sequence[int]:
        """The seqs frame ``i`` holds, in order."""
        sparse = self._sparse.get(i)
        if sparse is not None:
            return sparse
        first = self._first_seqs[i]
        return range(first, first + self.count(i))

    def before(self, i: int) -> int:
        """The seq `sound_events` starts frame ``i`` from: the seq before the index says the
        frame starts, or the last readable seq before it (-1 for none)."""
        if self.indexed:
            return self._first_seqs[i] - 1
        return self.seqs(i - 1)[-1] if i > 0 else -1  # a scan adds no empty frame

    def last_seq(self) -> int:
        """The seq of the last readable event (-1 when there is none)."""
        for i in range(len(self.spans) - 1, -1, -1):
            seqs = self.seqs(i)
            if seqs:
                return seqs[-1]
        return -1

    def frame_of(self, seq: int) -> int:
        """Index of the last frame starting at or before ``seq`` (-1 when none does)."""
        return bisect.bisect_right(self._first_seqs, seq) - 1

    def position_of(self, seq: int) -> int | None:
        """The position of the event with this seq, or None when no readable event has it."""
        i = self.frame_of(seq)
        if i < 0:
            return None
        sparse = self._sparse.get(i)
        if sparse is None:
            k = seq - self._first_seqs[i]
            return self._starts[i] + k if k < self.count(i) else None
        k = bisect.bisect_left(sparse, seq)
        return self._starts[i] + k if k < len(sparse) and sparse[k] == seq else None

    def frame_at(self, position: int) -> int:
        """Index of the frame holding the event at ``position`` (0 <= position < total)."""
        # The last frame starting at or before it; one holding nothing shares its start
        # with the next frame, so it is never the last such.
        return bisect.bisect_right(self._starts, position) - 1

    def seq_at(self, position: int) -> int:
        """The seq of the event at ``position`` (IndexError outside 0 … total - 1)."""
        if not 0 <= position < self.total:
            raise IndexError(position)
        i = self.frame_at(position)
        return self.seqs(i)[position - self._starts[i]]


# --- decoding a frame's lines ------------------------------------------------------------
#: What decoding damaged JSON can raise: msgspec's errors, bad UTF-8 (msgspec raises
#: UnicodeDecodeError for it) and nesting too deep (RecursionError).
BAD_JSON = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)

T = TypeVar("T", bound=Linked)


class Damage(msgspec.Struct, frozen=True, gc=False):
    """Bytes of a frame that do not decode: where, why, and how many events came before."""

    offset: int
    length: int
    reason: str
    before: int


def fits(kept: list[Any], seqs: Any) -> bool:
    """True when ``kept`` (in order, no repeats) holds exactly ``seqs``."""
    if len(kept) != len(seqs):
        return False
    return not kept or (kept[0].seq == seqs[0] and kept[-1].seq == seqs[-1]
                        and (isinstance(seqs, range) or [e.seq for e in kept] == list(seqs)))


def with_lost(entry: SkippedFrame, next_seq: int) -> SkippedFrame:
    """``entry`` with the seqs it lost ending before ``next_seq`` (none: both None)."""
    first = entry.first_seq
    if first is None or next_seq <= first:
        return msgspec.structs.replace(entry, first_seq=None, last_seq=None)
    return msgspec.structs.replace(entry, last_seq=next_seq - 1)


def decode_lines(content: bytes, offset: int, many: msgspec.json.Decoder[list[T]],
                  one: msgspec.json.Decoder[T], *, whole: bool,
                  length: int) -> tuple[list[T], list[Damage]]:
    """A frame's lines decoded, and what did not decode.

    A compressed frame is one unit (its checksum vouched for it, so a bad line
    means a bad frame). Plain files have no checksums and no frame boundaries
    of their own, so damage is found, and recovered from, line by line.
    """
    try:
        return many.decode(b"[" + content.rstrip(b"\n").replace(b"\n", b",") + b"]"), []
    except BAD_JSON as exc:
        if whole:
            return [], [Damage(offset, length, damage_reason(exc), 0)]
    items: list[T] = []
    damage: list[Damage] = []
    p = 0
    for line in content.split(b"\n"):
        at, p = offset + p, p + len(line) + 1
        if not line.strip():
            continue
        try:
            items.append(one.decode(line))
        except BAD_JSON as exc:
            damage.append(Damage(at, len(line) + 1, damage_reason(exc), len(items)))
    return items, damage


def damage_reason(exc: BaseException) -> str:
    if isinstance(exc, msgspec.ValidationError):
        return f"an event line does not match the format ({exc})"
    if isinstance(exc, msgspec.DecodeError):
        return f"an event line is not valid JSON ({exc})"
    if isinstance(exc, UnicodeDecodeError):
        return f"an event line is not valid UTF-8 ({exc})"
    if isinstance(exc, RecursionError):
        return "an event line nests too deeply to decode"
    return str(exc)

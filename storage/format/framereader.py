"""Turning a recording's bytes into a table of sound event frames.

`FrameReader` is the part of `LogReader` that does the reading: it scans a
file frame by frame (with `storage.format.scan.FrameScanner`), decodes each frame's
lines, keeps the events that keep the format's promises
(`storage.format.frames.sound_events`) and files them in a `FrameTable`. Damage
raises `CorruptRecordingError` naming the file, the frame and the byte offset,
or — reading with ``recover=True`` — is stepped over and listed, with the seqs
it took where the events around it tell. Recovering over a finished file
checks every frame the footer's seek index lists once (`settle`), and scans
instead when the index does not hold up. `LogReader` adds opening, the
footer's fast path and the questions callers ask.
"""

from __future__ import annotations

import os
from collections import OrderedDict

import msgspec

from ..errors import CorruptRecordingError, RecordingReadError
from .codec import Codec, FrameError
from .events import Event, Footer, Header
from .footer import footer_of
from .frames import (
    BAD_JSON,
    Damage,
    FrameSpan,
    FrameTable,
    SkippedFrame,
    T,
    damage_reason,
    decode_lines,
    fits,
    sound_events,
    with_lost,
)
from .header import header_from_content, parse_header
from .scan import FrameScanner

__all__ = ["FrameReader"]

event_lines = msgspec.json.Decoder(list[Event])
one_event = msgspec.json.Decoder(Event)


class FrameReader:
    """The reading state of one open file and how it is filled (see the module docstring)."""

    path: str
    codec: str
    header: Header
    footer: Footer | None

    def __init__(self, path: str, *, recover: bool = False, cache_frames: int = 8) -> None:
        self.path = path
        self.recover = recover
        self._fd = -1
        self._codec: Codec
        self._table = FrameTable()
        self._cache: OrderedDict[int, list[Event]] = OrderedDict()
        self._cache_size = max(1, cache_frames)
        self.footer = None
        self.footer_offset: int | None = None
        self.footer_length = 0
        self.tail_garbage = 0
        self.notes: list[str] = []
        self._skipped: list[SkippedFrame] = []
        self._pending: list[int] = []  # skipped entries whose last lost seq is not known yet
        self._keyframes: list[int] = []
        #: Indices of frames holding state events; None when the file does not say.
        self._state_frames: list[int] | None = []
        self.size = 0
        self._scan_pos = 0
        self._frames_seen = 0
        self._unsettled = False  # recover=True on a footer's index: frames not checked yet

    def _pread(self, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            return os.pread(self._fd, length, offset)
        except OSError as exc:
            raise RecordingReadError(self.path, f"read failed: {exc.strerror or exc}") from None

    def _remember(self, i: int, events: list[Event]) -> None:
        self._cache[i] = events
        self._cache.move_to_end(i)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _decode(self, i: int, many: msgspec.json.Decoder[list[T]],
                one: msgspec.json.Decoder[T]) -> tuple[list[T], list[Damage]]:
        """Frame ``i``'s items and the damage met; CorruptRecordingError if it does not
        decompress (whatever ``recover`` says: the caller decides)."""
        span = self._table.spans[i]
        try:
            content = self._codec.decompress(self._pread(span.offset, span.length))
        except FrameError as exc:
            raise CorruptRecordingError(self.path, damage_reason(exc),
                                        frame=self._table.number(i), offset=span.offset) from None
        return decode_lines(content, span.offset, many, one, whole=self.codec != "none",
                             length=span.length)

    def _frame_items(self, i: int, many: msgspec.json.Decoder[list[T]],
                     one: msgspec.json.Decoder[T]) -> list[T]:
        """Frame ``i``'s sound items — exactly the seqs the table lists for it, or an error."""
        table = self._table
        try:
            items, damage = self._decode(i, many, one)
        except CorruptRecordingError:
            if not self.recover:
                raise
            return []
        if damage and not self.recover:
            d = damage[0]
            raise CorruptRecordingError(self.path, d.reason, frame=table.number(i),
                                        offset=d.offset)
        kept, problems = sound_events(items, table.before(i))
        expected = table.seqs(i)
        if fits(kept, expected):
            return kept
        if not self.recover:
            where = (f"seqs {kept[0].seq}..{kept[-1].seq}" if kept else "no events")
            why = problems[0][1] if problems else (
                f"the frame holds {where}, but the seek index says "
                f"{expected[0]}..{expected[-1]}" if expected else "the frame should be empty")
            raise CorruptRecordingError(self.path, why, frame=table.number(i),
                                        offset=table.spans[i].offset)
        wanted = set(expected)  # the file changed since it was read: keep what agrees
        return [e for e in kept if e.seq in wanted]

    # --- scanning (no usable footer) ----------------------------------------------
    def _scan(self, *, initial: bool) -> list[Event]:
        """Read complete frames from ``_scan_pos`` on; returns the new events.

        Stops at the footer, or at a frame cut short (the tail of a crashed or
        growing file). Damage raises, or with ``recover`` is noted and stepped over.
        """
        new: list[Event] = []
        scanner = FrameScanner(self._codec, self._pread, self.size)
        header_seen = not initial
        plain = self.codec == "none"
        for piece in scanner.pieces(self._scan_pos, first_line_alone=initial):
            if not header_seen:
                if piece.problem:
                    raise CorruptRecordingError(self.path, f"the header frame is damaged "
                                                f"({piece.problem})", frame=0, offset=0)
                self.header = parse_header(self.path, piece.content.rstrip(b"\n")) if plain \
                    else header_from_content(self.path, piece.content)
                header_seen = True
                self._scan_pos = piece.length
                continue
            if piece.skip:
                self._scan_pos = piece.offset + piece.length
                continue
            self._frames_seen += 1
            number = self._frames_seen
            if piece.problem:
                self._damage(number, piece.offset, piece.length, piece.problem)
                self._scan_pos = piece.offset + piece.length
                continue
            try:
                footer = footer_of(piece.content)
            except BAD_JSON as exc:
                self._damage(number, piece.offset, piece.length,
                             f"the footer line is damaged ({damage_reason(exc)})")
            else:
                if footer is not None:
                    self.footer = footer
                    self.footer_offset, self.footer_length = piece.offset, piece.length
                    self._scan_pos = piece.offset + piece.length
                    break
                new.extend(self._take(number, piece.offset, piece.length, piece.content))
            self._scan_pos = piece.offset + piece.length
        if not header_seen:
            what = "line" if plain else "frame"
            raise CorruptRecordingError(self.path, f"the header {what} is cut short",
                                        frame=0, offset=0)
        self.tail_garbage = self.size - self._scan_pos if self.footer is None else 0
        if self.footer is not None:
            self._end_of_scan(self.footer)
        return new

    def _take(self, number: int, offset: int, length: int, content: bytes) -> list[Event]:
        """The sound events of a scanned frame, added to the table (damage noted or raised)."""
        events, damage = decode_lines(content, offset, event_lines, one_event,
                                       whole=self.codec != "none", length=length)
        last = self._table.last_seq()
        for d in damage:
            before = events[d.before - 1].seq if d.before else last
            after = events[d.before].seq if d.before < len(events) else None
            self._damage(number, d.offset, d.length, d.reason, before=before, after=after)
        kept, problems = sound_events(events, last)
        for _seq, why in problems:
            if not self.recover:
                raise CorruptRecordingError(self.path, why, frame=number, offset=offset)
            self._skipped.append(SkippedFrame(number, offset, length,
                                              f"{why}: the event was dropped"))
        if not kept:
            return []
        self._resolve_pending(kept[0].seq)
        i = len(self._table)
        self._table.add(FrameSpan(kept[0].seq, offset, length), [e.seq for e in kept],
                        number=number)
        self._keyframes.extend(e.seq for e in kept if e.kind == "state" and e.state is not None)
        if self._state_frames is not None and any(e.kind == "state" for e in kept):
            self._state_frames.append(i)
        self._remember(i, kept)
        return kept

    def _damage(self, number: int, offset: int, length: int, reason: str, *,
                before: int | None = None, after: int | None = None) -> None:
        """Raise for damage, or with ``recover`` note it with the seqs it took, where known."""
        if not self.recover:
            raise CorruptRecordingError(self.path, reason, frame=number, offset=offset)
        first = (self._table.last_seq() if before is None else before) + 1
        entry = SkippedFrame(number, offset, length, reason, first_seq=first)
        if after is not None:
            entry = with_lost(entry, after)
        else:
            self._pending.append(len(self._skipped))
        self._skipped.append(entry)

    def _resolve_pending(self, next_seq: int) -> None:
        for k in self._pending:
            self._skipped[k] = with_lost(self._skipped[k], next_seq)
        self._pending.clear()

    def _end_of_scan(self, footer: Footer) -> None:
        """With the footer found: the tail of the lost seqs, and whether it told the truth."""
        if footer.event_count >= 0:
            self._resolve_pending(footer.event_count)
        readable = self._table.total
        if footer.event_count != readable and not self._skipped and not any(
                "event_count" in n for n in self.notes):
            self.notes.append(f"the footer's event_count {footer.event_count} disagrees with "
                              f"the {readable} events the file holds")

    def settle(self) -> None:
        """Make `event_count`, positions and `skipped` exact now.

        Only a finished file opened with ``recover=True`` has anything to do:
        every frame is decoded once, and on any trouble the file is scanned.
        Everything that reads events does this first, by itself.
        """
        self._settle()

    def _settle(self) -> None:
        if not self._unsettled:
            return
        self._unsettled = False
        keyframes: list[int] = []
        state_frames: list[int] = []
        table, settled = self._table, FrameTable(indexed=True)
        for i in range(len(table)):
            span, expected = table.spans[i], table.seqs(i)
            try:
                events, damage = self._decode(i, event_lines, one_event)
            except CorruptRecordingError:
                self._rescan(f"seek index puts frame {table.number(i)} at byte offset "
                             f"{span.offset}, where no frame decodes", lie=False)
                return
            if damage and self.codec != "none":  # a whole frame: a scan finds where it ends
                self._rescan("", lie=False)
                return
            kept, problems = sound_events(events, span.first_seq - 1)
            if (kept and kept[-1].seq > expected[-1]) or (
                    not damage and not problems and not fits(kept, expected)):
                self._rescan(f"seek index does not match frame {table.number(i)} at byte "
                             f"offset {span.offset}", lie=True)
                return
            for d in damage:  # plain lines: the seqs around them tell which were lost
                before = events[d.before - 1].seq if d.before else span.first_seq - 1
                after = events[d.before].seq if d.before < len(events) else expected[-1] + 1
                self._damage(i + 1, d.offset, d.length, d.reason, before=before, after=after)
            for _seq, why in problems:
                self._skipped.append(SkippedFrame(i + 1, span.offset, span.length,
                                                  f"{why}: the event was dropped"))
            settled.add(span, [e.seq for e in kept], number=i + 1)
            keyframes.extend(e.seq for e in kept if e.kind == "state" and e.state is not None)
            if any(e.kind == "state" for e in kept):
                state_frames.append(i)
            self._remember(i, kept)
        if keyframes != self._keyframes:
            self.notes.append("the footer's seek index lists state keyframes the events do "
                              "not hold; the keyframes were taken from the events")
        self._table, self._keyframes, self._state_frames = settled, keyframes, state_frames

    def _rescan(self, why: str, *, lie: bool) -> None:
        """Read the file again by scanning; note the index when the scan reads it whole."""
        self._table = FrameTable()
        self._cache.clear()
        self._skipped.clear()
        self._pending.clear()
        self._keyframes, self._state_frames = [], []
        self.footer = self.footer_offset = None
        self._scan_pos = self._frames_seen = 0
        self._scan(initial=True)
        if why and (lie or not self._skipped):
            self.notes.append(f"the footer's {why}; the file was read by scanning instead")


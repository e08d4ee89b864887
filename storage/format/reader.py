"""The low-level log reader: header, footer, frames and events of one file.

Opening a finished recording reads the trailer, the footer (with its seek
index), the header frame and the last event frame — never the rest; any
single frame can then be decoded directly. The footer is checked where that
is cheap (the index's shape, its last frame against ``event_count``): one
that lies makes the reader scan instead, and `LogReader.notes` says why. A
file without a usable footer (crashed, or still being written) is scanned
frame by frame (`storage.format.framereader`): every complete frame is kept and
the status is ``running`` or ``incomplete``. See docs/format.md §Reading.

Events handed out keep the format's promises (`storage.format.frames.sound_events`):
seqs increase, links point back. Damage is a `CorruptRecordingError` naming
the file, the frame and its byte offset — no zstd, zlib, msgspec or JSON
exception leaves this module raw — or, with ``recover=True``, is stepped
over and listed in `LogReader.skipped`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import msgspec

from ..errors import (
    CorruptRecordingError,
    NotARecordingError,
    RecordingNotFoundError,
    RecordingReadError,
)
from .codec import MAX_FRAME_BYTES, FrameError, codec_for_name, detect_codec
from .events import Event, Footer
from .footer import find_footer, index_problem
from .framereader import FrameReader, event_lines, one_event
from .frames import FrameSpan, FrameTable, SkippedFrame, T, sound_events
from .header import header_from_frame
from .lock import lock_held

__all__ = ["FrameSpan", "LogReader", "SkippedFrame"]


class LogReader(FrameReader):
    """Reads one recording file. Use `LogReader.open`.

    Attributes:
        path: the file.
        codec: ``"zstd"``, ``"gzip"`` or ``"none"`` (told from the first bytes).
        header: the header line.
        footer: the footer line, or None when the run crashed or is still running.
        footer_offset: where the footer frame starts (None without a footer);
            ``footer_length`` is its length in bytes.
        tail_garbage: bytes at the end that do not form a complete frame.
        notes: what the reader found wrong with the footer and worked around.

    With ``recover=True`` a finished file's frames are all decoded once, when
    its events are first asked for, so that `event_count`, positions and
    `skipped` cover exactly the readable events; until then `event_count` is
    the footer's (checked against the last frame).
    """

    # --- opening --------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], *, recover: bool = False) -> LogReader:
        """Open ``path``: via the trailer when the file is finished, else by scanning.

        Raises `RecordingNotFoundError`, `RecordingReadError`,
        `CorruptRecordingError` (`NotARecordingError` for a file that is not a
        recording at all), `UnsupportedVersionError`.
        """
        self = cls(os.fspath(path), recover=recover)
        try:
            self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            raise RecordingNotFoundError(self.path, "check the path, or list recordings "
                                         "with `flowtape list`") from None
        except IsADirectoryError:
            raise RecordingReadError(self.path, "is a directory, not a recording file") from None
        except OSError as exc:
            raise RecordingReadError(self.path, f"cannot open: {exc.strerror or exc}") from None
        try:
            self._open()
        except BaseException:
            self.close()
            raise
        return self

    def _open(self) -> None:
        if os.path.isdir(self.path):
            raise RecordingReadError(self.path, "is a directory, not a recording file")
        self.size = os.fstat(self._fd).st_size
        if self.size == 0:
            raise NotARecordingError(self.path, "the file is empty (0 bytes)")
        name = detect_codec(self._pread(0, 8))
        if name is None:
            raise NotARecordingError(self.path, "it starts with neither zstd, gzip nor JSON")
        self.codec = name
        self._codec = codec_for_name(name)
        found = find_footer(self._codec, self._pread, self.size)
        if found is None or not self._adopt_footer(*found):
            self._scan(initial=True)

    def _adopt_footer(self, footer: Footer, offset: int, length: int) -> bool:
        """Take the footer's seek index as the frame table, if it holds up; else note why."""
        why = index_problem(footer, offset)
        frames = footer.index.frames
        header_end = frames[0][1] if frames else offset
        if why is None:
            why = self._header_frame_problem(header_end)
        if why is not None:
            self.notes.append(f"the footer's {why}; the file was read by scanning instead")
            return False
        self.header = header_from_frame(self.path, self._codec, self._pread(0, header_end))
        table = FrameTable(indexed=True)
        ends = [o for _, o in frames[1:]] + [offset]
        for i, ((first, start), end) in enumerate(zip(frames, ends, strict=True)):
            following = frames[i + 1][0] if i + 1 < len(frames) else footer.event_count
            table.add(FrameSpan(first, start, end - start), following - first, number=i + 1)
        self._table = table
        if frames:
            why = self._last_frame_problem(footer)
            if why is not None:
                self._table = FrameTable()
                self._cache.clear()
                if why:
                    self.notes.append(f"the footer's {why}; the file was read by scanning "
                                      "instead")
                return False
        self.footer = footer
        self.footer_offset, self.footer_length = offset, length
        self._keyframes = list(footer.index.keyframes)
        self._state_frames = list(footer.index.state_frames)
        if not self._state_frames and footer.counts.states:
            self._state_frames = None  # written before the field existed: unknown
        self._unsettled = self.recover
        return True

    def _header_frame_problem(self, end: int) -> str | None:
        """Why the index's header frame (bytes 0 … ``end``) is not exactly one frame, or None."""
        if end > MAX_FRAME_BYTES:
            return f"seek index puts the first event frame at byte offset {end}, past any " \
                "header frame's end"
        head = self._pread(0, min(end + 1, self.size))
        try:
            n = head.index(b"\n") + 1 if self.codec == "none" else \
                self._codec.frame_length(head, 0)
        except (ValueError, FrameError):
            n = -1
        return None if n == end else (f"seek index puts the first event frame at byte offset "
                                      f"{end}, where the header frame does not end")

    def _last_frame_problem(self, footer: Footer) -> str | None:
        """Why the last frame does not end at ``event_count``; "" when it cannot be decoded."""
        i = len(self._table) - 1
        span = self._table.spans[i]
        try:
            events, damage = self._decode(i, event_lines, one_event)
        except CorruptRecordingError:
            return ""
        if damage:
            return ""
        kept, problems = sound_events(events, span.first_seq - 1)
        n = footer.event_count
        if problems or not kept or kept[0].seq != span.first_seq:
            return (f"seek index does not match its last frame (at byte offset {span.offset}, "
                    f"it holds seqs other than {span.first_seq}..{n - 1})")
        if kept[-1].seq != n - 1 or len(kept) != n - span.first_seq:
            return (f"event_count {n} disagrees with the file: its last frame ends at seq "
                    f"{kept[-1].seq}")
        self._remember(i, kept)
        return None

    def refresh(self) -> list[Event]:
        """Read what was appended since the last look (for following a growing file).

        Returns the new events; after the footer arrives, `footer` is set and
        later calls return nothing.
        """
        if self.footer is not None:
            return []
        self.size = os.fstat(self._fd).st_size
        if self.size <= self._scan_pos:
            return []
        return self._scan(initial=False)

    # --- what was read ----------------------------------------------------------------
    @property
    def event_count(self) -> int:
        """Events readable: the footer's count (checked against the last frame) or what a scan
        found; under ``recover``, exact once the events have been read."""
        return self._table.total

    @property
    def skipped(self) -> list[SkippedFrame]:
        """Damage stepped over (``recover=True`` only): frames, lines, or dropped events."""
        self._settle()
        return list(self._skipped)

    @property
    def keyframes(self) -> list[int]:
        """The seqs of state events holding a full state, in order."""
        self._settle()
        return self._keyframes

    @property
    def state_frames(self) -> list[int] | None:
        """Indices of the frames holding state events; None when the file does not say."""
        self._settle()
        return self._state_frames

    @property
    def indexed(self) -> bool:
        """True when the frames are those the footer's seek index lists (it held up), False
        when the file was scanned to find them."""
        self._settle()
        return self._table.indexed

    def tail(self, n: int) -> bytes:
        """The file's last ``n`` bytes (fewer when it is shorter), as it was opened."""
        n = min(n, self.size)
        return self._pread(self.size - n, n)

    @property
    def frame_count(self) -> int:
        """Number of event frames."""
        self._settle()
        return len(self._table)

    @property
    def frames(self) -> list[FrameSpan]:
        """The event frames, in order."""
        self._settle()
        return list(self._table.spans)

    @property
    def status(self) -> str:
        """The footer's status; without one, ``running`` while the writer is alive, else
        ``incomplete`` (it crashed or was killed)."""
        if self.footer is not None:
            return self.footer.status
        return "running" if self.writer_alive else "incomplete"

    @property
    def writer_alive(self) -> bool:
        """True while a process is still writing this file (it holds the writer's lock).

        Asked afresh each time: a live writer holds an exclusive ``flock`` on
        the file until it closes it or dies (docs/format.md §Reading, step 6).
        """
        if self.footer is not None or self._fd < 0:
            return False
        return lock_held(self._fd) is True  # a file system without locks: nothing tells

    # --- frames and events ------------------------------------------------------------
    def read_frame(self, i: int) -> list[Event]:
        """The events of frame ``i`` (cached; callers must not mutate the list)."""
        self._settle()
        cached = self._cache.get(i)
        if cached is not None:
            self._cache.move_to_end(i)
            return cached
        events = self._frame_items(i, event_lines, one_event)
        self._remember(i, events)
        return events

    def iter_items(self, many: msgspec.json.Decoder[list[T]],
                   one: msgspec.json.Decoder[T]) -> Iterator[T]:
        """Every readable event decoded with ``many`` (a frame's lines as a list) or ``one``
        (a line), frame by frame — e.g. into slim views that skip the payloads.

        The same events as `iter_events`, under the same checks.
        """
        self._settle()
        for i in range(len(self._table)):
            yield from self._frame_items(i, many, one)

    def frame_of(self, seq: int) -> int:
        """Index of the frame holding ``seq`` (the last frame starting at or before it)."""
        self._settle()
        i = self._table.frame_of(seq)
        if i < 0:
            raise IndexError(seq)
        return i

    def position_of(self, seq: int) -> int | None:
        """The position (0 … event_count - 1) of the event with this seq; None if none has it."""
        self._settle()
        return self._table.position_of(seq)

    def seq_at(self, position: int) -> int:
        """The seq of the event at ``position``; IndexError outside 0 … event_count - 1."""
        self._settle()
        return self._table.seq_at(position)

    def event_at(self, position: int) -> Event:
        """The event at ``position`` (the n-th readable event); IndexError outside
        0 … event_count - 1."""
        self._settle()
        table = self._table
        if not 0 <= position < table.total:
            raise IndexError(position)
        i = table.frame_at(position)
        events = self.read_frame(i)
        k = position - table.start(i)
        if k < len(events):
            return events[k]
        raise IndexError(position)  # the file changed since it was first read

    def get(self, seq: int) -> Event:
        """The event with this ``seq``; IndexError if the recording has none."""
        self._settle()
        position = self._table.position_of(seq)
        if position is None:
            raise IndexError(seq)
        i = self._table.frame_of(seq)
        events = self.read_frame(i)
        k = position - self._table.start(i)
        if 0 <= k < len(events) and events[k].seq == seq:
            return events[k]
        raise IndexError(seq)

    def iter_events(self, start_seq: int = 0) -> Iterator[Event]:
        """Every readable event from ``start_seq`` on, in order, decoding frame by frame."""
        self._settle()
        first = max(0, self._table.frame_of(start_seq)) if start_seq > 0 else 0
        for i in range(first, len(self._table)):
            for e in self.read_frame(i):
                if e.seq >= start_seq:
                    yield e

    def close(self) -> None:
        """Release the file handle."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._cache.clear()

    def __enter__(self) -> LogReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_fd", -1) >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)

"""The low-level log reader: header, footer, frames and events of one file.

Opening a finished recording reads the trailer, the footer (with its seek
index) and the header frame — never the events; any single frame can then be
decoded directly. A file without a usable footer (crashed, or still being
written) is scanned frame by frame: every complete frame is kept and the
status is ``incomplete``. See docs/format.md §Reading.

No zstd, zlib, msgspec or JSON exception leaves this module raw: damage is a
`CorruptRecordingError` naming the file, the frame and its byte offset.
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import os
from collections import OrderedDict
from collections.abc import Iterator

import msgspec

from ._codec import Codec, FrameError, TruncatedFrame, codec_for_name, detect_codec
from .errors import (
    CorruptRecordingError,
    NotARecordingError,
    RecordingNotFoundError,
    RecordingReadError,
    UnsupportedVersionError,
)
from .events import FORMAT_NAME, FORMAT_VERSION, Event, Footer, Header

__all__ = ["FrameSpan", "LogReader", "SkippedFrame"]

_event_lines = msgspec.json.Decoder(list[Event])
_events_decoder = msgspec.json.Decoder(Event)
_footer_decoder = msgspec.json.Decoder(Footer)
_any_decoder = msgspec.json.Decoder()
_FOOTER_PREFIX = b'{"kind":"footer"'
#: What decoding damaged JSON can raise: msgspec's errors, bad UTF-8 (msgspec raises
#: UnicodeDecodeError for it) and nesting too deep (RecursionError).
_BAD_JSON = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


class FrameSpan(msgspec.Struct, frozen=True, gc=False):
    """Where one event frame lies: its first ``seq``, byte offset and compressed length."""

    first_seq: int
    offset: int
    length: int


class SkippedFrame(msgspec.Struct, frozen=True, gc=False):
    """A damaged frame that ``recover=True`` reading stepped over."""

    frame: int
    offset: int
    length: int
    reason: str


class LogReader:
    """Reads one recording file. Use `LogReader.open`.

    Attributes:
        path: the file.
        codec: ``"zstd"``, ``"gzip"`` or ``"none"`` (told from the first bytes).
        header: the header line.
        footer: the footer line, or None when the run crashed or is still running.
        status: the footer's status, or ``"incomplete"``.
        event_count: events readable (the footer's count, or what a scan found).
        keyframes: seqs of state events holding a full state.
        tail_garbage: bytes at the end that do not form a complete frame.
        skipped: damaged frames stepped over (``recover=True`` only).
    """

    path: str
    codec: str
    header: Header
    footer: Footer | None

    def __init__(self, path: str, *, recover: bool = False, cache_frames: int = 8) -> None:
        self.path = path
        self.recover = recover
        self._fd = -1
        self._codec: Codec
        self._spans: list[FrameSpan] = []
        self._first_seqs: list[int] = []
        self._cache: OrderedDict[int, list[Event]] = OrderedDict()
        self._cache_size = max(1, cache_frames)
        self.footer = None
        self.tail_garbage = 0
        self.skipped: list[SkippedFrame] = []
        self.keyframes: list[int] = []
        #: Indices of frames holding state events; None when the file does not say.
        self.state_frames: list[int] | None = []
        self.event_count = 0
        self.size = 0
        self._scan_pos = 0
        self._header_end = 0

    # --- opening --------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], *, recover: bool = False) -> LogReader:
        """Open ``path``: via the trailer when the file is finished, else by scanning.

        Raises `RecordingNotFoundError`, `CorruptRecordingError`,
        `UnsupportedVersionError`.
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
        if not self._open_by_trailer():
            self._scan(initial=True)

    def _open_by_trailer(self) -> bool:
        """Try the fast path; False (and nothing kept) when the trailer or footer is unusable."""
        codec = self._codec
        if codec.trailer_size == 0 or self.size < codec.trailer_size:
            return self._open_plain_footer()
        loc = codec.parse_trailer(self._pread(self.size - codec.trailer_size, codec.trailer_size))
        if loc is None:
            return False
        off, length = loc
        if off + length + codec.trailer_size != self.size or off <= 0:
            return False
        try:
            footer = _footer_decoder.decode(codec.decompress(self._pread(off, length)))
        except (FrameError, *_BAD_JSON):
            return False
        return self._adopt_footer(footer, off)

    def _open_plain_footer(self) -> bool:
        """Plain files: the footer is the last line; the index offsets are byte offsets."""
        if self.codec != "none":
            return False
        tail_len = min(self.size, 1 << 20)
        tail = self._pread(self.size - tail_len, tail_len)
        if not tail.endswith(b"\n"):
            return False
        cut = tail.rfind(b"\n", 0, len(tail) - 1)
        if cut < 0 and tail_len < self.size:
            return False
        last = tail[cut + 1:]
        if not last.startswith(_FOOTER_PREFIX):
            return False
        try:
            footer = _footer_decoder.decode(last)
        except _BAD_JSON:
            return False
        off = self.size - len(last)
        return self._adopt_footer(footer, off)

    def _adopt_footer(self, footer: Footer, footer_offset: int) -> bool:
        """Take the footer's seek index as the frame table, if it is consistent."""
        frames = footer.index.frames
        offsets = [o for _, o in frames]
        if offsets != sorted(offsets) or (
            offsets and (offsets[0] <= 0 or offsets[-1] >= footer_offset)
        ):
            return False
        self._read_header(self._pread(0, offsets[0] if offsets else footer_offset), 0)
        ends = [*offsets[1:], footer_offset]
        self._spans = [FrameSpan(s, o, e - o) for (s, o), e in zip(frames, ends, strict=True)]
        self._first_seqs = [s.first_seq for s in self._spans]
        self.footer = footer
        self.keyframes = list(footer.index.keyframes)
        self.state_frames = list(footer.index.state_frames)
        if not self.state_frames and footer.counts.states:
            self.state_frames = None  # written before the field existed: unknown
        self.event_count = footer.event_count
        return True

    def _read_header(self, frame: bytes, offset: int) -> None:
        try:
            data = self._codec.decompress(frame)
        except TruncatedFrame:
            raise CorruptRecordingError(self.path, "the header frame is cut short",
                                        frame=0, offset=offset) from None
        except FrameError as exc:
            raise CorruptRecordingError(self.path, f"the header frame is damaged ({exc})",
                                        frame=0, offset=offset) from None
        line, _, rest = data.partition(b"\n")
        self.header = self._parse_header(line, offset)
        if rest.strip():
            raise CorruptRecordingError(self.path, "the header frame holds more than the header",
                                        frame=0, offset=offset)

    def _parse_header(self, line: bytes, offset: int) -> Header:
        try:
            raw = _any_decoder.decode(line)
        except _BAD_JSON as exc:
            raise CorruptRecordingError(self.path, f"the header line is not JSON ({exc})",
                                        frame=0, offset=offset) from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT_NAME:
            raise NotARecordingError(self.path, "its first line has no "
                                     f"\"format\": \"{FORMAT_NAME}\"")
        version = raw.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise CorruptRecordingError(self.path, f"header has an invalid version {version!r}",
                                        frame=0, offset=offset)
        if version > FORMAT_VERSION:
            raise UnsupportedVersionError(self.path, version, FORMAT_VERSION)
        try:
            return msgspec.convert(raw, Header)
        except msgspec.ValidationError as exc:
            raise CorruptRecordingError(self.path, f"the header is malformed ({exc})",
                                        frame=0, offset=offset) from None

    # --- scanning (no footer) -----------------------------------------------------
    def _scan(self, *, initial: bool) -> list[Event]:
        """Read complete frames from ``_scan_pos`` on; returns the new events.

        Stops at the footer, at a frame cut short (the tail of a crashed or
        growing file), or at damage (raised unless ``recover``).
        """
        pos = self._scan_pos
        data = self._pread(pos, self.size - pos)
        codec = self._codec
        new: list[Event] = []
        p = 0
        if self.codec == "none":
            return self._scan_plain(data, initial=initial)
        if initial:
            try:
                n = codec.frame_length(data, 0)
            except TruncatedFrame:
                raise CorruptRecordingError(self.path, "the header frame is cut short",
                                            frame=0, offset=0) from None
            except FrameError as exc:
                raise CorruptRecordingError(self.path, f"the header frame is damaged ({exc})",
                                            frame=0, offset=0) from None
            self._read_header(data[:n], 0)
            p = self._header_end = n
        while p < len(data):
            if codec.is_trailer(data, p):
                try:
                    p += codec.frame_length(data, p)
                except TruncatedFrame:
                    break
                except FrameError:
                    pass
                else:
                    continue
            frame_no = len(self._spans) + len(self.skipped) + 1
            try:
                n = codec.frame_length(data, p)
            except FrameError as exc:
                # A frame that runs past the end is the tail of a crashed or growing
                # file -- unless a whole frame follows it: then its length was damaged.
                nxt = self._next_frame(data, p)
                if isinstance(exc, TruncatedFrame) and nxt is None:
                    break
                reason = str(exc) if nxt is None or not isinstance(exc, TruncatedFrame) \
                    else f"{exc}, yet a complete frame follows at byte offset {pos + nxt}"
                if not self.recover:
                    raise CorruptRecordingError(self.path, reason, frame=frame_no,
                                                offset=pos + p) from None
                end = len(data) if nxt is None else nxt
                self.skipped.append(SkippedFrame(frame_no, pos + p, end - p, reason))
                p = end
                continue
            chunk = data[p:p + n]
            try:
                lines = codec.decompress(chunk)
                if lines.startswith(_FOOTER_PREFIX):
                    self.footer = _footer_decoder.decode(lines)
                    p += n
                    break
                events = _event_lines.decode(b"[" + lines.rstrip(b"\n").replace(b"\n", b",")
                                             + b"]")
            except (FrameError, *_BAD_JSON) as exc:
                if not self.recover:
                    raise CorruptRecordingError(self.path, _reason(exc), frame=frame_no,
                                                offset=pos + p) from None
                self.skipped.append(SkippedFrame(frame_no, pos + p, n, _reason(exc)))
                p += n
                continue
            if events:
                self._add_frame(FrameSpan(events[0].seq, pos + p, n), events)
                new.extend(events)
            p += n
        self._scan_pos = pos + p
        self.tail_garbage = self.size - self._scan_pos if self.footer is None else 0
        if self.footer is not None:
            self.tail_garbage = 0
        return new

    def _next_frame(self, data: bytes, p: int, *, tries: int = 64) -> int | None:
        """Offset of the next whole frame after damage at ``p`` (frame magic search), or None."""
        magic = self._codec.magic
        q = p
        while magic and tries > 0:
            q = data.find(magic, q + 1)
            if q < 0:
                return None
            tries -= 1
            try:
                self._codec.frame_length(data, q)
            except FrameError:
                continue
            return q
        return None

    def _scan_plain(self, data: bytes, *, initial: bool) -> list[Event]:
        end = data.rfind(b"\n") + 1
        self.tail_garbage = len(data) - end
        base = self._scan_pos
        p = 0
        new: list[Event] = []
        if initial:
            if end == 0:
                raise CorruptRecordingError(self.path, "the header line is cut short",
                                            frame=0, offset=0)
            first = data.index(b"\n") + 1
            self._parse_header_plain(data[:first])
            p = self._header_end = first
        lines_start = p
        footer_at = -1
        while p < end:
            if data.startswith(_FOOTER_PREFIX, p):
                footer_at = p
                break
            p = data.index(b"\n", p) + 1
        if p > lines_start:
            frame_no = len(self._spans) + len(self.skipped) + 1
            events = self._decode_plain(data[lines_start:p], base + lines_start, frame_no)
            if events:
                self._add_frame(FrameSpan(events[0].seq, base + lines_start, p - lines_start),
                                events)
                new.extend(events)
        if footer_at >= 0:
            p = data.index(b"\n", footer_at) + 1
            try:
                self.footer = _footer_decoder.decode(data[footer_at:p - 1])
            except _BAD_JSON as exc:
                if not self.recover:
                    raise CorruptRecordingError(self.path, f"the footer line is damaged "
                                                f"({_reason(exc)})", offset=base + footer_at
                                                ) from None
                self.skipped.append(SkippedFrame(len(self._spans) + len(self.skipped) + 1,
                                                 base + footer_at, p - footer_at, _reason(exc)))
        self._scan_pos = base + p
        if self.footer is not None:
            self.tail_garbage = 0
        return new

    def _decode_plain(self, chunk: bytes, offset: int, frame_no: int) -> list[Event]:
        """The events of whole plain lines at ``offset``; a bad line is named, or skipped alone.

        Plain files have no checksums and no frame boundaries of their own, so
        damage is found, and recovered from, line by line.
        """
        try:
            return _event_lines.decode(b"[" + chunk.rstrip(b"\n").replace(b"\n", b",") + b"]")
        except _BAD_JSON:
            pass  # find the bad line (or a blank one, which is harmless)
        events: list[Event] = []
        p = 0
        for line in chunk.split(b"\n"):
            at, p = offset + p, p + len(line) + 1
            if not line.strip():
                continue
            try:
                events.append(_events_decoder.decode(line))
            except _BAD_JSON as exc:
                if not self.recover:
                    raise CorruptRecordingError(self.path, _reason(exc), frame=frame_no,
                                                offset=at) from None
                if not any(s.offset == at for s in self.skipped):
                    self.skipped.append(SkippedFrame(frame_no, at, len(line) + 1, _reason(exc)))
        return events

    def _parse_header_plain(self, line: bytes) -> None:
        self.header = self._parse_header(line.rstrip(b"\n"), 0)

    def _add_frame(self, span: FrameSpan, events: list[Event]) -> None:
        self._spans.append(span)
        self._first_seqs.append(span.first_seq)
        self.event_count += len(events)
        self.keyframes.extend(e.seq for e in events if e.kind == "state" and e.state is not None)
        if self.state_frames is not None and any(e.kind == "state" for e in events):
            self.state_frames.append(len(self._spans) - 1)
        self._remember(len(self._spans) - 1, events)

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

    # --- frames and events ------------------------------------------------------------
    @property
    def frame_count(self) -> int:
        """Number of event frames."""
        return len(self._spans)

    @property
    def frames(self) -> list[FrameSpan]:
        """The event frames, in order."""
        return list(self._spans)

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
        the file until it closes it or dies (docs/format.md §Liveness).
        """
        if self.footer is not None or self._fd < 0:
            return False
        try:
            fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False  # a file system without locks: nothing tells us it is alive
        with contextlib.suppress(OSError):
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        return False

    def read_frame(self, i: int) -> list[Event]:
        """The events of frame ``i`` (cached; callers must not mutate the list)."""
        cached = self._cache.get(i)
        if cached is not None:
            self._cache.move_to_end(i)
            return cached
        span = self._spans[i]
        if self.codec == "none":
            events = self._decode_plain(self._pread(span.offset, span.length), span.offset, i + 1)
            self._remember(i, events)
            return events
        try:
            data = self._codec.decompress(self._pread(span.offset, span.length))
            events = _event_lines.decode(b"[" + data.rstrip(b"\n").replace(b"\n", b",") + b"]")
        except (FrameError, *_BAD_JSON) as exc:
            if not self.recover:
                raise CorruptRecordingError(self.path, _reason(exc), frame=i + 1,
                                            offset=span.offset) from None
            if not any(s.offset == span.offset for s in self.skipped):
                self.skipped.append(SkippedFrame(i + 1, span.offset, span.length, _reason(exc)))
            events = []
        self._remember(i, events)
        return events

    def _remember(self, i: int, events: list[Event]) -> None:
        self._cache[i] = events
        self._cache.move_to_end(i)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def frame_of(self, seq: int) -> int:
        """Index of the frame holding ``seq`` (the last frame starting at or before it)."""
        i = bisect.bisect_right(self._first_seqs, seq) - 1
        if i < 0:
            raise IndexError(seq)
        return i

    def get(self, seq: int) -> Event:
        """The event with this ``seq``; IndexError if the recording has none."""
        if seq < 0:
            raise IndexError(seq)
        events = self.read_frame(self.frame_of(seq))
        k = seq - events[0].seq if events else -1
        if 0 <= k < len(events) and events[k].seq == seq:
            return events[k]
        for e in events:  # a recovered file may have gaps
            if e.seq == seq:
                return e
        raise IndexError(seq)

    def iter_events(self, start_seq: int = 0) -> Iterator[Event]:
        """Every readable event from ``start_seq`` on, in order, decoding frame by frame."""
        first = 0
        if start_seq > 0 and self._spans:
            first = max(0, bisect.bisect_right(self._first_seqs, start_seq) - 1)
        for i in range(first, len(self._spans)):
            for e in self.read_frame(i):
                if e.seq >= start_seq:
                    yield e

    def iter_frames_raw(self) -> Iterator[tuple[int, FrameSpan, bytes]]:
        """(index, span, decompressed bytes) of every frame, for checks like ``verify``.

        A damaged frame raises `CorruptRecordingError`, or with ``recover`` is
        noted in `skipped` and stepped over.
        """
        for i, span in enumerate(self._spans):
            try:
                data = self._codec.decompress(self._pread(span.offset, span.length))
            except FrameError as exc:
                self.frame_damaged(i, _reason(exc))
                continue
            yield i, span, data

    def frame_damaged(self, i: int, reason: str) -> None:
        """Report frame ``i`` as damaged: raise, or with ``recover`` note it and go on."""
        span = self._spans[i]
        if not self.recover:
            raise CorruptRecordingError(self.path, reason, frame=i + 1, offset=span.offset)
        if not any(s.offset == span.offset for s in self.skipped):
            self.skipped.append(SkippedFrame(i + 1, span.offset, span.length, reason))

    def _pread(self, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            return os.pread(self._fd, length, offset)
        except OSError as exc:
            raise RecordingReadError(self.path, f"read failed: {exc.strerror or exc}") from None

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


def _reason(exc: BaseException) -> str:
    if isinstance(exc, msgspec.ValidationError):
        return f"an event line does not match the format ({exc})"
    if isinstance(exc, msgspec.DecodeError):
        return f"an event line is not valid JSON ({exc})"
    if isinstance(exc, UnicodeDecodeError):
        return f"an event line is not valid UTF-8 ({exc})"
    if isinstance(exc, RecursionError):
        return "an event line nests too deeply to decode"
    return str(exc)

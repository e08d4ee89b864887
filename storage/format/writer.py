"""The log writer: events in, whole frames out, footer and trailer at close.

The file is created exclusively at its final name with mode 0600, then only
appended to, one whole frame per ``write`` (docs/format.md §Layout). Events
are encoded straight into a reused buffer; a frame is cut every
``flush_every`` events, when the oldest buffered event is ``flush_interval``
old (checked with each event, using the event's own timestamp), on request
(error events) and at close, and never holds more than `MAX_FRAME_CONTENT`
(a bigger buffer is split). A shared background flusher covers an idle
workflow; under a busy one the per-event check does the work, because a lone
writer thread starves for the GIL. A C call that holds the GIL starves the
flusher too, so once two events arrive more than an interval apart the
writer flushes each event as it comes, until events have come quickly for a
whole interval again (docs/format.md §Flush policy).

A failed write never leaves part of a frame behind (the file is cut back to
the last whole frame), and after one the events that follow are counted as
lost rather than written, so the file stays a dense prefix of the run; the
footer is still tried at close, since space may have come back.

The writer is not thread-safe by itself: callers hold `LogWriter.lock` around
`append` (the recorder does, so ``seq`` order and file order agree).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
import weakref
from typing import Any

import msgspec

from ..errors import LineTooLong, RecordingWriteError
from .codec import MAX_FRAME_CONTENT, Codec, codec_for_name
from .events import Event, Footer, Header, SeekIndex

__all__ = [
    "DEFAULT_FLUSH_EVERY",
    "DEFAULT_FLUSH_INTERVAL",
    "LineTooLong",
    "LogWriter",
]

DEFAULT_FLUSH_EVERY = 256
DEFAULT_FLUSH_INTERVAL = 0.25
_MAX_LINE = MAX_FRAME_CONTENT - 1  # a line and its newline fit in one frame


class LogWriter:
    """Appends encoded events to a recording file in frames.

    Parameters:
        path: where the file goes; it must not exist yet.
        header: written as the first frame, immediately.
        codec: ``"zstd"``, ``"gzip"`` or ``"none"``.
        clock_origin_ns: the ``perf_counter_ns()`` value event ``ts`` values count from,
            so the idle flusher can age the buffer on the same clock.
        enc_hook: msgspec hook for values it cannot encode natively.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        header: Header,
        *,
        codec: str = "zstd",
        flush_every: int = DEFAULT_FLUSH_EVERY,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        clock_origin_ns: int | None = None,
        enc_hook: Any = None,
    ) -> None:
        self.path = os.fspath(path)
        self.codec: Codec = codec_for_name(codec)
        self.lock = threading.Lock()
        self.flush_every = max(1, int(flush_every))
        self._flush_every_1 = self.flush_every - 1  # compared with the count before an event
        self.flush_interval_ns = int(flush_interval * 1e9)
        self.origin_ns = time.perf_counter_ns() if clock_origin_ns is None else clock_origin_ns
        self._enc = msgspec.json.Encoder(enc_hook=enc_hook)
        self._buf = bytearray()
        self._pending = 0
        self._first_seq = 0
        self._first_ts = 0
        self._last_ts = 0
        self._slow_since: int | None = None  # set while each event is flushed as it comes
        self._frames: list[tuple[int, int]] = []
        self._state_frames: list[int] = []
        self._has_state = False
        self._offset = 0
        self.events_written = 0
        self.events_lost = 0
        #: The seq of the first event that could not be written (None while all were).
        self.first_lost_seq: int | None = None
        self.failed: BaseException | None = None
        self.closed = False
        try:
            self._fd = os.open(
                self.path,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_NOFOLLOW
                | getattr(os, "O_CLOEXEC", 0),
                0o600,
            )
        except OSError as exc:
            raise RecordingWriteError(
                f"cannot create recording {self.path}: {exc.strerror or exc}; "
                "check the directory exists, is writable, and no file has that name"
            ) from exc
        # Held until close: a reader that finds the file locked knows its writer is alive
        # (status ``running``), one that does not knows a footerless file was abandoned
        # (``incomplete``). The kernel drops the lock when the process dies, SIGKILL
        # included. docs/format.md §Reading, step 6.
        with contextlib.suppress(OSError):
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        header.codec = self.codec.name
        try:
            self._write(self.codec.compress(self._enc.encode(header) + b"\n"))
        except BaseException as exc:
            # No header, no recording: close the descriptor (a workflow retrying on a
            # full disk must not run out of them) and remove the empty file.
            os.close(self._fd)
            self._fd = -1
            self.closed = True
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            if isinstance(exc, RecordingWriteError):
                raise
            raise RecordingWriteError(
                f"cannot write the header of recording {self.path}: {exc}") from exc
        _FLUSHER.register(self)

    # --- hot path -----------------------------------------------------------
    def append(self, event: Event, max_line: int = 0, urgent: bool = False) -> None:
        """Encode ``event`` into the buffer and cut a frame if the policy says so.

        Raises `LineTooLong` (keeping nothing) when the encoded line is longer
        than ``max_line`` (when set) or than a frame may hold; msgspec errors for
        values it cannot encode propagate after the partial bytes are removed;
        RecordingWriteError when the frame this event completes cannot be written.
        """
        buf = self._buf
        mark = len(buf)
        try:
            self._enc.encode_into(event, buf, -1)
        except BaseException:
            del buf[mark:]
            raise
        end = len(buf)
        if end - mark > (max_line or _MAX_LINE):
            del buf[mark:]
            raise LineTooLong(end - mark)
        buf.append(10)
        if end >= MAX_FRAME_CONTENT:  # (end + 1 bytes now, with the newline)
            self._split(mark)  # the buffer before this line becomes a frame of its own
        if event.kind == "state":
            self._has_state = True
        ts = event.ts
        pending = self._pending
        if pending == 0:
            self._first_seq = event.seq
            self._first_ts = ts
            if ts - self._last_ts >= self.flush_interval_ns:
                self._slow_since = ts  # alone after a long gap: flush it now (see _adapt)
        self._pending = pending + 1
        # (With events already buffered, a gap over the interval shows as the buffer's
        # age, so one check covers both.)
        if (urgent or pending >= self._flush_every_1
                or ts - self._first_ts >= self.flush_interval_ns or self._slow_since is not None):
            self._adapt(ts)
            self.flush()
        self._last_ts = ts

    def _adapt(self, ts: int) -> None:
        """Enter or leave flushing each event as it comes (see the module docstring).

        A gap over the interval since the last event means the workflow may sit in
        code that holds the GIL (a long C call), where neither the flusher thread
        nor the next event can push the buffer out; events have come quickly again
        once a whole interval passed without such a gap.
        """
        if ts - self._last_ts >= self.flush_interval_ns:
            self._slow_since = ts
        elif self._slow_since is not None and ts - self._slow_since >= self.flush_interval_ns:
            self._slow_since = None

    def _split(self, end: int) -> None:
        """Write the first ``end`` bytes of the buffer (its whole events) as one frame."""
        head = bytes(self._buf[:end])
        del self._buf[:end]
        n, self._pending = self._pending, 0
        has_state, self._has_state = self._has_state, False
        with contextlib.suppress(RecordingWriteError):
            # Counted as lost, and `failed` is set: the recorder reports it at close.
            self._write_frame(head, n, has_state)

    def flush(self) -> None:
        """Write the buffered events as one frame (no-op when empty)."""
        if not self._pending:
            return
        n = self._pending
        data = bytes(self._buf)
        self._buf.clear()
        self._pending = 0
        has_state, self._has_state = self._has_state, False
        self._write_frame(data, n, has_state)

    def _write_frame(self, data: bytes, n: int, has_state: bool) -> None:
        """Compress and write ``n`` events (starting at ``_first_seq``) as one frame."""
        if self.failed is not None or self._fd < 0:
            # After a failed write every later event is lost, so the file stays a dense
            # prefix of the run that the footer's event_count can describe.
            self._lose(n)
            return
        frame = self.codec.compress(data)
        start = self._offset
        try:
            self._write(frame)
        except RecordingWriteError:
            self._lose(n)
            raise
        if has_state:
            self._state_frames.append(len(self._frames))
        self._frames.append((self._first_seq, start))
        self.events_written += n

    def _lose(self, n: int) -> None:
        if self.first_lost_seq is None:
            self.first_lost_seq = self._first_seq
        self.events_lost += n

    def flush_if_idle(self, now_ns: int) -> None:
        """Flush when the oldest buffered event is older than the interval (flusher thread)."""
        if self._pending and now_ns - self.origin_ns - self._first_ts >= self.flush_interval_ns:
            self.flush()

    # --- close ----------------------------------------------------------------
    def close(self, footer: Footer | None, *, keyframes: list[int] | None = None) -> None:
        """Flush, write ``footer`` (with the seek index) and the trailer, close the file.

        With ``footer=None`` the file is closed as it stands (it then reads as
        incomplete). After failed writes the footer is still tried — space may
        have come back — with ``event_count`` set to the events in the file and
        the loss noted in ``degraded``. Raises RecordingWriteError when the
        last flush or the footer cannot be written (the file is closed either
        way). Idempotent.
        """
        if self.closed:
            return
        _FLUSHER.unregister(self)
        flush_error: RecordingWriteError | None = None
        try:
            try:
                self.flush()
            except RecordingWriteError as exc:
                flush_error = exc  # the footer is still worth a try
            if footer is not None and self.events_lost:
                footer.event_count = self.events_written
                note = (f"{self.events_lost} events from seq {self.first_lost_seq} on "
                        f"could not be written: {_reason(self.failed)}")
                footer.degraded = [*footer.degraded, note]
                keyframes = [k for k in keyframes or [] if k < self.events_written]
            if footer is not None:
                footer.index = SeekIndex(frames=list(self._frames), keyframes=keyframes or [],
                                         state_frames=list(self._state_frames))
                footer_offset = self._offset
                frame = self.codec.compress(self._enc.encode(footer) + b"\n")
                self._write(frame)
                trailer = self.codec.make_trailer(footer_offset, len(frame))
                if trailer:
                    self._write(trailer)
            if flush_error is not None:
                raise flush_error
        finally:
            self.closed = True
            with contextlib.suppress(OSError):
                os.close(self._fd)
            # The number may be handed to another file now: never write through it again.
            self._fd = -1

    def discard(self) -> None:
        """Close without a footer and remove the file (a recording not worth keeping)."""
        self._buf.clear()
        self._pending = 0
        self.close(None)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    @property
    def bytes_written(self) -> int:
        """Size of the file so far."""
        return self._offset

    def _write(self, data: bytes) -> None:
        """Write ``data`` whole, or cut the file back to where it was and raise."""
        start = self._offset
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
                self._offset += n
        except OSError as exc:
            self.failed = self.failed or exc
            if self._offset != start:
                # Part of the frame made it (the disk filled mid-write): remove it, so
                # what follows — the footer, once space returns — comes after whole frames.
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, start)
                self._offset = start
            raise RecordingWriteError(
                f"writing recording {self.path} failed: {exc.strerror or exc}; "
                "the events written before this point are kept"
            ) from exc


def _reason(exc: BaseException | None) -> str:
    return str(getattr(exc, "strerror", None) or exc or "unknown error")


class _IdleFlusher:
    """One daemon thread that flushes every open writer whose buffer has aged.

    Only an idle workflow needs it: a busy one flushes on its own thread
    (see the module docstring). One shared thread, not one per writer, so a
    process with many open recordings does not grow many threads.
    """

    def __init__(self) -> None:
        self._writers: weakref.WeakSet[LogWriter] = weakref.WeakSet()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._added = False  # a writer arrived since the thread last looked

    def register(self, writer: LogWriter) -> None:
        with self._cond:
            if self._pid != os.getpid():  # forked child: the parent's thread is not here
                self._thread, self._pid = None, os.getpid()
            self._writers.add(writer)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="flowtape-flusher",
                                                daemon=True)
                self._thread.start()
            self._added = True
            self._cond.notify()

    def unregister(self, writer: LogWriter) -> None:
        with self._cond:
            self._writers.discard(writer)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._writers:
                    self._cond.wait()
                writers = list(self._writers)
                self._added = False
            # Wake exactly when the oldest buffered event of some writer comes due, so
            # an idle workflow's events reach the disk flush_interval after they
            # happened, not up to a polling tick later. A writer whose buffer is empty
            # now gets its next event no earlier than now, due an interval later, so
            # looking again after half the shortest interval never makes one late.
            now = time.perf_counter_ns()
            tick = min(w.flush_interval_ns for w in writers) // 2
            wake = now + min(max(tick, 1_000_000), 500_000_000)
            for w in writers:
                if w.closed or not w._pending:
                    continue
                due = w.origin_ns + w._first_ts + w.flush_interval_ns
                if due > now:
                    wake = min(wake, due)
                    continue
                with w.lock:
                    try:
                        if not w.closed:
                            w.flush_if_idle(now)
                    except RecordingWriteError:
                        pass  # the recorder notices `failed` and reports it on its thread
            del writers
            with self._cond:  # a new writer (maybe with a shorter interval) wakes us early
                if not self._added:
                    self._cond.wait(max(wake - time.perf_counter_ns(), 1_000_000) / 1e9)


_FLUSHER = _IdleFlusher()

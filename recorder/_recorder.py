"""`ExecutionRecorder`: turns what a workflow does into events on disk.

The hot path is `ExecutionRecorder._emit`: stamp ``seq``/``ts``/``lane``, build
an `Event`, encode it straight into the writer's buffer under one lock (so
``seq`` order is file order). Payloads are masked before that
(`_payload.Redactor`); values msgspec cannot encode, and payloads over the
size limit, take a slow path that never raises into the workflow.

Spans (nodes, teams, members, recursion) nest through the ``FRAME``
contextvar; the earlier-published ``record_*`` methods of SPEC §9 live in
`_published.PublishedRecorderAPI`, which this class mixes in.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import platform
import socket
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import msgspec

from storage import (
    Counts,
    Event,
    Footer,
    Header,
    LineTooLong,
    LogWriter,
    RecordingWriteError,
    Store,
    is_valid_id,
    make_patch,
    new_recording_id,
    suffix_for_codec,
)

from ._context import FRAME, current_lane, running_loop, thread_lanes
from ._payload import Redactor
from ._published import PublishedRecorderAPI
from ._spool import UnsafeSpool, private_spool_dir, remove_quietly
from ._values import (
    error_payload,
    fix_text,
    make_enc_hook,
    placeholder,
    to_builtins,
    truncated,
)

__all__ = ["ExecutionRecorder", "RecorderOptions"]

log = logging.getLogger("flowtape")
_perf_ns = time.perf_counter_ns
_enc_hook = make_enc_hook()
_json = msgspec.json.Encoder(enc_hook=_enc_hook)
_json_plain = msgspec.json.Decoder()
DEFAULT_MAX_PAYLOAD = 1 << 20
#: A quarter of the largest frame (16 MiB, SPEC §3): a line with a few payloads still fits.
MAX_PAYLOAD_CAP = 4 << 20
MAX_NOTES = 100


class RecorderOptions(msgspec.Struct, kw_only=True):
    """Everything `record_workflow` can set, in one place."""

    codec: str = "zstd"
    path: str | None = None
    store: Any = None
    tags: list[str] = []
    record_inputs: bool = True
    record_outputs: bool = True
    record_state_snapshots: bool = True
    redact: Any = None
    redact_patterns: Any = None
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD
    keyframe_every: int = 64
    flush_every: int = 256
    flush_interval: float = 0.25
    strict: bool = False
    keep: Any = "always"
    inputs: Any = None
    entry: str | None = None
    meta: dict[str, Any] = {}
    replay_of: str | None = None
    enabled: bool = True


def status_for_exception(exc: BaseException | None) -> str:
    """The footer status a run ends with when ``exc`` left it (None: completed)."""
    if exc is None:
        return "completed"
    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | GeneratorExit):
        return "cancelled"
    if isinstance(exc, TimeoutError):
        return "timed_out"
    return "failed"


class _DiscardWriter:
    """Stands in for a writer that could not be created: counts, writes nothing."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.events_written = 0
        self.events_lost = 0
        self.bytes_written = 0
        self.failed: BaseException | None = None
        self.closed = False

    def append(self, event: Event, max_line: int = 0, urgent: bool = False) -> None:
        self.events_lost += 1

    def flush(self) -> None:
        return None

    def close(self, footer: Footer | None, *, keyframes: list[int] | None = None) -> None:
        self.closed = True

    def discard(self) -> None:
        self.closed = True


class ExecutionRecorder(PublishedRecorderAPI):
    """Records one workflow run into one recording file.

    Made by `record_workflow` (the usual way) or directly, as the
    earlier-published API did: ``ExecutionRecorder("etl")`` then
    ``record_workflow_start(...)`` … ``finalize()`` / ``await save(path)``.
    """

    def __init__(  # noqa: PLR0917 - the published signature takes these positionally
        self,
        workflow_name: str,
        workflow_id: str | None = None,
        record_inputs: bool = True,
        record_outputs: bool = True,
        record_state_snapshots: bool = False,
        compress: bool = True,
        tags: list[str] | tuple[str, ...] | None = None,
        *,
        options: RecorderOptions | None = None,
    ) -> None:
        if options is None:
            options = RecorderOptions(
                codec="gzip" if compress else "none",
                tags=list(tags or ()),
                record_inputs=record_inputs,
                record_outputs=record_outputs,
                record_state_snapshots=record_state_snapshots,
            )
        self.options = options
        self.workflow_name = workflow_name
        self.recording_id = (workflow_id if workflow_id and is_valid_id(workflow_id)
                             else new_recording_id())
        self.tags: list[str] = list(options.tags)
        self.enabled = options.enabled
        self._redactor = Redactor.from_option(options.redact, options.redact_patterns)
        self._mask = self._redactor.payload
        if not self._redactor.can_raise:
            self._payload = self._mask  # type: ignore[method-assign,assignment]  # cannot raise
        self._inputs_masked: Any = None  # opts.inputs after redaction, computed once
        self._record_inputs = options.record_inputs
        self._record_outputs = options.record_outputs
        self._record_state = options.record_state_snapshots
        # A payload never outgrows a frame (SPEC §3: frames hold at most 16 MiB, and an
        # event line may hold a few payloads), whatever max_payload_bytes says.
        self._max_payload = min(options.max_payload_bytes, MAX_PAYLOAD_CAP)
        self._max_line = self._max_payload
        self._strict = options.strict
        self._store: Store | None = options.store
        self._state_lock = threading.Lock()  # the patch base and the seq must agree
        self._writer: LogWriter | _DiscardWriter | None = None
        self._seq = 0
        self._t0 = 0
        self._started_wall: dt.datetime | None = None
        self._ended_ns: int | None = None
        self._kind_counts: defaultdict[str, int] = defaultdict(int)
        self._max_depth = 0
        #: Attempt number of the last failed execution per (parent span, node, inputs).
        self._failures: dict[tuple[int | None, str, bytes], int] = {}
        self._open_spans: dict[tuple[str, str], list[tuple[int, Any]]] = {}
        self._last_state: Any = None
        self._states_since_key = 0
        self._keyframes: list[int] = []
        self._dropped: list[str] = []
        self._dropped_more = 0
        self._degraded: list[str] = []
        self._io_reported = False
        self._closed = False
        self._workflow_ended = False
        self._outcome: tuple[str, Any, Any] | None = None  # (status, outputs, error payload)
        self._root: int | None = None
        self._path: str | None = None
        self._final_path: str | None = None
        self._spool = False
        #: Set by record_workflow when the store could not be opened (recorded as degraded).
        self._store_error: BaseException | None = None
        self._init_published()

    # --- lifecycle --------------------------------------------------------------
    @property
    def path(self) -> str | None:
        """Where the recording is (or will be) on disk; None before it starts, when it was
        sampled out, and when a keep policy dropped it."""
        return self._final_path or self._path

    @property
    def closed(self) -> bool:
        """True once the recording's footer has been written."""
        return self._closed

    def _open(self) -> None:
        """Create the file and write the header (first event triggers it for direct use)."""
        if self._writer is not None:
            return
        opts = self.options
        self._t0 = _perf_ns()
        self._started_wall = dt.datetime.now(dt.UTC)
        suffix = suffix_for_codec(opts.codec)
        try:
            if self._store_error is not None:
                raise self._store_error
            if opts.path is not None:
                final = os.path.abspath(opts.path)
            elif self._store is not None:
                final = self._store.path_for(self.recording_id, opts.codec)
            else:
                final = os.path.join(private_spool_dir(), self.recording_id + suffix)
                self._spool = True
                # A recorder made directly (SPEC §9) works in a spool file that is its
                # own: `save()` and stores copy it out, so it goes when the recorder does.
                weakref.finalize(self, remove_quietly, final)
        except Exception as exc:
            # The store cannot take the file (its directory is a file, it is unreachable...),
            # or the spool directory is not safe: record nothing, say so once, and let the
            # workflow run (SPEC §4).
            where = getattr(self._store, "url", None) or opts.store or "the store"
            self._path = self._final_path = os.path.join(str(where), self.recording_id + suffix)
            self._writer = _DiscardWriter(self._path)
            self._io_failed(exc if isinstance(exc, UnsafeSpool) else RecordingWriteError(
                f"cannot create recording {self._path}: {exc}; check the store "
                "directory exists and is writable"))
            return
        self._final_path = final
        keep = opts.keep
        if keep != "always":
            head, tail = os.path.split(final)
            self._path = os.path.join(head, f".{tail}.partial")
        else:
            self._path = final
        header = Header(
            recording_id=self.recording_id,
            workflow=fix_text(self.workflow_name),
            started_at=self._started_wall.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            tags=[fix_text(t) for t in self.tags],
            codec=opts.codec,
            config=self.config,
            host=socket.gethostname(),
            pid=os.getpid(),
            python=platform.python_version(),
            meta=self._header_value("meta", dict(opts.meta)) if opts.meta else {},
            inputs=self._header_value("inputs", None),
            entry=opts.entry,
            replay_of=opts.replay_of,
        )
        try:
            self._writer = LogWriter(
                self._path, header, codec=opts.codec, flush_every=opts.flush_every,
                flush_interval=opts.flush_interval, clock_origin_ns=self._t0, enc_hook=_enc_hook,
            )
        except RecordingWriteError as exc:
            self._writer = _DiscardWriter(self._path)
            self._io_failed(exc)
            return
        if self._store is not None and keep == "always":
            self._call_store("begin", header, self._path)
        # Event times count from here: file creation and catalog set-up are not the run's.
        self._t0 = self._writer.origin_ns = _perf_ns()

    def _header_value(self, name: str, value: Any) -> Any:
        """``meta`` or ``inputs`` for the header: masked, and truncated past the payload
        limit like any payload (the header is one frame, which must stay small)."""
        masked = self._masked_inputs() if name == "inputs" else self._payload(value, name)
        if isinstance(masked, msgspec.Raw) and len(masked) > self._max_payload:
            self._note_dropped(f"header {name} ({len(masked)} bytes) truncated")
            return truncated(len(masked), bytes(masked))
        return _plain_value(masked)

    def _masked_inputs(self) -> Any:
        """The run's inputs as recorded (header and ``workflow_start``): masked once, so a
        ``redact=`` callable sees this payload once."""
        if self._inputs_masked is None and self.options.inputs is not None:
            self._inputs_masked = self._payload(self.options.inputs, "inputs")
        return self._inputs_masked

    def _begin_workflow(self) -> None:
        """Open the file and write ``workflow_start`` (the root span)."""
        self._open()
        data = {"inputs": self._masked_inputs()} \
            if self.options.inputs is not None and self._record_inputs else None
        self._root = self._emit("workflow_start", self.workflow_name, None, None, 0, None, data)

    def _end_workflow(self, status: str, outputs: Any = None, exc: BaseException | None = None,
                      error: dict[str, Any] | None = None) -> None:
        """Write ``workflow_complete`` / ``workflow_error`` once."""
        if self._workflow_ended or not self.enabled:
            return
        self._workflow_ended = True
        if exc is not None:
            error = error_payload(exc)
        masked = self._payload(error, "error") if error is not None else None
        # The footer's error is the masked one: a secret never reaches any line (issue 9.1).
        self._outcome = (status, outputs, _plain_value(masked))
        if error is not None:
            data: dict[str, Any] = {"error": masked}
            if status != "failed":
                data["status"] = status
            self._emit("workflow_error", self.workflow_name, self._root, None, 0, None, data,
                       urgent=True)
        else:
            data = {"outputs": self._payload(outputs, "outputs")} \
                if outputs is not None and self._record_outputs else None  # type: ignore[assignment]
            self._emit("workflow_complete", self.workflow_name, self._root, None, 0, None, data)

    def _close(self, status: str | None = None) -> Footer | None:
        """Write the footer and trailer, apply the keep policy, tell the store."""
        if self._closed or not self.enabled:
            return None
        if self._writer is None:
            self._open()
        self._closed = True
        if status is None:
            status = self._outcome[0] if self._outcome else "completed"
        error = self._outcome[2] if self._outcome else None
        writer = self._writer
        assert writer is not None
        with writer.lock:
            try:
                writer.flush()
            except RecordingWriteError as exc:
                self._io_failed(exc, raise_strict=False)
            if writer.failed is not None and not self._io_reported:
                # It failed on the idle flusher's thread, which cannot log for us.
                failed = writer.failed
                self._io_failed(RecordingWriteError(
                    f"writing recording {writer.path} failed: "
                    f"{getattr(failed, 'strerror', None) or failed}; the events written "
                    "before this point are kept"), raise_strict=False)
            # Counted under the lock: a straggling thread's event is either in the
            # footer's event_count and in the file, or dropped (see `_emit`). After a
            # failed write the writer sets event_count to what the file holds, notes
            # the loss, and tries the footer anyway: space may have come back.
            footer = self.summary(status, error)
            try:
                writer.close(footer, keyframes=self._keyframes)
            except RecordingWriteError as exc:
                self._io_failed(exc, raise_strict=False)
            for note in footer.degraded:
                self._note_degraded(note)
        self._ended_ns = self._ended_ns or _perf_ns()
        self._apply_keep(footer)
        if self._strict and writer.failed is not None:
            raise RecordingWriteError(f"recording {self.path} is degraded: {writer.failed}")
        return footer

    def summary(self, status: str = "running", error: dict[str, Any] | None = None) -> Footer:
        """The footer as it would be written now (counts, duration, notes)."""
        kc = self._kind_counts
        end = self._ended_ns or _perf_ns()
        return Footer(
            status=status,
            event_count=self._seq,
            duration_ns=max(0, end - self._t0) if self._t0 else 0,
            ended_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            error=_short_error(error),
            counts=Counts(
                nodes=kc.get("node_start", 0),
                teams=kc.get("team_start", 0),
                messages=kc.get("team_message", 0),
                max_depth=self._max_depth,
                errors=kc.get("node_error", 0) + kc.get("workflow_error", 0),
                states=kc.get("state", 0),
            ),
            dropped=self._dropped + ([f"{self._dropped_more} more payloads truncated"]
                                     if self._dropped_more else []),
            degraded=list(self._degraded),
        )

    def _apply_keep(self, footer: Footer) -> None:
        keep = self.options.keep
        path, final = self._path, self._final_path
        assert path is not None and final is not None
        if isinstance(self._writer, _DiscardWriter):
            return  # the file was never created: nothing to keep or catalogue
        if keep == "always":
            if self._store is not None:
                self._finish_in_store(path)
            return
        if keep == "failure":
            wanted = footer.status != "completed"
        elif callable(keep):
            try:
                wanted = bool(keep(footer))
            except Exception:
                log.exception("flowtape: keep= callable raised; keeping recording %s", final)
                wanted = True
        else:
            wanted = True
        if not wanted:
            with contextlib.suppress(OSError):
                os.unlink(path)
            self._path = self._final_path = None  # `path` is None: there is no recording
            return
        try:
            os.replace(path, final)
        except OSError as exc:
            self._io_failed(RecordingWriteError(f"cannot move {path} to {final}: {exc}"))
            self._final_path = path
            return
        self._path = final
        if self._store is not None:
            self._finish_in_store(final)

    def _finish_in_store(self, path: str) -> None:
        """Catalogue the closed recording, with its degradation notes when it has any
        (so the catalog row says what the footer says, or what it could not)."""
        if not self._degraded:
            self._call_store("finish", self.recording_id, path)
            return
        try:
            self._store.finish(self.recording_id, path,  # type: ignore[union-attr,call-arg]
                               degraded=list(self._degraded))
        except TypeError as exc:
            if "degraded" not in str(exc):
                self._store_failed("finish", exc)
                return
            # A Store implementation that does not take the notes yet: catalogue anyway.
            self._call_store("finish", self.recording_id, path)
        except Exception as exc:
            self._store_failed("finish", exc)

    def _call_store(self, method: str, *args: Any) -> None:
        try:
            getattr(self._store, method)(*args)
        except Exception as exc:
            self._store_failed(method, exc)

    def _store_failed(self, method: str, exc: Exception) -> None:
        if self._strict:
            raise exc
        log.warning("flowtape: store %s failed for recording %s: %s", method,
                    self.recording_id, exc)
        self._note_degraded(f"store {method} failed: {exc}")

    # --- errors and notes --------------------------------------------------------
    def _io_failed(self, exc: BaseException, *, raise_strict: bool = True) -> None:
        self._note_degraded(str(exc))
        if not self._io_reported:
            self._io_reported = True
            log.error("flowtape: recording %s is degraded (the workflow goes on): %s",
                      self.recording_id, exc)
        if self._strict and raise_strict:
            if isinstance(exc, RecordingWriteError):
                raise exc
            raise RecordingWriteError(str(exc)) from exc

    def _note_degraded(self, note: str) -> None:
        if note not in self._degraded and len(self._degraded) < MAX_NOTES:
            self._degraded.append(note)

    def _note_dropped(self, note: str) -> None:
        if len(self._dropped) < MAX_NOTES:
            self._dropped.append(note)
        else:
            self._dropped_more += 1

    # --- the hot path ----------------------------------------------------------------
    def _payload(self, value: Any, path: str) -> Any:
        """``value`` masked for recording (a copy where anything changed)."""
        try:
            return self._mask(value, path)
        except Exception as exc:
            log.warning("flowtape: redaction of %s failed (%s); payload withheld", path, exc)
            return {"$redaction_failed": type(exc).__name__}

    def _emit(  # noqa: PLR0917 - positional on the hot path: cheaper calls
        self,
        kind: str,
        node: str | None,
        span: int | None,
        parent: int | None,
        depth: int,
        attempt: int | None,
        data: Any,
        state: Any = None,
        patch: list[Any] | None = None,
        urgent: bool = False,
    ) -> int:
        """Append one event; returns its ``seq``. Never raises into the workflow (unless strict).

        The hot path: keep it lean (SPEC §10 budgets ≤ 3 µs per small event).
        """
        writer = self._writer
        if writer is None:
            if not self.enabled:  # sampled out: teams, recursion, ... write nothing
                return -1
            self._open()
            writer = self._writer
            assert writer is not None
        if running_loop() is None:  # current_lane() inlined for plain threads
            try:
                lane = thread_lanes.name
            except AttributeError:
                lane = current_lane()
        else:
            lane = current_lane()
        lock = writer.lock
        lock.acquire()  # cheaper than `with` here, and this is the hottest line
        try:
            if writer.closed:
                # The recording has ended (a straggling thread or task): drop the event.
                # Under the lock, so it cannot race the footer; and the closed file's
                # descriptor number may already belong to another file.
                return -1
            seq = self._seq
            self._seq = seq + 1
            self._kind_counts[kind] += 1
            ev = Event(seq, _perf_ns() - self._t0, kind, node, span, parent, depth, lane,
                       attempt, data, state, patch)
            try:
                writer.append(ev, self._max_line, urgent)
            except RecordingWriteError as exc:
                self._io_failed(exc)
            except Exception as exc:  # unencodable or oversized: the slow path
                self._append_slow(writer, ev, exc, urgent)
        finally:
            lock.release()
        return seq

    def _append_slow(self, writer: LogWriter | _DiscardWriter, ev: Event, exc: Exception,
                     urgent: bool) -> None:
        if not isinstance(exc, LineTooLong):
            # Lone surrogates in a node id or a thread name, values the hook could not take.
            ev.node = None if ev.node is None else fix_text(ev.node)
            ev.lane = None if ev.lane is None else fix_text(ev.lane)
            ev.data = to_builtins(ev.data, _enc_hook)
            ev.state = to_builtins(ev.state, _enc_hook)
            ev.patch = to_builtins(ev.patch, _enc_hook)
        limit = self._max_payload
        for name in ("data", "state", "patch"):
            value = getattr(ev, name)
            if value is None:
                continue
            if name == "data" and isinstance(value, dict):
                fixed = dict(value)
                for k, v in value.items():
                    enc = _encode(v)
                    if len(enc) > limit:
                        fixed[k] = truncated(len(enc), enc)
                        self._note_dropped(f"seq {ev.seq} {ev.kind} {ev.node or ''}: "
                                           f"data.{k} ({len(enc)} bytes) truncated")
                ev.data = fixed
            else:
                enc = _encode(value)
                if len(enc) > limit:
                    setattr(ev, name, truncated(len(enc), enc) if name != "patch" else None)
                    if name == "patch":
                        ev.state = truncated(len(enc), enc)
                        self._keyframes.append(ev.seq)  # it now holds a (placeholder) state
                    self._note_dropped(f"seq {ev.seq} {ev.kind} {ev.node or ''}: "
                                       f"{name} ({len(enc)} bytes) truncated")
                    if name in ("state", "patch"):
                        self._last_state = None  # the next snapshot must be a keyframe
        try:
            writer.append(ev, 0, urgent)
        except RecordingWriteError as exc2:
            self._io_failed(exc2)
        except Exception as exc2:
            ev.data = None if ev.data is None else placeholder(ev.data)
            ev.state = None if ev.state is None and ev.patch is None else placeholder(
                ev.state if ev.state is not None else ev.patch)
            ev.patch = None
            try:
                writer.append(ev, 0, urgent)
            except Exception:
                self._note_degraded(f"seq {ev.seq} {ev.kind} could not be encoded: {exc2}")

    # --- spans --------------------------------------------------------------------------
    def _enclosing(self) -> tuple[int | None, int]:
        """(parent span seq, depth) for an event emitted now in this context."""
        _, parent, depth = self._here()
        return parent, depth

    def _here(self) -> tuple[list[Any] | None, int | None, int]:
        """(this context's innermost frame, parent span seq, depth) for an event now."""
        frame = FRAME.get()
        if frame is not None and frame[0] is self:
            return frame, frame[1], frame[2]
        return frame, self._implicit_root(), 0

    def _implicit_root(self) -> int | None:
        """The root span's seq. A recorder used directly (SPEC §9) without
        ``record_workflow_start`` starts its run at its first event, so every
        recording begins with ``workflow_start`` and nests under it."""
        if (self._root is None and self.enabled and not self._closed
                and not self._workflow_ended):
            self._begin_workflow()
        return self._root

    def node_start(self, node_id: str, inputs: Any = None, node_type: str | None = None, *,
                   attempt: int | None = None, has_inputs: bool = True) -> tuple[int, Any]:
        """Write ``node_start`` and enter its span; returns a handle for `node_end`."""
        outer = FRAME.get()  # `_here()` inlined: every @node call passes here
        if outer is not None and outer[0] is self:
            parent, depth = outer[1], outer[2]
        else:
            parent, depth = (self._root if self._root is not None
                             else self._implicit_root()), 0
        data: dict[str, Any] | None = None
        if has_inputs and self._record_inputs:
            data = {"inputs": self._payload(inputs, "inputs")}
        if node_type is not None:
            data = data or {}
            data["node_type"] = node_type
        if attempt is None:
            attempt = 1
            if self._failures:
                # A retry: the same node under the same parent, called again with the
                # inputs of an execution that failed (concurrent retries interleave).
                attempt += self._failures.get((parent, node_id, _inputs_key(data)), 0)
        seq = self._emit("node_start", node_id, None, parent, depth, attempt, data)
        frame = [self, seq, depth, outer, True]
        FRAME.set(frame)
        return seq, (frame, parent, depth, attempt, node_id, data)

    def node_end(self, handle: tuple[int, Any], outputs: Any = None,
                 exc: BaseException | None = None, *, has_outputs: bool = True,
                 error: dict[str, Any] | None = None,
                 extra: dict[str, Any] | None = None) -> int:
        """Leave the span and write ``node_complete`` or ``node_error``."""
        seq, (frame, parent, depth, attempt, node_id, start_data) = handle
        _leave(frame)
        if exc is None and error is None:
            if self._failures:
                self._failures.pop((parent, node_id, _inputs_key(start_data)), None)
            data: dict[str, Any] | None = None
            if has_outputs and self._record_outputs:
                data = {"outputs": self._payload(outputs, "outputs")}
            if extra:
                data = {**(data or {}), **extra}
            return self._emit("node_complete", node_id, seq, parent, depth, attempt, data)
        self._failures[(parent, node_id, _inputs_key(start_data))] = attempt
        if exc is not None:
            error = error_payload(exc)
        data = {"error": self._payload(error, "error")}
        if extra:
            data.update(extra)
        return self._emit("node_error", node_id, seq, parent, depth, attempt, data, urgent=True)

    def _failure_data(self, exc: BaseException) -> dict[str, Any]:
        """``status`` and masked ``error`` for the end event of a span whose body raised."""
        return {"status": status_for_exception(exc),
                "error": self._payload(error_payload(exc), "error")}

    def span_start(self, start_kind: str, node: str, data: Any, *,
                   depth_step: int = 0) -> tuple[int, Any]:
        """Write a span's start event and enter it; returns a handle for `span_end`."""
        outer, parent, depth = self._here()
        depth += depth_step
        self._max_depth = max(self._max_depth, depth)
        seq = self._emit(start_kind, node, None, parent, depth, None, data)
        frame = [self, seq, depth, outer, True]
        FRAME.set(frame)
        return seq, (frame, parent, depth, node)

    def span_end(self, handle: tuple[int, Any], end_kind: str, data: Any = None) -> int:
        """Leave the span and write its end event (``span`` = the start's seq)."""
        seq, (frame, parent, depth, node) = handle
        _leave(frame)
        return self._emit(end_kind, node, seq, parent, depth, None, data)

    @contextmanager
    def _span(self, start_kind: str, end_kind: str, node: str, data: Any,
              end_data: Callable[[], Any] | None = None, *, depth_step: int = 0) -> Iterator[int]:
        handle = self.span_start(start_kind, node, data, depth_step=depth_step)
        try:
            yield handle[0]
        finally:
            self.span_end(handle, end_kind, end_data() if end_data is not None else None)

    def team(self, team_id: str, formation: str | None = None,
             members: list[str] | tuple[str, ...] = (), context: Any = None) -> TeamRecorder:
        """Context manager for a team run; ``team.member(name)`` and ``team.message(...)``."""
        return TeamRecorder(self, team_id, formation, list(members), context)

    @contextmanager
    def recursion(self, operation_type: str, identifier: str) -> Iterator[int]:
        """Context manager around one level of recursion; depth is tracked per context."""
        with self._span("recursion_enter", "recursion_exit", str(identifier),
                        {"operation": operation_type}, depth_step=1) as seq:
            yield seq

    # --- state, checkpoints, custom events -----------------------------------------------
    def snapshot(self, state: Any, node_id: str | None = None,
                 execution_stack: list[str] | None = None) -> int | None:
        """Record the workflow state: a keyframe, or an RFC 6902 patch against the last one.

        The state is copied now; later changes to the caller's object do not
        reach the recording. Returns the event's seq (None when state
        recording is off or the recording has ended).
        """
        if not self._record_state or not self.enabled or self._closed:
            return None
        masked = self._payload(state, "state")
        raw = bytes(masked) if isinstance(masked, msgspec.Raw) else _json.encode(masked)
        copy = _json_plain.decode(raw)
        parent, depth = self._enclosing()
        data = {"execution_stack": list(execution_stack)} if execution_stack else None
        writer = self._writer
        if writer is None:
            self._open()
            writer = self._writer
            assert writer is not None
        # The patch base and the seq must agree, so the diff is taken under the lock.
        with self._state_lock:
            last = self._last_state
            # _states_since_key counts state events since the last keyframe, itself
            # included, so keyframes land on state events 0, N, 2N, ...
            keyframe = (last is None or self._states_since_key >= self.options.keyframe_every
                        or len(raw) > self._max_payload)
            ops: list[Any] | None = None
            if not keyframe:
                ops = make_patch(last, copy)
                if ops and len(_json.encode(ops)) >= len(raw):
                    keyframe = True
            if keyframe:
                seq = self._emit("state", node_id, None, parent, depth, None, data,
                                 msgspec.Raw(raw))
                self._keyframes.append(seq)
                self._states_since_key = 1
            else:
                seq = self._emit("state", node_id, None, parent, depth, None, data,
                                 None, ops or [])
                self._states_since_key += 1
            if len(raw) <= self._max_payload:
                self._last_state = copy
        return seq

    def checkpoint(self, name: str, data: Any = None) -> int:
        """A named checkpoint (kind ``checkpoint``, ``data.name`` = name, ``data.value`` = data)."""
        return self._named("checkpoint", name, data)

    def event(self, name: str, data: Any = None) -> int:
        """A custom event (kind ``custom``, ``data.name`` = name, ``data.value`` = data)."""
        return self._named("custom", name, data)

    def _named(self, kind: str, name: str, value: Any) -> int:
        if not self.enabled:
            return -1
        frame = FRAME.get()
        if frame is not None and frame[0] is self:
            parent, depth = frame[1], frame[2]
        else:
            parent, depth = (self._root if self._root is not None
                             else self._implicit_root()), 0
        if value is None:
            return self._emit(kind, None, None, parent, depth, None, {"name": name})
        return self._emit(kind, None, None, parent, depth, None,
                          {"name": name, "value": self._payload(value, "data")})

    # --- context manager protocol (used by record_workflow) -----------------------------------
    def __enter__(self) -> ExecutionRecorder:
        """``with ExecutionRecorder("etl") as rec:`` — the run ends with the block."""
        return self

    def __exit__(self, et: Any, exc: BaseException | None, tb: Any) -> None:
        if self._managed or self._closed:
            return  # record_workflow ends its own recorder
        if exc is not None and self.enabled and not self._workflow_ended:
            self._implicit_root()
            self._end_workflow(status_for_exception(exc), exc=exc)
        self.finalize()

    def __repr__(self) -> str:
        return (f"<ExecutionRecorder {self.workflow_name!r} id={self.recording_id} "
                f"events={self._seq}{' closed' if self._closed else ''}>")


class TeamRecorder:
    """A team run: ``with rec.team("research", members=[...]) as team:``."""

    def __init__(self, rec: ExecutionRecorder, team_id: str, formation: str | None,
                 members: list[str], context: Any) -> None:
        self.rec = rec
        self.team_id = team_id
        self.formation = formation
        self.members = members
        self.context = context
        self.output: Any = None
        self.success = True
        self._cm: Any = None
        self.seq: int | None = None

    def __enter__(self) -> TeamRecorder:
        rec = self.rec
        data: dict[str, Any] = {"member_count": len(self.members)}
        if self.formation is not None:
            data["formation"] = self.formation
        if self.members:
            data["members"] = list(self.members)
        if self.context is not None:
            data["context"] = rec._payload(self.context, "data")
        self._cm = rec._span("team_start", "team_complete", self.team_id, data, self._end_data)
        self.seq = self._cm.__enter__()
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        if ev is not None:
            self.success = False
            self._outcome = self.rec._failure_data(ev)
        self._cm.__exit__(et, ev, tb)

    async def __aenter__(self) -> TeamRecorder:
        return self.__enter__()

    async def __aexit__(self, et: Any, ev: Any, tb: Any) -> None:
        self.__exit__(et, ev, tb)

    def _end_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"success": self.success}
        if self.output is not None and self.rec._record_outputs:
            data["outputs"] = self.rec._payload(self.output, "outputs")
        outcome = getattr(self, "_outcome", None)
        if outcome is not None:
            data.update(outcome)
        return data

    @contextmanager
    def member(self, name: str, role: str | None = None) -> Iterator[int]:
        """Context manager around one member's turn in the team."""
        data: dict[str, Any] = {"team": self.team_id}
        if role is not None:
            data["role"] = role
        rec = self.rec
        handle = rec.span_start("team_member_start", name, data)
        outcome: dict[str, Any] | None = None
        try:
            yield handle[0]
        except BaseException as exc:
            outcome = rec._failure_data(exc)
            raise
        finally:
            rec.span_end(handle, "team_member_complete", outcome)

    def message(self, from_member: str, to_member: str, message: Any) -> int:
        """A message one member sent another."""
        rec = self.rec
        parent, depth = rec._enclosing()
        data = {"from": from_member, "to": to_member,
                "message": rec._payload(message, "data")}
        return rec._emit("team_message", self.team_id, None, parent, depth, None, data)


def _leave(frame: list[Any]) -> None:
    """Leave a span: mark its frame closed; if it is this context's innermost, step out.

    Stepping out goes to the nearest enclosing span that is still open, so spans
    closed out of order (the published ``record_*`` calls allow it: start A, start
    B, complete A) never leave later events nested in a span that has ended. A
    span closed from another context only gets marked; its own context steps
    past it when its inner spans end.
    """
    frame[4] = False
    if FRAME.get() is frame:
        outer = frame[3]
        while outer is not None and not outer[4]:
            outer = outer[3]
        FRAME.set(outer)


def _inputs_key(start_data: dict[str, Any] | None) -> bytes:
    """A node execution's recorded inputs, encoded: what makes a later call its retry."""
    return _encode(start_data.get("inputs") if start_data else None)


def _encode(value: Any) -> bytes:
    if isinstance(value, msgspec.Raw):
        return bytes(value)
    try:
        return _json.encode(value)
    except Exception:
        return _json.encode(to_builtins(value, _enc_hook))


def _plain_value(value: Any) -> Any:
    """A recorded payload (`msgspec.Raw` or a scalar) as plain Python values."""
    return _json_plain.decode(value) if isinstance(value, msgspec.Raw) else value


def _short_error(error: dict[str, Any] | None) -> dict[str, Any] | None:
    if not error:
        return None
    return {k: error[k] for k in ("type", "module", "message") if k in error}




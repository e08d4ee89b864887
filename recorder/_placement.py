"""Where a recording's file goes, and what becomes of it when the run ends.

The file is written at its final name from the first event (SPEC §3): at
``path=`` when given, else in the store (``store.path_for``), else — for a
recorder made directly (SPEC §9) — in the private spool directory, where it
lives as long as the recorder does. With a keep policy other than
``"always"`` it is written as a hidden ``.<name>.partial`` beside its final
name and moved there only if the policy keeps it. The store hears ``begin``
when a kept file starts and ``finish`` when it is closed, with the
recording's degradation notes.

Nothing here raises into the workflow: a file that cannot be created turns
the recording into a `DiscardWriter` that counts what it drops (SPEC §4).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

from storage import Event, Footer, Header, LogWriter, RecordingWriteError, suffix_for_codec

from ._notes import Notes
from ._options import RecorderOptions
from ._spool import UnsafeSpool, private_spool_dir, remove_quietly

__all__ = ["DiscardWriter", "Placement"]

log = logging.getLogger("flowtape")


class DiscardWriter:
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


class Placement:
    """One recording's file: where it is written, where it ends up, who catalogues it."""

    def __init__(self, options: RecorderOptions, recording_id: str, notes: Notes) -> None:
        self.options = options
        self.recording_id = recording_id
        self.notes = notes
        self.store: Any = options.store
        #: Set by record_workflow when the store could not be opened (reported at open).
        self.store_error: BaseException | None = None
        #: The file being written (a ``.partial`` one under a keep policy), then the kept one.
        self.path: str | None = None
        #: Where the recording ends up; None once a keep policy dropped it.
        self.final_path: str | None = None

    def open(self, owner: object, header: Callable[[], Header],
             origin_ns: int, enc_hook: Any) -> LogWriter | DiscardWriter:
        """Create the file and write its header; a `DiscardWriter` when that cannot be done.

        ``owner`` is the recorder: a spool file is removed when it goes.
        """
        opts = self.options
        suffix = suffix_for_codec(opts.codec)
        try:
            if self.store_error is not None:
                raise self.store_error
            if opts.path is not None:
                final = os.path.abspath(opts.path)
            elif self.store is not None:
                final = self.store.path_for(self.recording_id, opts.codec)
            else:
                final = os.path.join(private_spool_dir(), self.recording_id + suffix)
                # A recorder made directly (SPEC §9) works in a spool file that is its
                # own: `save()` and stores copy it out, so it goes when the recorder does.
                weakref.finalize(owner, remove_quietly, final)
        except Exception as exc:
            # The store cannot take the file (its directory is a file, it is unreachable...),
            # or the spool directory is not safe: record nothing, say so once, and let the
            # workflow run (SPEC §4).
            where = getattr(self.store, "url", None) or opts.store or "the store"
            self.path = self.final_path = os.path.join(str(where), self.recording_id + suffix)
            self.notes.io_failed(exc if isinstance(exc, UnsafeSpool) else RecordingWriteError(
                f"cannot create recording {self.path}: {exc}; check the store "
                "directory exists and is writable"))
            return DiscardWriter(self.path)
        self.final_path = final
        if opts.keep != "always":
            head, tail = os.path.split(final)
            self.path = os.path.join(head, f".{tail}.partial")
        else:
            self.path = final
        made = header()
        try:
            writer = LogWriter(self.path, made, codec=opts.codec, flush_every=opts.flush_every,
                               flush_interval=opts.flush_interval, clock_origin_ns=origin_ns,
                               enc_hook=enc_hook)
        except RecordingWriteError as exc:
            self.notes.io_failed(exc)
            return DiscardWriter(self.path)
        if self.store is not None and opts.keep == "always":
            self._call_store("begin", made, self.path)
        return writer

    def finish(self, writer: LogWriter | DiscardWriter, footer: Footer) -> None:
        """Apply the keep policy to the closed file and catalogue what is kept."""
        keep = self.options.keep
        path, final = self.path, self.final_path
        assert path is not None and final is not None
        if isinstance(writer, DiscardWriter):
            return  # the file was never created: nothing to keep or catalogue
        if keep == "always":
            if self.store is not None:
                self._catalogue(path)
            return
        if keep == "failure":
            wanted = footer.status != "completed"
        else:
            try:
                wanted = bool(keep(footer))
            except Exception:
                log.exception("flowtape: keep= callable raised; keeping recording %s", final)
                wanted = True
        if not wanted:
            with contextlib.suppress(OSError):
                os.unlink(path)
            self.path = self.final_path = None  # `path` is None: there is no recording
            return
        try:
            os.replace(path, final)
        except OSError as exc:
            self.notes.io_failed(RecordingWriteError(f"cannot move {path} to {final}: {exc}"))
            self.final_path = path
            return
        self.path = final
        if self.store is not None:
            self._catalogue(final)

    def _catalogue(self, path: str) -> None:
        """Catalogue the closed recording, with its degradation notes when it has any
        (so the catalog row says what the footer says, or what it could not)."""
        degraded = self.notes.degraded
        if not degraded:
            self._call_store("finish", self.recording_id, path)
            return
        try:
            self.store.finish(self.recording_id, path, degraded=list(degraded))
        except TypeError as exc:
            if "degraded" not in str(exc):
                self.notes.store_failed("finish", exc)
                return
            # A Store implementation that does not take the notes yet: catalogue anyway.
            self._call_store("finish", self.recording_id, path)
        except Exception as exc:
            self.notes.store_failed("finish", exc)

    def _call_store(self, method: str, *args: Any) -> None:
        try:
            getattr(self.store, method)(*args)
        except Exception as exc:
            self.notes.store_failed(method, exc)

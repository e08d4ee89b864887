"""What a recording had to leave out or could not do, kept for its footer.

SPEC §4: payloads over the size limit are truncated and noted in the
footer's ``dropped``; I/O and store trouble marks the recording
``degraded``, is logged once through `logging`, and never raises into the
workflow — except in ``strict=True`` mode, which raises (for tests).
"""

from __future__ import annotations

import logging

from storage import RecordingWriteError

__all__ = ["MAX_NOTES", "Notes"]

log = logging.getLogger("flowtape")
#: Notes kept per list; the footer must stay one small frame.
MAX_NOTES = 100


class Notes:
    """One recording's ``dropped`` and ``degraded`` notes, and its once-only I/O report."""

    __slots__ = ("degraded", "dropped", "dropped_more", "io_reported", "recording_id", "strict")

    def __init__(self, recording_id: str, *, strict: bool) -> None:
        self.recording_id = recording_id
        self.strict = strict
        self.dropped: list[str] = []
        self.dropped_more = 0
        self.degraded: list[str] = []
        self.io_reported = False

    def note_dropped(self, note: str) -> None:
        """A payload was truncated (the first `MAX_NOTES` say which; then a count)."""
        if len(self.dropped) < MAX_NOTES:
            self.dropped.append(note)
        else:
            self.dropped_more += 1

    def note_degraded(self, note: str) -> None:
        """Something could not be recorded as asked (each different note once)."""
        if note not in self.degraded and len(self.degraded) < MAX_NOTES:
            self.degraded.append(note)

    def all_dropped(self) -> list[str]:
        """The ``dropped`` notes as the footer carries them."""
        more = [f"{self.dropped_more} more payloads truncated"] if self.dropped_more else []
        return self.dropped + more

    def io_failed(self, exc: BaseException, *, raise_strict: bool = True) -> None:
        """Writing failed: note it, log it the first time, raise it in strict mode."""
        self.note_degraded(str(exc))
        if not self.io_reported:
            self.io_reported = True
            log.error("flowtape: recording %s is degraded (the workflow goes on): %s",
                      self.recording_id, exc)
        if self.strict and raise_strict:
            if isinstance(exc, RecordingWriteError):
                raise exc
            raise RecordingWriteError(str(exc)) from exc

    def store_failed(self, method: str, exc: Exception) -> None:
        """The store refused ``begin``/``finish``: note and log it (raise in strict mode)."""
        if self.strict:
            raise exc
        log.warning("flowtape: store %s failed for recording %s: %s", method,
                    self.recording_id, exc)
        self.note_degraded(f"store {method} failed: {exc}")

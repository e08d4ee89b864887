"""One catalog row: `CatalogRow`, made from a recording's header and footer (`row_from_log`).

What the catalog keeps of a recording, and the checks that keep a malformed
header or footer out of it (an id that is not an id, a start that is not a
time, a number SQLite cannot hold): such a file is a `RecordingReadError`
naming it, so a store reports that one file and goes on. Times are integer
microseconds since the epoch (UTC), durations nanoseconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NoReturn

import msgspec

from ..errors import RecordingReadError
from ..format.events import Footer, Header
from .ids import is_valid_id
from .store import RecordingInfo, aware, parse_started_at

__all__ = ["EPOCH", "CatalogRow", "decode_tags", "from_us", "merge_notes", "row_from_log",
           "to_us"]

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

_tags_decoder = msgspec.json.Decoder(list[str])
_encode = msgspec.json.encode
decode_tags = _tags_decoder.decode


class CatalogRow(msgspec.Struct, kw_only=True, gc=False):
    """One catalog row (internal; stores turn it into a `RecordingInfo`)."""

    recording_id: str
    workflow: str
    status: str
    success: bool | None
    started_us: int
    duration_ns: int = 0
    size: int = 0
    event_count: int = 0
    node_count: int = 0
    team_count: int = 0
    max_depth: int = 0
    error_type: str | None = None
    tags: list[str] = []
    path: str = ""
    """Relative to the store's root for its own files; absolute for a file kept elsewhere."""
    location: str = "local"
    """``local`` (a file of a file store), ``spool`` or ``remote`` (object stores)."""
    host: str = ""
    pid: int = 0
    degraded: list[str] = []
    """What the recorder could not record: the footer's notes and those given to finish."""

    def values(self) -> tuple[Any, ...]:
        return (self.recording_id, self.workflow, self.status,
                None if self.success is None else int(self.success), self.started_us,
                self.duration_ns, self.size, self.event_count, self.node_count, self.team_count,
                self.max_depth, self.error_type, _encode(self.tags).decode(), self.path,
                self.location, self.host, self.pid, _encode(self.degraded).decode())

    def info(self, where: str) -> RecordingInfo:
        """The `RecordingInfo` of this row, its recording being at ``where`` (a path or URL)."""
        return RecordingInfo(
            recording_id=self.recording_id, workflow=self.workflow, status=self.status,
            success=self.success, started_at=from_us(self.started_us),
            duration_ns=self.duration_ns, tags=self.tags, size=self.size,
            event_count=self.event_count, node_count=self.node_count,
            error_type=self.error_type, path=where, team_count=self.team_count,
            max_depth=self.max_depth, degraded=self.degraded)


decode_tags = _tags_decoder.decode


def merge_notes(*groups: Sequence[str]) -> list[str]:
    """The notes of ``groups`` in order, each once."""
    return list(dict.fromkeys(note for group in groups for note in group))


def to_us(when: dt.datetime) -> int:
    """Microseconds since the epoch; naive datetimes mean local time."""
    delta = aware(when) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> dt.datetime:
    """The aware UTC datetime for microseconds since the epoch (exact)."""
    return EPOCH + dt.timedelta(microseconds=us)


#: What one catalog column can hold: SQLite integers are signed 64-bit.
_MAX_INT = 2**63 - 1
#: Process ids are 32-bit everywhere (pid_t on POSIX, DWORD on Windows).
_MAX_PID = 2**32 - 1


def row_from_log(source: str, header: Header, footer: Footer | None, event_count: int,
                 size: int, *, path: str, location: str = "local", status: str | None = None
                 ) -> CatalogRow:
    """The catalog row of the recording at ``source`` (a path or URL), from its header and
    footer.

    Without a footer the status is ``incomplete`` unless ``status`` says
    otherwise (``running`` for a writer that is still alive). A header or
    footer the catalog cannot hold as it is (an id that is not an id, a start
    that is not a time, a number out of range) raises `RecordingReadError`
    naming ``source`` and what is wrong, so the store reports that one file
    and goes on with the rest.
    """
    error = footer.error if footer is not None else None
    final = footer.status if footer is not None else (status or "incomplete")
    counts = footer.counts if footer is not None else None
    if not is_valid_id(header.recording_id):
        _malformed(source, f"the header's recording_id {header.recording_id!r} is not a "
                   "recording id (ids hold only letters, digits, '_' and '-')")
    try:
        started_us = to_us(parse_started_at(header.started_at))
    except (ValueError, OverflowError):
        _malformed(source, f"the header's started_at {header.started_at!r} is not an RFC 3339 "
                   "time")
    if not 0 <= header.pid <= _MAX_PID:
        _malformed(source, f"the header's pid {header.pid} is not a process id")
    numbers = {"event_count": event_count}
    if footer is not None:
        numbers.update(duration_ns=footer.duration_ns, **msgspec.structs.asdict(footer.counts))
    for name, value in numbers.items():
        if not 0 <= value <= _MAX_INT:
            _malformed(source, f"the footer's {name} {value} is out of range")
    return CatalogRow(
        recording_id=header.recording_id,
        workflow=header.workflow,
        status=final,
        success=None if final in ("running", "incomplete") else final == "completed",
        started_us=started_us,
        duration_ns=footer.duration_ns if footer is not None else 0,
        size=size,
        event_count=event_count,
        node_count=counts.nodes if counts is not None else 0,
        team_count=counts.teams if counts is not None else 0,
        max_depth=counts.max_depth if counts is not None else 0,
        error_type=str(error["type"]) if error and error.get("type") else None,
        tags=[str(t) for t in header.tags],
        path=path,
        location=location,
        host=header.host,
        pid=header.pid,
        degraded=list(footer.degraded) if footer is not None else [],
    )


def _malformed(source: str, what: str) -> NoReturn:
    raise RecordingReadError(source, f"{what}; the file is left out of the catalog (fix it, "
                             "or move it out of the store)")

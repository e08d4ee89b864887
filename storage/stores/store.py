r"""The store contract: `Store`, and what it answers with and is asked by.

`Store` is the contract every store keeps (file, memory, object storage;
docs/stores.md). The recorder asks a store for a path to write
(`Store.path_for`), tells it when a recording begins (`Store.begin`) and when
it is closed (`Store.finish`); the read side lists, gets, opens, deletes,
counts and prunes through it, with a `RecordingQuery`, getting
`RecordingInfo`\ s back. Picking a store from a URL is `registry.open_store`;
this module imports no store, so every store can import it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import msgspec

from ..format.events import Header
from ..format.header import parse_started_at

if TYPE_CHECKING:
    from ..format.reader import LogReader
    from .catalogued import ReindexResult, VerifyResult
    from .retention import RetentionPolicy, RetentionResult
    from .stats import StoreStats

__all__ = [
    "RECORDING_SUFFIXES",
    "RecordingInfo",
    "RecordingQuery",
    "Store",
    "aware",
    "parse_started_at",
]

RECORDING_SUFFIXES = (".jsonl.zst", ".jsonl.gz", ".jsonl")


class RecordingInfo(msgspec.Struct, kw_only=True):
    """One catalogued recording: what `Store.list` and `Store.get` return."""

    recording_id: str
    workflow: str
    status: str
    """``running``, ``completed``, ``failed``, ``timed_out``, ``cancelled`` or ``incomplete``."""
    success: bool | None
    """True for ``completed``, False for a run that ended badly, None while unknown."""
    started_at: dt.datetime
    """UTC, from the header (or the start a published-API ``save`` was told)."""
    duration_ns: int = 0
    tags: list[str] = []
    size: int = 0
    """Bytes of the recording file."""
    event_count: int = 0
    node_count: int = 0
    error_type: str | None = None
    path: str = ""
    """Where the recording is: a local path, or a URL for an object store."""
    team_count: int = 0
    max_depth: int = 0
    degraded: list[str] = []
    """What the recorder could not record (disk full, a footer it could not write...):
    the footer's notes and those the recorder gave `Store.finish`."""


# Sort keys: RecordingInfo fields, plus the earlier-published names for some of them.
SORT_ALIASES = {
    "id": "recording_id",
    "workflow_name": "workflow",
    "duration": "duration_ns",
    "duration_seconds": "duration_ns",
    "file_size_bytes": "size",
    "size_bytes": "size",
    "timestamp": "started_at",
    "start": "started_at",
}
SORT_KEYS = tuple(RecordingInfo.__struct_fields__)


class RecordingQuery(msgspec.Struct, kw_only=True):
    """Filters, order and page for `Store.list` (and the async facades' ``list``).

    Durations are in seconds; dates are datetimes, naive ones meaning local
    time; ``start``/``end`` are accepted as aliases of ``start_date``/``end_date``
    and both ends are inclusive. ``status`` is one status or a list of them.
    ``tags`` match all of them (``tags_mode="all"``) or any (``"any"``).
    ``sort_by`` is a `RecordingInfo` field (or one of the published names
    ``workflow_name``, ``duration``, ``file_size_bytes``).
    Raises ValueError for a bad mode, order, sort key, limit or offset.
    """

    workflow_name: str | None = None
    success: bool | None = None
    status: str | list[str] | tuple[str, ...] | None = None
    """One status, or several (any of them matches)."""
    tags: list[str] | tuple[str, ...] | None = None
    tags_mode: str = "all"
    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    error_type: str | None = None
    sort_by: str = "started_at"
    sort_order: str = "desc"
    limit: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        if self.start_date is None:
            self.start_date = self.start
        if self.end_date is None:
            self.end_date = self.end
        if isinstance(self.tags, str):
            self.tags = [self.tags]
        if self.status is not None and not isinstance(self.status, str):
            self.status = list(self.status)
        if self.tags_mode not in ("all", "any"):
            raise ValueError(f"tags_mode must be 'all' or 'any', not {self.tags_mode!r}")
        if self.sort_order not in ("asc", "desc"):
            raise ValueError(f"sort_order must be 'asc' or 'desc', not {self.sort_order!r}")
        self.sort_by = SORT_ALIASES.get(self.sort_by, self.sort_by)
        if self.sort_by not in SORT_KEYS:
            raise ValueError(f"cannot sort by {self.sort_by!r}; choose one of "
                             f"{', '.join(SORT_KEYS)}")
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"limit must be 0 or more, not {self.limit!r}")
        if self.offset < 0:
            raise ValueError(f"offset must be 0 or more, not {self.offset!r}")

    def statuses(self) -> list[str]:
        """The statuses ``status`` selects, as a list (empty when it selects none)."""
        if self.status is None:
            return []
        return [self.status] if isinstance(self.status, str) else list(self.status)

    def matches(self, info: RecordingInfo) -> bool:
        """True when ``info`` passes every filter (the catalog answers the same in SQL)."""
        if self.workflow_name is not None and info.workflow != self.workflow_name:
            return False
        if self.success is not None and info.success is not self.success:
            return False
        if self.status is not None and info.status not in self.statuses():
            return False
        if self.tags:
            have = set(info.tags)
            want = set(self.tags)
            if self.tags_mode == "all" and not want <= have:
                return False
            if self.tags_mode == "any" and not want & have:
                return False
        started = info.started_at
        if self.start_date is not None and started < aware(self.start_date):
            return False
        if self.end_date is not None and started > aware(self.end_date):
            return False
        secs = info.duration_ns / 1e9
        if self.min_duration is not None and secs < self.min_duration:
            return False
        if self.max_duration is not None and secs > self.max_duration:
            return False
        return self.error_type is None or info.error_type == self.error_type

    def apply(self, infos: Iterable[RecordingInfo]) -> list[RecordingInfo]:
        """Filter, sort and page ``infos`` in Python (for lists that are not in a catalog)."""
        rows = [i for i in infos if self.matches(i)]
        key = self.sort_by
        rows.sort(key=lambda i: i.recording_id, reverse=self.sort_order == "desc")
        present = [i for i in rows if getattr(i, key) is not None]
        present.sort(key=lambda i: getattr(i, key), reverse=self.sort_order == "desc")
        rows = present + [i for i in rows if getattr(i, key) is None]  # None sorts last
        rows = rows[self.offset:]
        return rows if self.limit is None else rows[: self.limit]


def aware(when: dt.datetime) -> dt.datetime:
    """``when`` with a time zone: naive datetimes mean local time (SPEC §7)."""
    return when.astimezone() if when.tzinfo is None else when


@runtime_checkable
class Store(Protocol):
    """Where recordings live. `FileStore`, `MemoryStore` and `FsspecStore` implement it.

    Ids given to ``get``/``open``/``delete`` are a full id, a unique prefix, a
    unique suffix of 4 or more characters, or ``latest``; anything but
    ``[0-9A-Za-z_-]`` raises `InvalidIdError`, several matches `AmbiguousIdError`.
    """

    url: str

    def path_for(self, recording_id: str, codec: str) -> str:
        """The local path a new recording with this id should be written to."""
        ...

    def begin(self, header: Header, path: str) -> None:
        """A recording started writing at ``path`` (catalogued as ``running``)."""
        ...

    def finish(self, recording_id: str, path: str, *, degraded: Sequence[str] = ()) -> None:
        """The recording at ``path`` was closed (or abandoned); catalogue its outcome.

        ``degraded``: what the recorder could not record (the catalog row keeps
        it beside the footer's notes); a file closed without a footer is then
        ``incomplete``, never ``running``.
        """
        ...

    def list(self, query: RecordingQuery | None = None) -> list[RecordingInfo]:
        """Recordings matching ``query`` (all of them, newest first, by default)."""
        ...

    def get(self, id_or_prefix: str) -> RecordingInfo:
        """The recording with this id or unique id prefix (``latest`` for the newest)."""
        ...

    def handles(self, ids: Iterable[str]) -> dict[str, str]:
        """The shortest unique prefix or suffix (4 or more characters) naming each id."""
        ...

    def open(self, id_or_prefix: str, *, recover: bool = False) -> LogReader:
        """A reader for the recording."""
        ...

    def local_path(self, id_or_prefix: str) -> str:
        """A local file holding the recording (object stores download it first)."""
        ...

    def delete(self, id_or_prefix: str, *, force: bool = False) -> bool:
        """Remove the recording; False if there was none."""
        ...

    def stats(self, query: RecordingQuery | None = None) -> StoreStats:
        """Totals, outcomes, sizes, durations, workflows and errors."""
        ...

    def apply_retention(self, policy: RetentionPolicy, *, dry_run: bool = False
                        ) -> RetentionResult:
        """Delete what ``policy`` does not keep (nothing with ``dry_run``); say what and why."""
        ...

    def reindex(self, *, progress: Callable[[int, int], None] | None = None) -> ReindexResult:
        """Rebuild the catalog from the recordings themselves."""
        ...

    def verify(self, *, deep: bool = False,
               progress: Callable[[int, int], None] | None = None) -> VerifyResult:
        """Check catalog against recordings; drop rows whose recording vanished."""
        ...

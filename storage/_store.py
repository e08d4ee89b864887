"""Stores: where recordings live, and how they are found again.

`Store` is the contract every store keeps (file, memory, object storage).
The recorder asks a store for a path to write (`Store.path_for`), tells it
when a recording begins and when it is closed, and the read side lists,
gets, opens and deletes through it. `open_store` picks the implementation
from the URL scheme.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import msgspec

from ._reader import LogReader
from .errors import AmbiguousIdError, RecordingNotFoundError, StoreError
from .events import Footer, Header
from .ids import validate_id

__all__ = [
    "DEFAULT_STORE",
    "FileStore",
    "RecordingInfo",
    "RecordingQuery",
    "Store",
    "default_store_url",
    "info_from_log",
    "open_store",
]

DEFAULT_STORE = "./recordings"
RECORDING_SUFFIXES = (".jsonl.zst", ".jsonl.gz", ".jsonl")


def default_store_url() -> str:
    """``$FLOWTAPE_STORE`` or ``./recordings``, read now (not cached at import)."""
    return os.environ.get("FLOWTAPE_STORE") or DEFAULT_STORE


class RecordingInfo(msgspec.Struct, kw_only=True):
    """One catalogued recording: what `Store.list` and `Store.get` return."""

    recording_id: str
    workflow: str
    status: str
    success: bool | None
    started_at: dt.datetime
    duration_ns: int = 0
    tags: list[str] = []
    size: int = 0
    event_count: int = 0
    node_count: int = 0
    error_type: str | None = None
    path: str = ""


class RecordingQuery(msgspec.Struct, kw_only=True):
    """Filters, order and page for `Store.list` (durations in seconds).

    ``start``/``end`` are accepted as aliases of ``start_date``/``end_date``;
    naive datetimes mean local time.
    """

    workflow_name: str | None = None
    success: bool | None = None
    status: str | None = None
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
        if self.tags_mode not in ("all", "any"):
            raise ValueError(f"tags_mode must be 'all' or 'any', not {self.tags_mode!r}")
        if self.sort_order not in ("asc", "desc"):
            raise ValueError(f"sort_order must be 'asc' or 'desc', not {self.sort_order!r}")

    def matches(self, info: RecordingInfo) -> bool:
        """True when ``info`` passes every filter."""
        if self.workflow_name is not None and info.workflow != self.workflow_name:
            return False
        if self.success is not None and info.success is not self.success:
            return False
        if self.status is not None and info.status != self.status:
            return False
        if self.tags:
            have = set(info.tags)
            want = set(self.tags)
            if self.tags_mode == "all" and not want <= have:
                return False
            if self.tags_mode == "any" and not want & have:
                return False
        started = info.started_at
        if self.start_date is not None and started < _aware(self.start_date):
            return False
        if self.end_date is not None and started > _aware(self.end_date):
            return False
        secs = info.duration_ns / 1e9
        if self.min_duration is not None and secs < self.min_duration:
            return False
        if self.max_duration is not None and secs > self.max_duration:
            return False
        return self.error_type is None or info.error_type == self.error_type

    def apply(self, infos: Iterable[RecordingInfo]) -> list[RecordingInfo]:
        """Filter, sort and page ``infos``."""
        rows = [i for i in infos if self.matches(i)]
        key = self.sort_by
        if key not in RecordingInfo.__struct_fields__:
            raise ValueError(
                f"cannot sort by {key!r}; choose one of {', '.join(RecordingInfo.__struct_fields__)}"
            )
        rows.sort(key=lambda i: (getattr(i, key) is None, getattr(i, key) or 0, i.recording_id),
                  reverse=self.sort_order == "desc")
        rows = rows[self.offset:]
        return rows if self.limit is None else rows[: self.limit]


def _aware(when: dt.datetime) -> dt.datetime:
    return when.astimezone() if when.tzinfo is None else when


def info_from_log(path: str, header: Header, footer: Footer | None, event_count: int,
                  size: int) -> RecordingInfo:
    """The catalog row for a recording file, from its header and footer."""
    status = footer.status if footer is not None else "incomplete"
    error = footer.error if footer is not None else None
    return RecordingInfo(
        recording_id=header.recording_id,
        workflow=header.workflow,
        status=status,
        success=(status == "completed") if footer is not None else None,
        started_at=dt.datetime.fromisoformat(header.started_at.replace("Z", "+00:00")),
        duration_ns=footer.duration_ns if footer is not None else 0,
        tags=list(header.tags),
        size=size,
        event_count=event_count,
        node_count=footer.counts.nodes if footer is not None else 0,
        error_type=(error or {}).get("type"),
        path=path,
    )


@runtime_checkable
class Store(Protocol):
    """Where recordings live. File, memory and object stores implement this."""

    url: str

    def path_for(self, recording_id: str, codec: str) -> str:
        """The local path a new recording with this id should be written to."""
        ...

    def begin(self, header: Header, path: str) -> None:
        """A recording started writing at ``path``."""
        ...

    def finish(self, recording_id: str, path: str) -> None:
        """The recording at ``path`` was closed (or abandoned); catalogue it."""
        ...

    def list(self, query: RecordingQuery | None = None) -> list[RecordingInfo]:
        """Recordings matching ``query`` (all of them, newest first, by default)."""
        ...

    def get(self, id_or_prefix: str) -> RecordingInfo:
        """The recording with this id or unique id prefix (`latest` for the newest)."""
        ...

    def open(self, id_or_prefix: str, *, recover: bool = False) -> LogReader:
        """A reader for the recording."""
        ...

    def delete(self, id_or_prefix: str) -> bool:
        """Remove the recording; False if there was none."""
        ...


class FileStore:
    """Recordings as files in one directory (the minimal store: lists by reading files)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.url = self.root

    def path_for(self, recording_id: str, codec: str) -> str:
        from ._codec import suffix_for_codec

        os.makedirs(self.root, exist_ok=True)
        return os.path.join(self.root, validate_id(recording_id) + suffix_for_codec(codec))

    def begin(self, header: Header, path: str) -> None:
        """Nothing to do: the file itself is the record until a catalog exists."""

    def finish(self, recording_id: str, path: str) -> None:
        """Nothing to do: the file itself is the record until a catalog exists."""

    def _files(self) -> list[str]:
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        return sorted(
            os.path.join(self.root, n) for n in names
            if not n.startswith(".") and n.endswith(RECORDING_SUFFIXES)
        )

    def _info(self, path: str) -> RecordingInfo | None:
        try:
            with LogReader.open(path, recover=True) as r:
                return info_from_log(path, r.header, r.footer, r.event_count, r.size)
        except (OSError, StoreError, ValueError):
            return None  # unreadable files are reported by `flowtape verify`, not listed

    def list(self, query: RecordingQuery | None = None) -> list[RecordingInfo]:
        infos = (self._info(p) for p in self._files())
        return (query or RecordingQuery()).apply(i for i in infos if i is not None)

    def _id_of(self, path: str) -> str:
        name = os.path.basename(path)
        for suffix in RECORDING_SUFFIXES:
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name

    def _resolve(self, id_or_prefix: str) -> str:
        files = self._files()
        if id_or_prefix == "latest":
            if not files:
                raise RecordingNotFoundError("latest", f"the store {self.root} is empty")
            return max(files, key=lambda p: (self._id_of(p), os.path.getmtime(p)))
        validate_id(id_or_prefix)
        exact = [p for p in files if self._id_of(p) == id_or_prefix]
        if exact:
            return exact[0]
        hits = [p for p in files if self._id_of(p).startswith(id_or_prefix)]
        if not hits:
            raise RecordingNotFoundError(
                id_or_prefix, f"no recording id starts with it in {self.root}; "
                "see `flowtape list`")
        if len(hits) > 1:
            raise AmbiguousIdError(id_or_prefix, [self._id_of(p) for p in hits])
        return hits[0]

    def get(self, id_or_prefix: str) -> RecordingInfo:
        path = self._resolve(id_or_prefix)
        info = self._info(path)
        if info is None:
            with LogReader.open(path):  # raises the precise error
                pass
            raise RecordingNotFoundError(id_or_prefix)
        return info

    def open(self, id_or_prefix: str, *, recover: bool = False) -> LogReader:
        return LogReader.open(self._resolve(id_or_prefix), recover=recover)

    def delete(self, id_or_prefix: str) -> bool:
        try:
            path = self._resolve(id_or_prefix)
        except RecordingNotFoundError:
            return False
        os.unlink(path)
        return True


def open_store(url: str | os.PathLike[str] | Store | None = None) -> Store:
    """The store at ``url``: a directory path or ``file://`` URL (default ``$FLOWTAPE_STORE``).

    A `Store` passed in is returned as it is.
    """
    if url is None:
        url = default_store_url()
    if not isinstance(url, str | os.PathLike):
        return url
    text = os.fspath(url)
    if text.startswith("file://"):
        return FileStore(text[len("file://"):])
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise StoreError(f"unknown store URL scheme {scheme!r} in {text!r}; use a directory path "
                         "or file://")
    return FileStore(text)


"""What every catalogued store does the same way: query, resolve ids, delete, prune, count.

`CatalogStore` answers `list`/`get`/`stats`/`apply_retention` from the SQLite
catalog (`catalog.Catalog`) and leaves to its subclasses only where a
recording's bytes are: `FileStore` (a directory), `MemoryStore` (a private
temporary directory) and `FsspecStore` (a local spool and a remote prefix).

A row says ``running`` from `Store.begin` until `Store.finish`. A writer that
died in between (SIGKILL, power loss) never calls ``finish``, so before
answering, the store checks the few ``running`` rows the way `LogReader.status`
does: the writer holds an exclusive ``flock`` on its file until it closes it,
and the kernel drops it when the process dies (`writer_alive`). Rows whose
file is no longer locked are re-read from their files and become
``incomplete`` (or whatever their footer says).
"""

from __future__ import annotations

import abc
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import msgspec

from ..errors import (
    AmbiguousIdError,
    RecordingNotFoundError,
    RecordingReadError,
    StoreError,
)
from ..format.events import Header
from ..format.integrity import check_file
from ..format.reader import LogReader
from .catalog import Catalog
from .ids import MIN_SUFFIX, shortest_handles, validate_id
from .liveness import DEFAULT_STALE_AFTER, writer_alive
from .retention import RetentionPolicy, RetentionResult, plan_retention
from .rows import CatalogRow, decode_tags, from_us, merge_notes, row_from_log, to_us
from .stats import StoreStats, compute_stats
from .store import RecordingInfo, RecordingQuery, parse_started_at
from .upkeep import ReindexResult, VerifyResult

__all__ = ["CatalogStore", "ReindexResult", "VerifyResult"]

Progress = Callable[[int, int], None]


class CatalogStore(abc.ABC):
    """Base of the catalogued stores. Subclasses say where a recording's bytes are."""

    url: str
    catalog: Catalog
    stale_after: float = DEFAULT_STALE_AFTER

    # --- where the bytes are (subclasses) ---------------------------------------------
    @abc.abstractmethod
    def _locate_raw(self, path: str, location: str) -> str:
        """`RecordingInfo.path` for a row's ``path`` and ``location``: a local path or a URL."""
        ...

    def _locate(self, row: CatalogRow) -> str:
        return self._locate_raw(row.path, row.location)

    @abc.abstractmethod
    def _local_file(self, row: CatalogRow) -> str:
        """A local file with the recording's bytes (an object store downloads it)."""
        ...

    @abc.abstractmethod
    def _exists(self, row: CatalogRow) -> bool:
        ...

    @abc.abstractmethod
    def _remove(self, row: CatalogRow) -> None:
        """Delete the recording's bytes (never a file outside the store: see `_external`)."""
        ...

    def _external(self, row: CatalogRow) -> bool:
        """True for a file outside the store that only the catalog refers to."""
        return False

    def _absence(self) -> str | None:
        """Why there is no store to read here (a message naming it), or None when there is."""
        return None

    def _prepare_read(self, id_or_prefix: str | None = None) -> None:
        """Before a read: check the id, check there is a store, bring the catalog up to date.

        A store that is not there is a `StoreError` naming it, never an empty
        answer (SPEC §8); writing (`path_for`) creates a file store instead.
        """
        if id_or_prefix is not None and id_or_prefix != "latest":
            validate_id(id_or_prefix)
        self._check_present()
        self._sync()

    def _check_present(self) -> None:
        """Raise `StoreError` (naming the store and the way out) when there is none."""
        reason = self._absence()
        if reason is not None:
            raise StoreError(reason)

    def _uncatalogued(self, recording_id: str) -> CatalogRow | None:
        """The row of a recording named ``recording_id`` that the catalog lacks, if any."""
        return None

    def _sync(self) -> None:  # noqa: B027 - an optional hook; by default nothing to do
        """Bring the catalog up to date before a read (object stores list their prefix)."""

    def _bootstrap(self, conn: sqlite3.Connection) -> None:  # noqa: B027 - an optional hook
        """Called once when this object created the catalog (index what is already there)."""

    # --- connections -----------------------------------------------------------------------
    @contextmanager
    def _conn(self, *, bootstrap: bool = True) -> Iterator[sqlite3.Connection]:
        with self.catalog.connect() as conn:
            if self.catalog.created:
                self.catalog.created = False
                if bootstrap:
                    self._bootstrap(conn)
            yield conn

    def _upsert(self, rows: list[CatalogRow]) -> None:
        with self._conn() as conn, self.catalog.write(conn):
            Catalog.upsert(conn, rows)

    # --- rows ------------------------------------------------------------------------------
    def _infos(self, rows: list[tuple[Any, ...]]) -> list[RecordingInfo]:
        """RecordingInfos straight from `Catalog.query` tuples (the hot loop of `list`)."""
        locate, tags, when = self._locate_raw, decode_tags, from_us
        return [RecordingInfo(
            recording_id=t[0], workflow=t[1], status=t[2],
            success=None if t[3] is None else t[3] == 1, started_at=when(t[4]),
            duration_ns=t[5], tags=tags(t[12]), size=t[6], event_count=t[7],
            node_count=t[8], error_type=t[11], path=locate(t[13], t[14]), team_count=t[9],
            max_depth=t[10], degraded=tags(t[17])) for t in rows]

    def _info(self, row: CatalogRow) -> RecordingInfo:
        return row.info(self._locate(row))

    def _read_row(self, path: str, *, rel: str, location: str) -> CatalogRow:
        """The row for the local recording file ``path`` (a live writer's file: ``running``)."""
        with LogReader.open(path, recover=True) as r:
            row = row_from_log(path, r.header, r.footer, r.event_count, r.size, path=rel,
                               location=location)
        if row.status == "incomplete" and self._live(path, row):
            row.status = "running"
        return row

    def _finished_row(self, recording_id: str, path: str, *, rel: str, location: str,
                      degraded: Sequence[str]) -> CatalogRow | None:
        """The row `Store.finish` catalogues for the closed file ``path`` (None when the
        file is gone: a keep= policy discarded it). Its writer says it is done, so a file
        without a footer is ``incomplete``; the notes join the footer's. Raises
        `StoreError` when the file is not a readable recording."""
        try:
            row = self._read_row(path, rel=rel, location=location)
        except FileNotFoundError:
            return None
        except RecordingReadError as exc:
            raise StoreError(f"cannot catalogue {path} (recording {recording_id}): {exc}"
                             ) from None
        if row.status == "running":
            row.status = "incomplete"
        row.degraded = merge_notes(row.degraded, degraded)
        return row

    def _writer_alive(self, row: CatalogRow) -> bool:
        """Whether the writer of ``row`` is still at work (uploaded objects are finished)."""
        if row.location == "remote":
            return False
        try:
            path = self._local_file(row)
        except (StoreError, RecordingNotFoundError):
            return False
        return self._live(path, row)

    def _live(self, path: str, row: CatalogRow) -> bool:
        return writer_alive(path, row.host, row.pid, row.started_us,
                            stale_after=self.stale_after)

    def _reread(self, row: CatalogRow) -> CatalogRow | None:
        """``row`` read again from its bytes (None when they are gone)."""
        try:
            path = self._local_file(row)
            fresh = self._read_row(path, rel=row.path, location=row.location)
        except (RecordingNotFoundError, FileNotFoundError):
            return None
        except RecordingReadError:
            fresh = msgspec.structs.replace(row, status="incomplete")
        if fresh.status == "running":  # the liveness check above said dead; trust it
            fresh.status = "incomplete"
        fresh.degraded = merge_notes(row.degraded, fresh.degraded)
        return fresh

    def _reconcile(self, conn: sqlite3.Connection) -> list[str]:
        """Mark ``running`` rows whose writer is gone; returns their ids."""
        dead = [r for r in Catalog.with_status(conn, "running") if not self._writer_alive(r)]
        if not dead:
            return []
        fixed: list[str] = []
        try:
            with self.catalog.write(conn):
                for row in dead:
                    current = Catalog.by_id(conn, row.recording_id)
                    if current is None or current.status != "running":
                        continue  # finished meanwhile
                    fresh = self._reread(current)
                    if fresh is None:
                        Catalog.delete(conn, [row.recording_id])
                    else:
                        Catalog.upsert(conn, [fresh])
                    fixed.append(row.recording_id)
        except (StoreError, sqlite3.Error):
            return []  # a read-only catalog still answers; it just stays stale
        return fixed

    def _resolve(self, conn: sqlite3.Connection, id_or_prefix: str) -> CatalogRow:
        if id_or_prefix == "latest":
            row = Catalog.latest(conn)
            if row is None:
                raise RecordingNotFoundError("latest", f"the store {self.url} is empty")
            return row
        validate_id(id_or_prefix)
        row = Catalog.by_id(conn, id_or_prefix)
        if row is not None:
            return row
        # A unique prefix or suffix (ids start with the time: runs of one minute share
        # long prefixes, while their ends are random).
        hits = {h.recording_id: h for h in Catalog.by_prefix(conn, id_or_prefix)}
        if len(id_or_prefix) >= MIN_SUFFIX:
            hits.update((h.recording_id, h) for h in Catalog.by_suffix(conn, id_or_prefix))
        if len(hits) == 1:
            return next(iter(hits.values()))
        if hits:
            raise AmbiguousIdError(id_or_prefix, sorted(hits))
        row = self._uncatalogued(id_or_prefix)
        if row is not None:
            with self.catalog.write(conn):
                Catalog.upsert(conn, [row])
            return row
        raise RecordingNotFoundError(id_or_prefix, f"no recording id starts or ends with it in "
                                     f"{self.url}; see `flowtape list`")

    def _verdict(self, row: CatalogRow) -> str:
        """`IntegrityReport.verdict` of ``row``'s recording (``unreadable`` if it cannot be
        checked at all)."""
        try:
            return check_file(self._local_file(row)).verdict
        except (RecordingReadError, StoreError, OSError):
            return "unreadable"

    def _check_deep(self, row: CatalogRow, result: VerifyResult) -> None:
        """Check every part of ``row``'s recording as `flowtape verify FILE` does (one code
        path: `check_file`) and file it under its verdict in ``result``."""
        try:
            report = check_file(self._local_file(row))
        except (RecordingReadError, StoreError, OSError) as exc:
            result.corrupt.append((row.recording_id, str(exc)))
            return
        if report.verdict == "running":
            result.running.append(row.recording_id)
        elif report.verdict == "incomplete":
            result.incomplete.append(row.recording_id)
        elif report.verdict != "intact":
            result.corrupt.append((row.recording_id, "; ".join(report.problems)))

    # --- the Store API -------------------------------------------------------------------------
    def begin(self, header: Header, path: str) -> None:
        """Catalogue a recording that started writing at ``path`` as ``running``."""
        rel, location = self._address(path)
        self._upsert([CatalogRow(
            recording_id=header.recording_id, workflow=header.workflow, status="running",
            success=None, started_us=to_us(parse_started_at(header.started_at)),
            tags=[str(t) for t in header.tags], path=rel, location=location, host=header.host,
            pid=header.pid)])

    @abc.abstractmethod
    def _address(self, path: str) -> tuple[str, str]:
        """(row path, location) for a local file the recorder wrote."""
        ...

    def list(self, query: RecordingQuery | None = None) -> list[RecordingInfo]:
        """Recordings matching ``query`` (all, newest first, by default), from the catalog."""
        self._prepare_read()
        with self._conn() as conn:
            self._reconcile(conn)
            rows = Catalog.query(conn, query or RecordingQuery())
        return self._infos(rows)

    def get(self, id_or_prefix: str) -> RecordingInfo:
        """The recording with this id, a unique prefix or suffix (4 or more characters) of
        it, or ``latest``.

        Raises `StoreError` when there is no store, `InvalidIdError`,
        `AmbiguousIdError` (listing the candidates),
        `RecordingNotFoundError`.
        """
        self._prepare_read(id_or_prefix)
        with self._conn() as conn:
            self._reconcile(conn)
            return self._info(self._resolve(conn, id_or_prefix))

    def handles(self, ids: Iterable[str]) -> dict[str, str]:
        """The shortest text naming each of ``ids`` in this store: a unique prefix, or a
        unique suffix of 4 or more characters (what `flowtape list` shows), among the
        ids the catalog holds now (no new listing of an object store: `list` just made
        one)."""
        self._check_present()
        with self._conn() as conn:
            return shortest_handles(ids, Catalog.ids(conn))

    def open(self, id_or_prefix: str, *, recover: bool = False) -> LogReader:
        """A `LogReader` for the recording (see `get` for the errors)."""
        return LogReader.open(self.local_path(id_or_prefix), recover=recover)

    def local_path(self, id_or_prefix: str) -> str:
        """A local file holding the recording (see `get` for the errors)."""
        self._prepare_read(id_or_prefix)
        with self._conn() as conn:
            row = self._resolve(conn, id_or_prefix)
            try:
                path = self._local_file(row)
                if os.path.exists(path):
                    return path
            except (FileNotFoundError, RecordingNotFoundError):
                pass
            if row.status != "running":
                with self.catalog.write(conn):
                    Catalog.delete(conn, [row.recording_id])
        raise RecordingNotFoundError(row.recording_id, "its file vanished from the store; the "
                                     "catalog row was dropped (see `flowtape verify`)")

    def delete(self, id_or_prefix: str, *, force: bool = False) -> bool:
        """Remove the recording and its row; False if there was none.

        A recording still being written is refused with `StoreError` unless
        ``force``. Raises `InvalidIdError` and `AmbiguousIdError` like `get`.
        """
        self._prepare_read(id_or_prefix)
        with self._conn() as conn:
            try:
                row = self._resolve(conn, id_or_prefix)
            except RecordingNotFoundError:
                return False
            if row.status == "running" and not force and self._writer_alive(row):
                raise StoreError(f"recording {row.recording_id} is still being written (pid "
                                 f"{row.pid} on {row.host or 'this host'}); wait for it to "
                                 "finish, or pass force=True")
            with self.catalog.write(conn):
                self._remove(row)
                Catalog.delete(conn, [row.recording_id])
        return True

    def stats(self, query: RecordingQuery | None = None) -> StoreStats:
        """Totals, outcomes, sizes, duration percentiles, workflows, oldest/newest, errors."""
        self._prepare_read()
        with self._conn() as conn:
            self._reconcile(conn)
            return compute_stats(conn, query)

    def apply_retention(self, policy: RetentionPolicy, *, dry_run: bool = False,
                        now: Any = None) -> RetentionResult:
        """Delete what ``policy`` does not keep; with ``dry_run`` only say what would go.

        Each deletion removes the file and the row in one catalog transaction
        that first re-reads the row, so recordings that finished, started or
        were deleted meanwhile by another process are handled correctly, and
        a ``running`` recording is never touched.
        """
        self._prepare_read()
        with self._conn() as conn:
            self._reconcile(conn)
            rows = Catalog.where(conn)
            items, protected = plan_retention(rows, policy, now=now)
            external = {r.recording_id for r in rows if self._external(r)}
            items = [msgspec.structs.replace(
                item, size=0, reason=item.reason + "; only its catalog row goes (the file is "
                "outside the store and is left alone)") if item.recording_id in external else item
                for item in items]
            result = RetentionResult(policy=policy, dry_run=dry_run, deleted=items,
                                     total_recordings=len(rows),
                                     total_size_bytes=sum(r.size for r in rows),
                                     protected=protected)
            if dry_run:
                return result
            done = []
            errors: list[tuple[str, str]] = []
            for item in items:
                with self.catalog.write(conn):
                    current = Catalog.by_id(conn, item.recording_id)
                    if current is None or current.status == "running":
                        continue
                    try:
                        self._remove(current)
                    except (OSError, StoreError) as exc:
                        errors.append((item.recording_id, str(exc)))
                        continue
                    Catalog.delete(conn, [item.recording_id])
                done.append(item)
            result.deleted = done
            result.errors = errors
            return result

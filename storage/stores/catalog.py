"""The SQLite catalog: one row per recording, so queries never open a recording.

A store keeps ``catalog.sqlite`` beside its recordings (docs/stores.md
§Catalog). WAL mode lets readers go on while one writer commits; a busy
timeout makes concurrent writers (several recording processes) wait their
turn instead of failing. A store object holds no handle: each operation
borrows the process's one connection to that catalog file (`connections`), so
stores are cheap to make, safe to share between threads and to use after
``fork``, and need no closing.

A row is a `rows.CatalogRow`. Times are stored as integer microseconds
since the epoch (UTC), durations as nanoseconds; tags twice — as a JSON list
to hand back, and one row per tag in ``recording_tags`` for the
``tags_mode="all"|"any"`` filters. No sqlite3 exception leaves this module:
they become `StoreError`.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import msgspec

from ..errors import StoreError
from .connections import BUSY_TIMEOUT_S, Pooled, acquire, close_connections
from .rows import CatalogRow, to_us
from .store import RecordingQuery

__all__ = ["CATALOG_NAME", "Catalog", "Skipped", "close_connections", "where_clause"]

CATALOG_NAME = "catalog.sqlite"

_tags_decoder = msgspec.json.Decoder(list[str])

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS recordings (
        id          TEXT PRIMARY KEY,
        workflow    TEXT NOT NULL,
        status      TEXT NOT NULL,
        success     INTEGER,
        started_at  INTEGER NOT NULL,
        duration_ns INTEGER NOT NULL DEFAULT 0,
        size        INTEGER NOT NULL DEFAULT 0,
        event_count INTEGER NOT NULL DEFAULT 0,
        node_count  INTEGER NOT NULL DEFAULT 0,
        team_count  INTEGER NOT NULL DEFAULT 0,
        max_depth   INTEGER NOT NULL DEFAULT 0,
        error_type  TEXT,
        tags        TEXT NOT NULL DEFAULT '[]',
        path        TEXT NOT NULL,
        location    TEXT NOT NULL DEFAULT 'local',
        host        TEXT NOT NULL DEFAULT '',
        pid         INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE IF NOT EXISTS recording_tags (
        tag TEXT NOT NULL,
        id  TEXT NOT NULL,
        PRIMARY KEY (tag, id)
    ) WITHOUT ROWID""",
    # One index per common filter, each ending in the sort it serves and then the id (the
    # tie-breaker of every ORDER BY), so SQLite never sorts the rows it returns.
    "CREATE INDEX IF NOT EXISTS rec_started ON recordings (started_at, id)",
    "CREATE INDEX IF NOT EXISTS rec_workflow ON recordings (workflow, started_at, id)",
    "CREATE INDEX IF NOT EXISTS rec_status ON recordings (status, started_at, id)",
    "CREATE INDEX IF NOT EXISTS rec_success ON recordings (success, started_at, id)",
    "CREATE INDEX IF NOT EXISTS rec_error ON recordings (error_type, started_at, id)",
    "CREATE INDEX IF NOT EXISTS rec_duration ON recordings (duration_ns, id)",
    "CREATE INDEX IF NOT EXISTS rec_size ON recordings (size, id)",
    "CREATE INDEX IF NOT EXISTS tags_id ON recording_tags (id)",
)

#: Schema version -> the statements that bring the one before it there (``PRAGMA
#: user_version`` holds the version; a new catalog runs them all).
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: _SCHEMA,
    # Objects an object store could not catalogue (unreadable, malformed), and their size
    # when it looked: they are not read again on every query, only once they change.
    2: ("""CREATE TABLE IF NOT EXISTS skipped (
        path   TEXT PRIMARY KEY,
        size   INTEGER NOT NULL,
        reason TEXT NOT NULL
    )""",),
    # A skipped object may be a copy of a catalogued recording (the id it holds too).
    3: ("ALTER TABLE skipped ADD COLUMN copy_of TEXT",),
    # What the recorder could not record (`Store.finish(..., degraded=...)`), as JSON.
    4: ("ALTER TABLE recordings ADD COLUMN degraded TEXT NOT NULL DEFAULT '[]'",),
}
SCHEMA_VERSION = max(_MIGRATIONS)

COLUMNS = ("id", "workflow", "status", "success", "started_at", "duration_ns", "size",
           "event_count", "node_count", "team_count", "max_depth", "error_type", "tags", "path",
           "location", "host", "pid", "degraded")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM recordings"
_UPSERT = (f"INSERT OR REPLACE INTO recordings ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(COLUMNS))})")
_SORT_COLUMNS = {"recording_id": "id", "workflow": "workflow", "status": "status",
                 "success": "success", "started_at": "started_at", "duration_ns": "duration_ns",
                 "size": "size", "event_count": "event_count", "node_count": "node_count",
                 "error_type": "error_type", "team_count": "team_count",
                 "max_depth": "max_depth", "tags": "tags", "path": "path",
                 "degraded": "degraded"}
_NULLABLE = frozenset({"success", "error_type"})


class Skipped(NamedTuple):
    """A file a store does not catalogue (see `Catalog.skip`)."""

    size: int
    reason: str
    copy_of: str | None


def _row(t: tuple[Any, ...]) -> CatalogRow:
    return CatalogRow(
        recording_id=t[0], workflow=t[1], status=t[2],
        success=None if t[3] is None else bool(t[3]), started_us=t[4], duration_ns=t[5],
        size=t[6], event_count=t[7], node_count=t[8], team_count=t[9], max_depth=t[10],
        error_type=t[11], tags=_tags_decoder.decode(t[12]), path=t[13], location=t[14],
        host=t[15], pid=t[16], degraded=_tags_decoder.decode(t[17]))


def where_clause(query: RecordingQuery) -> tuple[str, list[Any]]:
    """(``WHERE ...`` or ``""``, arguments) for the filters of ``query``."""
    parts: list[str] = []
    args: list[Any] = []
    if query.workflow_name is not None:
        parts.append("workflow = ?")
        args.append(query.workflow_name)
    if query.success is not None:
        parts.append("success = ?")
        args.append(int(query.success))
    if query.status is not None:
        statuses = query.statuses()
        parts.append(f"status IN ({', '.join('?' * len(statuses))})" if statuses else "0")
        args.extend(statuses)
    if query.tags:
        # Correlated EXISTS probes the (tag, id) key row by row, so a query that also
        # sorts and limits walks its index and stops early instead of sorting matches.
        tags = sorted({str(t) for t in query.tags})
        probe = "EXISTS (SELECT 1 FROM recording_tags t WHERE t.id = recordings.id AND "
        if query.tags_mode == "any":
            parts.append(probe + f"t.tag IN ({', '.join('?' * len(tags))}))")
            args.extend(tags)
        else:
            parts.extend(probe + "t.tag = ?)" for _ in tags)
            args.extend(tags)
    if query.start_date is not None:
        parts.append("started_at >= ?")
        args.append(to_us(query.start_date))
    if query.end_date is not None:
        parts.append("started_at <= ?")
        args.append(to_us(query.end_date))
    if query.min_duration is not None:
        parts.append("duration_ns >= ?")
        args.append(int(query.min_duration * 1e9))
    if query.max_duration is not None:
        parts.append("duration_ns <= ?")
        args.append(int(query.max_duration * 1e9))
    if query.error_type is not None:
        parts.append("error_type = ?")
        args.append(query.error_type)
    return (" WHERE " + " AND ".join(parts)) if parts else "", args


class Catalog:
    """The catalog file at ``path``; created (with its schema) on first use."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.created = False
        """Set when this object created the catalog's tables (the store then indexes what
        is already there, and clears it)."""
        self._checked: Pooled | None = None

    # --- connections --------------------------------------------------------------
    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """This process's connection to the catalog, held for one operation.

        Autocommit; use `write` for a transaction. sqlite3 errors become `StoreError`.
        """
        try:
            pooled = acquire(self.path)
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        with pooled.lock:
            conn = pooled.conn
            try:
                if self._checked is not pooled:  # a new connection may mean a new file
                    self._ensure_schema(conn)
                    self._checked = pooled
                yield conn
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise self._error(exc) from None

    @contextmanager
    def write(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """A write transaction on ``conn`` (``BEGIN IMMEDIATE``: writers queue, never deadlock).

        Inside another `write` on the same connection it joins that one.
        """
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"the catalog {self.path} was written by a newer flowtape (schema "
                             f"{version}, this one reads {SCHEMA_VERSION}); upgrade flowtape")
        if version < SCHEMA_VERSION:
            for attempt in range(100):  # several processes may create the store at once
                try:
                    conn.execute("PRAGMA journal_mode=WAL")
                    break
                except sqlite3.OperationalError:
                    if attempt == 99:
                        raise
                    time.sleep(0.02)
            with self.write(conn):
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in _MIGRATIONS[step]:
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self.created = version == 0

    def _error(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            hint = (f"another process held it for over {BUSY_TIMEOUT_S:.0f} s; try again")
        elif isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                exc, sqlite3.OperationalError):
            hint = ("the catalog is damaged; move it aside and run `flowtape reindex` to "
                    "rebuild it from the recordings")
        else:
            hint = "check the store directory is writable, or run `flowtape reindex`"
        return StoreError(f"catalog {self.path}: {text}; {hint}")

    @staticmethod
    def analyze(conn: sqlite3.Connection) -> None:
        """Refresh the query planner's statistics (after a bulk change such as reindex)."""
        conn.execute("PRAGMA analysis_limit=1000")
        conn.execute("ANALYZE")

    # --- writes (inside `write`) --------------------------------------------------------
    @staticmethod
    def upsert(conn: sqlite3.Connection, rows: Sequence[CatalogRow]) -> None:
        """Insert or replace ``rows`` and their tags."""
        if not rows:
            return
        ids = [(r.recording_id,) for r in rows]
        conn.executemany("DELETE FROM recording_tags WHERE id = ?", ids)
        conn.executemany(_UPSERT, [r.values() for r in rows])
        conn.executemany("INSERT OR IGNORE INTO recording_tags (tag, id) VALUES (?, ?)",
                         [(t, r.recording_id) for r in rows for t in set(r.tags)])

    @staticmethod
    def delete(conn: sqlite3.Connection, ids: Sequence[str]) -> None:
        """Remove the rows (and tags) of ``ids``."""
        pairs = [(i,) for i in ids]
        conn.executemany("DELETE FROM recording_tags WHERE id = ?", pairs)
        conn.executemany("DELETE FROM recordings WHERE id = ?", pairs)

    @staticmethod
    def skip(conn: sqlite3.Connection, path: str, size: int, reason: str,
             copy_of: str | None = None) -> None:
        """Remember that ``path`` (of ``size`` bytes) is not catalogued, and why: it could not
        be read, or it is a copy of the catalogued recording ``copy_of``."""
        conn.execute("INSERT OR REPLACE INTO skipped (path, size, reason, copy_of) "
                     "VALUES (?, ?, ?, ?)", (path, size, reason, copy_of))

    @staticmethod
    def unskip(conn: sqlite3.Connection, paths: Sequence[str]) -> None:
        """Forget the skipped ``paths`` (gone, or read again)."""
        conn.executemany("DELETE FROM skipped WHERE path = ?", [(p,) for p in paths])

    @staticmethod
    def skipped(conn: sqlite3.Connection) -> dict[str, Skipped]:
        """Every skipped path -> its size when skipped, why, and what it is a copy of."""
        return {p: Skipped(n, r, c) for p, n, r, c in
                conn.execute("SELECT path, size, reason, copy_of FROM skipped")}

    # --- reads ------------------------------------------------------------------------------
    @staticmethod
    def query(conn: sqlite3.Connection, query: RecordingQuery) -> list[tuple[Any, ...]]:
        """The rows ``query`` selects, in its order, paged: raw tuples in `COLUMNS` order
        (a list of 10 000 is turned into infos without an intermediate object)."""
        where, args = where_clause(query)
        col = _SORT_COLUMNS[query.sort_by]
        order = "DESC" if query.sort_order == "desc" else "ASC"
        nulls = " NULLS LAST" if col in _NULLABLE else ""
        # With a filter, let its index find the rows and sort those: the unary plus keeps
        # SQLite from walking a whole sort index instead (a 10x difference for
        # `workflow = ? ORDER BY duration_ns`). Filter indexes end in started_at already.
        key = f"+{col}" if where and col != "started_at" else col
        sql = f"{_SELECT}{where} ORDER BY {key} {order}{nulls}, id {order}"
        if query.limit is not None or query.offset:
            sql += " LIMIT ? OFFSET ?"
            args = [*args, -1 if query.limit is None else query.limit, query.offset]
        return conn.execute(sql, args).fetchall()

    @staticmethod
    def by_id(conn: sqlite3.Connection, recording_id: str) -> CatalogRow | None:
        t = conn.execute(f"{_SELECT} WHERE id = ?", (recording_id,)).fetchone()
        return None if t is None else _row(t)

    @staticmethod
    def by_prefix(conn: sqlite3.Connection, prefix: str, limit: int = 20) -> list[CatalogRow]:
        """Rows whose id starts with ``prefix`` (an index range: ids are ASCII below 0x7f)."""
        sql = f"{_SELECT} WHERE id >= ? AND id < ? ORDER BY id LIMIT ?"
        return [_row(t) for t in conn.execute(sql, (prefix, prefix + "\x7f", limit))]

    @staticmethod
    def by_suffix(conn: sqlite3.Connection, suffix: str, limit: int = 20) -> list[CatalogRow]:
        """Rows whose id ends with ``suffix`` (a scan: ids are random at the end)."""
        sql = f"{_SELECT} WHERE substr(id, -?) = ? ORDER BY id LIMIT ?"
        return [_row(t) for t in conn.execute(sql, (len(suffix), suffix, limit))]

    @staticmethod
    def ids(conn: sqlite3.Connection) -> list[str]:
        """Every catalogued id, in order."""
        return [t[0] for t in conn.execute("SELECT id FROM recordings ORDER BY id")]

    @staticmethod
    def latest(conn: sqlite3.Connection) -> CatalogRow | None:
        t = conn.execute(f"{_SELECT} ORDER BY started_at DESC, id DESC LIMIT 1").fetchone()
        return None if t is None else _row(t)

    @staticmethod
    def with_status(conn: sqlite3.Connection, status: str) -> list[CatalogRow]:
        return [_row(t) for t in conn.execute(f"{_SELECT} WHERE status = ?", (status,))]

    @staticmethod
    def where(conn: sqlite3.Connection, condition: str = "", args: Sequence[Any] = ()
              ) -> list[CatalogRow]:
        """Every row matching an SQL ``condition`` (all rows without one)."""
        sql = _SELECT + (f" WHERE {condition}" if condition else "")
        return [_row(t) for t in conn.execute(sql, args)]

    def exists(self) -> bool:
        return os.path.exists(self.path)

"""Store statistics, answered by the catalog in a handful of SQL statements.

Percentile durations use the nearest-rank method over finished recordings
(not ``running`` or ``incomplete``, whose durations are unknown); each is one
indexed ``ORDER BY duration_ns LIMIT 1 OFFSET k``, so 10 000 rows cost about
what three rows do.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from typing import Any

import msgspec

from .catalog import where_clause
from .rows import from_us
from .store import RecordingQuery

__all__ = ["StoreStats", "compute_stats"]

TOP_ERRORS = 10


class StoreStats(msgspec.Struct, kw_only=True):
    """What `Store.stats` returns. Durations in nanoseconds, sizes in bytes."""

    total: int = 0
    successes: int = 0
    """Recordings with status ``completed``."""
    failures: int = 0
    """Recordings that ended badly: ``failed``, ``timed_out``, ``cancelled``."""
    running: int = 0
    incomplete: int = 0
    by_status: dict[str, int] = {}
    total_size: int = 0
    average_size: int = 0
    largest_size: int = 0
    total_events: int = 0
    total_duration_ns: int = 0
    """Sum over finished recordings."""
    mean_duration_ns: int | None = None
    p50_duration_ns: int | None = None
    p90_duration_ns: int | None = None
    p99_duration_ns: int | None = None
    max_duration_ns: int | None = None
    workflow_counts: dict[str, int] = {}
    """Recordings per workflow, most first."""
    workflow_failures: dict[str, int] = {}
    top_errors: list[tuple[str, int]] = []
    """(error type, recordings) for the most common error types, most first."""
    oldest: dt.datetime | None = None
    newest: dt.datetime | None = None

    @property
    def success_rate(self) -> float | None:
        """Successes over finished recordings (None when none finished)."""
        done = self.successes + self.failures
        return self.successes / done if done else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as RFC 3339 strings)."""
        out: dict[str, Any] = msgspec.to_builtins(self)
        out["success_rate"] = self.success_rate
        out["top_errors"] = [list(e) for e in self.top_errors]
        return out


def compute_stats(conn: sqlite3.Connection, query: RecordingQuery | None = None) -> StoreStats:
    """The statistics of the rows ``query`` selects (its sort and page are ignored)."""
    where, args = where_clause(query or RecordingQuery())
    row = conn.execute(
        "SELECT COUNT(*), TOTAL(size), MAX(size), TOTAL(event_count), MIN(started_at), "
        f"MAX(started_at) FROM recordings{where}", args).fetchone()
    total = row[0]
    if not total:
        return StoreStats()
    by_status = dict(conn.execute(
        f"SELECT status, COUNT(*) FROM recordings{where} GROUP BY status ORDER BY 2 DESC",
        args).fetchall())
    workflows = conn.execute(
        f"SELECT workflow, COUNT(*), TOTAL(success = 0) FROM recordings{where} "
        "GROUP BY workflow ORDER BY 2 DESC, 1", args).fetchall()
    joiner = " AND " if where else " WHERE "
    errors = conn.execute(
        f"SELECT error_type, COUNT(*) FROM recordings{where}{joiner}error_type IS NOT NULL "
        f"GROUP BY error_type ORDER BY 2 DESC, 1 LIMIT {TOP_ERRORS}", args).fetchall()
    finished = f"{where}{joiner}status NOT IN ('running', 'incomplete')"
    n, dur_sum, dur_max = conn.execute(
        f"SELECT COUNT(*), TOTAL(duration_ns), MAX(duration_ns) FROM recordings{finished}",
        args).fetchone()
    percentiles: dict[int, int | None] = {}
    for p in (50, 90, 99):
        if not n:
            percentiles[p] = None
            continue
        k = max(0, math.ceil(p / 100 * n) - 1)
        percentiles[p] = conn.execute(
            f"SELECT duration_ns FROM recordings{finished} ORDER BY duration_ns "
            "LIMIT 1 OFFSET ?", [*args, k]).fetchone()[0]
    failures = sum(by_status.get(s, 0) for s in ("failed", "timed_out", "cancelled"))
    return StoreStats(
        total=total,
        successes=by_status.get("completed", 0),
        failures=failures,
        running=by_status.get("running", 0),
        incomplete=by_status.get("incomplete", 0),
        by_status=by_status,
        total_size=int(row[1]),
        average_size=int(row[1] // total),
        largest_size=int(row[2] or 0),
        total_events=int(row[3]),
        total_duration_ns=int(dur_sum),
        mean_duration_ns=int(dur_sum // n) if n else None,
        p50_duration_ns=percentiles[50],
        p90_duration_ns=percentiles[90],
        p99_duration_ns=percentiles[99],
        max_duration_ns=dur_max,
        workflow_counts={w: c for w, c, _ in workflows},
        workflow_failures={w: int(f) for w, _, f in workflows if f},
        top_errors=[(e, c) for e, c in errors],
        oldest=from_us(row[4]),
        newest=from_us(row[5]),
    )

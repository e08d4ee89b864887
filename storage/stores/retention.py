"""Retention: which recordings a policy lets go, and why.

`plan_retention` is a pure function over catalog rows, so every store (file,
memory, object) prunes by the same rules (docs/stores.md §Retention):

* protected recordings are never chosen and do not count toward
  ``max_count`` or ``max_size_gb``: any still ``running``; under
  ``keep_failed`` every run that did not complete (``failed``, ``timed_out``,
  ``cancelled``, and ``incomplete`` — a crash is the run you most want to
  keep); any carrying one of ``tags_to_keep``;
* of the rest, newest first: those older than ``max_age_days`` go; of those
  left, everything after the newest ``max_count``; of those left, the oldest
  ones once the newest add up to more than ``max_size_gb`` (GB = 10^9 bytes).

The stores then delete the chosen files and rows together (`Store.apply_retention`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec

from .rows import CatalogRow, from_us

__all__ = ["RetentionItem", "RetentionPolicy", "RetentionResult", "plan_retention"]

GB = 1_000_000_000


class RetentionPolicy(msgspec.Struct, kw_only=True, frozen=True):
    """What to keep. Every limit is optional; with none set, nothing is deleted.

    ``max_age_days``: delete unprotected recordings older than this.
    ``max_count``: keep at most this many unprotected recordings (the newest).
    ``max_size_gb``: keep unprotected recordings (newest first) up to this many GB.
    ``keep_failed``: protect runs that did not complete successfully.
    ``tags_to_keep``: protect recordings carrying any of these tags.
    """

    max_age_days: float | None = None
    max_count: int | None = None
    max_size_gb: float | None = None
    keep_failed: bool = True
    tags_to_keep: tuple[str, ...] | list[str] = ()

    def __post_init__(self) -> None:
        for name in ("max_age_days", "max_count", "max_size_gb"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or value < 0):
                raise ValueError(f"{name} must be a number of 0 or more, not {value!r}")
        if isinstance(self.tags_to_keep, str):
            msgspec.structs.force_setattr(self, "tags_to_keep", (self.tags_to_keep,))


class RetentionItem(msgspec.Struct, kw_only=True, frozen=True):
    """One recording a retention run deleted (or, in a dry run, would delete)."""

    recording_id: str
    workflow: str
    status: str
    started_at: dt.datetime
    size: int
    """Bytes freed by deleting it."""
    reason: str
    """Which rule chose it, e.g. ``older than 30 days (45.2 days old)``."""


class RetentionResult(msgspec.Struct, kw_only=True):
    """What `Store.apply_retention` did."""

    policy: RetentionPolicy
    dry_run: bool
    deleted: list[RetentionItem]
    """Deleted recordings (the ones that would be, for a dry run), oldest first."""
    total_recordings: int
    """Recordings in the store before the run."""
    total_size_bytes: int
    """Their bytes, before the run."""
    protected: int
    """Recordings no rule may touch (running, failed under keep_failed, kept tags)."""
    errors: list[tuple[str, str]] = []
    """(id, reason) for recordings that were chosen but could not be deleted."""

    @property
    def bytes_freed(self) -> int:
        """Bytes of every recording in `deleted`."""
        return sum(item.size for item in self.deleted)

    @property
    def recording_ids(self) -> list[str]:
        """Ids of every recording in `deleted`."""
        return [item.recording_id for item in self.deleted]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (``to_delete`` is the count, as the published API has it)."""
        return {
            "dry_run": self.dry_run,
            "to_delete": len(self.deleted),
            "bytes_freed": self.bytes_freed,
            "total_recordings": self.total_recordings,
            "total_size_bytes": self.total_size_bytes,
            "protected": self.protected,
            "deleted": msgspec.to_builtins(self.deleted),
            "errors": [list(e) for e in self.errors],
            "policy": msgspec.to_builtins(self.policy),
        }


_NOT_A_SUCCESS = frozenset({"failed", "timed_out", "cancelled", "incomplete"})


def protection(row: CatalogRow, policy: RetentionPolicy) -> str | None:
    """Why ``row`` may not be deleted under ``policy``, or None."""
    if row.status == "running":
        return "still being written"
    if policy.keep_failed and row.status in _NOT_A_SUCCESS:
        return f"{row.status} (keep_failed)"
    keep = set(policy.tags_to_keep)
    hit = sorted(keep.intersection(row.tags))
    if hit:
        return f"tagged {hit[0]!r} (tags_to_keep)"
    return None


def plan_retention(rows: Sequence[CatalogRow], policy: RetentionPolicy, *,
                   now: dt.datetime | None = None) -> tuple[list[RetentionItem], int]:
    """(items to delete, oldest first; number of protected rows)."""
    now = now or dt.datetime.now(dt.UTC)
    ordered = sorted(rows, key=lambda r: (r.started_us, r.recording_id), reverse=True)
    candidates = [r for r in ordered if protection(r, policy) is None]
    protected = len(ordered) - len(candidates)
    chosen: dict[str, str] = {}
    if policy.max_age_days is not None:
        cutoff = now - dt.timedelta(days=policy.max_age_days)
        for r in candidates:
            started = from_us(r.started_us)
            if started < cutoff:
                age = (now - started).total_seconds() / 86_400
                chosen[r.recording_id] = (f"older than {policy.max_age_days:g} days "
                                          f"({age:.1f} days old)")
    left = [r for r in candidates if r.recording_id not in chosen]
    if policy.max_count is not None:
        for rank, r in enumerate(left[policy.max_count:], start=policy.max_count + 1):
            chosen[r.recording_id] = (f"beyond max_count={policy.max_count} "
                                      f"(number {rank} newest)")
        left = left[: policy.max_count]
    if policy.max_size_gb is not None:
        limit = int(policy.max_size_gb * GB)
        total = 0
        over = False
        for r in left:
            total += r.size
            if over or total > limit:
                over = True
                chosen[r.recording_id] = (f"over max_size_gb={policy.max_size_gb:g} "
                                          f"({total / GB:.3f} GB with the newer ones)")
    items = [
        RetentionItem(recording_id=r.recording_id, workflow=r.workflow, status=r.status,
                      started_at=from_us(r.started_us), size=r.size,
                      reason=chosen[r.recording_id])
        for r in reversed(ordered) if r.recording_id in chosen
    ]
    return items, protected

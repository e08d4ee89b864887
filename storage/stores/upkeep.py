"""What `Store.reindex` and `Store.verify` report, and which of several copies to keep.

Every store (file, memory, object) fills the same `ReindexResult` and
`VerifyResult`. Where several files hold one recording id (a backup copy
beside the original), `keep_one_copy` picks the one to catalogue by the
verdict `flowtape verify FILE` gives each (docs/stores.md §reindex and verify).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import msgspec

from .rows import CatalogRow
from .store import RECORDING_SUFFIXES

__all__ = ["ReindexResult", "VerifyResult", "copy_reason", "keep_one_copy"]


class ReindexResult(msgspec.Struct, kw_only=True):
    """What `Store.reindex` found and did."""

    indexed: int = 0
    """Recordings now in the catalog from their files."""
    running: list[str] = []
    """Ids without a footer whose writer is still alive."""
    incomplete: list[str] = []
    """Ids without a footer whose writer is gone (crashed or killed)."""
    dropped: list[str] = []
    """Ids whose catalog row pointed at a recording that no longer exists."""
    unreadable: list[tuple[str, str]] = []
    """(path, reason) for files that are not readable recordings (left alone)."""
    adopted: list[str] = []
    """Ids of ``keep=`` runs whose writer died before deciding; kept under their final name."""
    uploaded: list[str] = []
    """Object stores: ids of spooled recordings uploaded first."""
    duplicates: list[tuple[str, str]] = []
    """(path, reason) for files holding a recording another file holds too: one of them is
    catalogued (the intact one), the others are named here and left alone."""


class VerifyResult(msgspec.Struct, kw_only=True):
    """What `Store.verify` found. Rows of vanished recordings are dropped as it goes."""

    checked: int = 0
    missing: list[str] = []
    """Ids whose recording vanished (their rows were dropped)."""
    uncatalogued: list[str] = []
    """Recordings the catalog does not know (`Store.reindex` adds them)."""
    corrupt: list[tuple[str, str]] = []
    """(id, reason) for recordings that fail to read (``deep=True``: whose check finds
    them damaged or unreadable); an object whose header cannot be read has no id, and is
    named by its URL instead."""
    incomplete: list[str] = []
    """``deep=True``: ids whose writer died before the footer (verdict ``incomplete``)."""
    running: list[str] = []
    """``deep=True``: ids still being written; what is written so far is sound (no problem)."""
    duplicates: list[tuple[str, str]] = []
    """(path, reason) for files holding a recording the catalog has from another file (a
    copy: not a problem for the store, but worth removing)."""
    fixed: list[str] = []
    """Ids whose rows were corrected (dead writers, changed sizes)."""
    unreadable: list[tuple[str, str]] = []
    """(path, reason) for files in the store that are not readable recordings, and links
    that are not followed (left alone)."""

    @property
    def ok(self) -> bool:
        """True when nothing was missing, uncatalogued, corrupt, unreadable or incomplete."""
        return not (self.missing or self.uncatalogued or self.corrupt or self.unreadable
                    or self.incomplete)


#: Verdicts (`IntegrityReport.verdict`) from the copy most worth cataloguing to the least.
_VERDICTS = ("intact", "running", "incomplete", "damaged", "unreadable")


def keep_one_copy(copies: Sequence[tuple[CatalogRow, str]], where: Callable[[CatalogRow], str]
                  ) -> tuple[CatalogRow, list[tuple[CatalogRow, str]]]:
    """Of several files holding one recording id, each with its verdict: the row to
    catalogue, and (row, reason) for each other copy.

    The intact copy wins (never a damaged one over an intact one); then the one named
    for its id; then the one with more events. ``where`` locates a row for the reasons.
    """
    def rank(copy: tuple[CatalogRow, str]) -> tuple[int, bool, int, str]:
        row, verdict = copy
        named = os.path.basename(row.path) in {row.recording_id + s for s in RECORDING_SUFFIXES}
        return _VERDICTS.index(verdict), not named, -row.event_count, row.path

    (kept, verdict), *others = sorted(copies, key=rank)
    return kept, [(row, copy_reason(kept.recording_id, where(kept), (v, verdict)))
                  for row, v in others]


def copy_reason(recording_id: str, kept: str, verdicts: tuple[str, str] | None = None) -> str:
    """Why a file is a duplicate, and what to do: ``verdicts`` are (this copy's, the kept
    one's) when they were checked."""
    mine, theirs = (f" ({verdicts[0]})", f" ({verdicts[1]})") if verdicts else ("", "")
    return (f"a second copy of recording {recording_id}{mine}; {kept}{theirs} is the one "
            "catalogued: remove this copy, or move it out of the store")

"""The earlier-published async storage facades (SPEC §9), as thin twins over the sync stores.

`FileRecordingStorage` wraps a `storage.FileStore`, `InMemoryRecordingStorage`
a private `storage.MemoryStore`; every ``await`` runs the store's
synchronous method in a worker thread (`asyncio.to_thread`), so there is one
implementation of listing, retention and statistics, not two. Results keep
their published shapes: metadata dicts, a stats dict, a retention dict whose
``to_delete`` is a count. The stores themselves stay reachable as ``.store``.
"""

from __future__ import annotations

import asyncio
import builtins
import datetime as dt
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from storage import (
    FileStore,
    MemoryStore,
    RecordingInfo,
    RecordingNotFoundError,
    RecordingQuery,
    RetentionPolicy,
    StoreError,
    copy_recording,
    file_checksum,
)

if TYPE_CHECKING:
    from storage import Header

    from ._compat import ExecutionReplayer

__all__ = ["FileRecordingStorage", "InMemoryRecordingStorage", "metadata_dict"]


def metadata_dict(info: RecordingInfo) -> dict[str, Any]:
    """A recording's metadata in the earlier-published shape (``started_at`` in epoch seconds)."""
    return {
        "recording_id": info.recording_id,
        "workflow_name": info.workflow,
        "workflow_id": info.recording_id,
        "started_at": info.started_at.timestamp(),
        "duration_seconds": info.duration_ns / 1e9,
        "success": info.success,
        "status": info.status,
        "tags": list(info.tags),
        "file_size_bytes": info.size,
        "event_count": info.event_count,
        "node_count": info.node_count,
        "team_count": info.team_count,
        "recursion_max_depth": info.max_depth,
        "error_type": info.error_type,
        "path": info.path,
        "degraded": list(info.degraded),
    }


def _policy(policy: Any) -> RetentionPolicy:
    """A `RetentionPolicy` from one, from a dict, or from any object with its attributes."""
    if isinstance(policy, RetentionPolicy):
        return policy
    fields = RetentionPolicy.__struct_fields__
    if isinstance(policy, dict):
        return RetentionPolicy(**{k: v for k, v in policy.items() if k in fields})
    return RetentionPolicy(**{k: getattr(policy, k) for k in fields if hasattr(policy, k)})


class _StorageFacade:
    """The shared body of the two facades; ``store`` is a catalogued sync store."""

    store: FileStore

    def __init__(self, store: FileStore, *, compress: bool = True) -> None:
        self.store = store
        self.compress = compress
        self._codec = "zstd" if compress else "none"

    # --- the published async API --------------------------------------------------------------
    async def save(self, recorder: Any) -> str:
        """Finish ``recorder`` and store its recording; returns the recording id.

        ``recorder.metadata.started_at``, when set, is recorded as the start
        (so age-based retention honours it). Fills the metadata's
        ``file_size_bytes`` and ``checksum``.
        """
        return await asyncio.to_thread(self.save_sync, recorder)

    async def load(self, recording_id: str) -> ExecutionReplayer:
        """The stored recording as a replayer (`RecordingNotFoundError` if there is none)."""
        return await asyncio.to_thread(self.load_sync, recording_id)

    async def list(self, query: RecordingQuery | None = None, **filters: Any
                   ) -> builtins.list[dict[str, Any]]:
        """Metadata dicts of the recordings ``query`` (or ``RecordingQuery(**filters)``) selects."""
        if query is None:
            query = RecordingQuery(**filters)
        infos = await asyncio.to_thread(self.store.list, query)
        return [metadata_dict(i) for i in infos]

    async def get_metadata(self, recording_id: str) -> dict[str, Any] | None:
        """The recording's metadata dict, or None when there is no such recording."""
        try:
            info = await asyncio.to_thread(self.store.get, recording_id)
        except RecordingNotFoundError:
            return None
        return metadata_dict(info)

    async def delete(self, recording_id: str) -> bool:
        """Delete the recording; False if there was none."""
        done = await asyncio.to_thread(self.store.delete, recording_id)
        self._forget([recording_id] if done else [])
        return done

    async def get_storage_stats(self) -> dict[str, Any]:
        """Totals, outcomes, per-workflow counts, sizes and durations as a dict."""
        st = await asyncio.to_thread(self.store.stats)

        def secs(ns: int | None) -> float | None:
            return None if ns is None else ns / 1e9

        return {
            "total_recordings": st.total,
            "success_count": st.successes,
            "failed_count": st.failures,
            "running_count": st.running,
            "incomplete_count": st.incomplete,
            "workflow_counts": dict(st.workflow_counts),
            "total_size_bytes": st.total_size,
            "total_size_mb": st.total_size / (1024 * 1024),
            "average_size_bytes": st.average_size,
            "total_events": st.total_events,
            "total_duration_seconds": st.total_duration_ns / 1e9,
            "p50_duration_seconds": secs(st.p50_duration_ns),
            "p90_duration_seconds": secs(st.p90_duration_ns),
            "p99_duration_seconds": secs(st.p99_duration_ns),
            "oldest_recording": st.oldest.timestamp() if st.oldest else None,
            "newest_recording": st.newest.timestamp() if st.newest else None,
            "top_error_types": dict(st.top_errors),
            "storage_path": self.store.url,
        }

    async def apply_retention_policy(self, policy: Any, dry_run: bool = False
                                     ) -> dict[str, Any]:
        """Apply ``policy``; a dict with ``to_delete`` (a count), ``total_recordings``,
        ``total_size_bytes``, ``bytes_freed`` and the ``deleted`` recordings with reasons."""
        result = await asyncio.to_thread(self.store.apply_retention, _policy(policy),
                                         dry_run=dry_run)
        if not dry_run:
            self._forget(result.recording_ids)
        out = result.to_dict()
        out["recording_ids"] = result.recording_ids
        return out

    # --- the synchronous bodies -------------------------------------------------------------
    def save_sync(self, recorder: Any) -> str:
        """The body of `save`."""
        if not getattr(recorder, "enabled", True):
            raise StoreError(f"recording {recorder.recording_id} was sampled out or disabled; "
                             "there is nothing to save")
        meta = recorder.metadata
        recorder.finalize()
        src = recorder.path
        if src is None or not os.path.exists(src):
            raise StoreError(f"recording {recorder.recording_id} has no file to save (it was "
                             "discarded by its keep= policy, or never started)")
        rid = recorder.recording_id
        dst = self.store.path_for(rid, self._codec)
        overridden = bool(getattr(meta, "started_at_overridden", False))

        def edit(header: Header) -> None:
            if overridden:
                header.started_at = dt.datetime.fromtimestamp(
                    meta.started_at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

        same = os.path.abspath(src) == os.path.abspath(dst)
        if not same or overridden or recorder.options.codec != self._codec:
            copy_recording(src, dst, codec=self._codec, edit_header=edit)
        self.store.finish(rid, dst)
        meta.file_size_bytes = os.path.getsize(dst)
        meta.checksum = file_checksum(dst)
        self._remember(rid)
        return str(rid)

    def load_sync(self, recording_id: str) -> ExecutionReplayer:
        """The body of `load`."""
        from ._compat import ExecutionReplayer  # noqa: PLC0415 (loaded when first used)

        return ExecutionReplayer.load(self.store.local_path(recording_id))

    def _remember(self, recording_id: str) -> None:
        """Hook: a recording was saved."""

    def _forget(self, recording_ids: Sequence[str]) -> None:
        """Hook: recordings were deleted."""


class FileRecordingStorage(_StorageFacade):
    """Recordings in a directory (a `storage.FileStore` with its SQLite catalog).

    ::

        storage = FileRecordingStorage("./recordings")
        rid = await storage.save(recorder)
        replayer = await storage.load(rid)
    """

    def __init__(self, base_path: str | os.PathLike[str] = "./recordings",
                 compress: bool = True) -> None:
        self.base_path = os.fspath(base_path)
        os.makedirs(self.base_path, exist_ok=True)
        super().__init__(FileStore(self.base_path), compress=compress)


class InMemoryRecordingStorage(_StorageFacade):
    """Recordings for this process only (a private `storage.MemoryStore`).

    ``_recordings`` maps each stored id to its `storage.RecordingInfo`.
    """

    store: MemoryStore

    def __init__(self) -> None:
        super().__init__(MemoryStore())
        self._recordings: dict[str, RecordingInfo] = {}

    def clear(self) -> None:
        """Forget every recording."""
        self.store.clear()
        self._recordings.clear()

    def close(self) -> None:
        """Remove the recordings and their temporary directory."""
        self._recordings.clear()
        self.store.close()

    def _remember(self, recording_id: str) -> None:
        self._recordings[recording_id] = self.store.get(recording_id)

    def _forget(self, recording_ids: Sequence[str]) -> None:
        if recording_ids:  # ids may have been prefixes: keep what the store still has
            alive = {i.recording_id for i in self.store.list()}
            for rid in [k for k in self._recordings if k not in alive]:
                del self._recordings[rid]



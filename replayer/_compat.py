"""The earlier-published read side (SPEC §9), kept working on top of the engine.

`ExecutionReplayer` is a `Replayer` with the published names (``load``,
``current_position``, ``metadata``, ``visualize``, ``snapshots``, and
``jump_to_event`` answering True/False); `compare_dict` is the published
shape of `Replayer.compare`; `FileRecordingStorage` and
`InMemoryRecordingStorage` are the async storage facades, thin twins over
the synchronous stores: every ``await`` runs the store's method in a worker
thread (`asyncio.to_thread`), so there is one implementation of listing,
retention and statistics, not two. Results keep their published shapes:
metadata dicts, a stats dict, a retention dict whose ``to_delete`` is a
count. The stores themselves stay reachable as ``.store``.
"""

from __future__ import annotations

import asyncio
import builtins
import datetime as dt
import os
from collections.abc import Sequence
from typing import Any

import msgspec

from storage import (
    FileStore,
    Header,
    MemoryStore,
    RecordingInfo,
    RecordingNotFoundError,
    RecordingQuery,
    RetentionPolicy,
    StateSnapshot,
    Store,
    StoreError,
    copy_recording,
    diff_recordings,
    file_checksum,
    iter_snapshots,
)

from ._replayer import Replayer
from .errors import EventNotFoundError
from .export.dot import to_dot

__all__ = ["ExecutionReplayer", "FileRecordingStorage", "InMemoryRecordingStorage",
           "ReplayMetadata", "compare_dict", "metadata_dict"]


class ReplayMetadata(msgspec.Struct, kw_only=True):
    """What the earlier API's ``replayer.metadata`` held."""

    recording_id: str
    workflow_name: str
    workflow_id: str
    started_at: float
    """Epoch seconds."""
    duration_seconds: float
    success: bool | None
    status: str
    event_count: int
    node_count: int
    team_count: int
    recursion_max_depth: int
    tags: list[str] = []
    file_size_bytes: int = 0


class ExecutionReplayer(Replayer):
    """`Replayer` with the earlier-published names: ``load``, ``current_position``, …"""

    @classmethod
    def load(cls, path: str | os.PathLike[str], store: str | Store | None = None, *,
             recover: bool = False) -> ExecutionReplayer:
        """Open a recording (any codec, whatever the suffix); same as `Replayer.open`.

        Given the name a caller passed to ``await recorder.save(name)``, which
        adds ``.gz`` when compressing (SPEC §9), it opens ``name.gz`` when
        ``name`` itself does not exist.
        """
        text = os.fspath(path)
        if not os.path.exists(text) and os.path.isfile(text + ".gz"):
            text += ".gz"
        r = cls.open(text, store, recover=recover)
        assert isinstance(r, ExecutionReplayer)
        return r

    def jump_to_event(self, seq: int) -> bool:  # type: ignore[override]
        """Put the cursor on the event with this seq: True, or False (no move) if there is none.

        The published answer; `Replayer.jump_to_event` returns the event instead.
        """
        try:
            self._jump(seq)
        except EventNotFoundError:
            return False
        return True

    @property
    def metadata(self) -> ReplayMetadata:
        h, s = self.header, self.summary
        started = dt.datetime.fromisoformat(h.started_at.replace("Z", "+00:00"))
        return ReplayMetadata(
            recording_id=h.recording_id, workflow_name=h.workflow, workflow_id=h.recording_id,
            started_at=started.timestamp(), duration_seconds=s.duration_ns / 1e9,
            success=None if s.status in ("running", "incomplete") else s.status == "completed",
            status=s.status, event_count=s.event_count, node_count=s.nodes,
            team_count=s.teams, recursion_max_depth=s.max_depth, tags=list(h.tags),
            file_size_bytes=self.reader.size,
        )

    @property
    def current_position(self) -> int:
        """The cursor (settable: assigning moves it)."""
        return self.position

    @current_position.setter
    def current_position(self, value: int) -> None:
        if not self.jump_to_position(value) and value == len(self):
            self._move(value)

    def visualize(self, path: str | os.PathLike[str] | None = None) -> str:
        """The run as Graphviz DOT in a graph named ``workflow_execution``; written to ``path``.

        Returns the DOT text (the ``dot`` export of `replayer.export`); render
        it with ``dot -Tsvg``.
        """
        text = to_dot(self, graph_name="workflow_execution")
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    @property
    def snapshots(self) -> list[StateSnapshot]:
        """Every recorded state, in order (``state``, ``node_id``, ``event_id``, ``timestamp``)."""
        return iter_snapshots(self.iter_events())


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


def compare_dict(mine: Replayer, other: Replayer | str | os.PathLike[str]) -> dict[str, Any]:
    """`Replayer.compare`: ``mine`` against ``other`` in the published dict shape (SPEC §9).

    Returns ``metadata_diff`` (mine minus other: ``duration_diff`` in
    seconds, ``node_count_diff``, ``team_count_diff``,
    ``event_count_diff``), ``node_diff`` (sets of node ids:
    ``only_in_self``, ``only_in_other``, ``common`` — the workflow itself
    left out) and ``path_diff`` (``self_path`` / ``other_path``: node ids
    in aligned order; ``first_difference``: None or ``{position,
    self_node, other_node}``, position being the aligned step). Built on the
    §6 diff (`storage.diff_recordings`, timing not compared); ``other`` is a
    `Replayer` or anything `Replayer.open` takes.
    """
    theirs = other if isinstance(other, Replayer) else Replayer.open(other)
    try:
        d = diff_recordings(mine.reader, theirs.reader, compare_timing=False)
        mine_s, theirs_s = mine.summary, theirs.summary
    finally:
        if theirs is not other:
            theirs.close()
    self_path = [s.node for s in d.steps if s.a is not None]
    other_path = [s.node for s in d.steps if s.b is not None]
    ours, their_nodes = set(self_path), set(other_path)
    first = None
    if d.first_divergence is not None:
        fd = d.first_divergence
        first = {"position": fd.position,
                 "self_node": fd.a.node if fd.a is not None else None,
                 "other_node": fd.b.node if fd.b is not None else None}
    return {
        "metadata_diff": {
            "duration_diff": (mine_s.duration_ns - theirs_s.duration_ns) / 1e9,
            "node_count_diff": mine_s.nodes - theirs_s.nodes,
            "team_count_diff": mine_s.teams - theirs_s.teams,
            "event_count_diff": mine_s.event_count - theirs_s.event_count,
        },
        "node_diff": {
            "only_in_self": ours - their_nodes,
            "only_in_other": their_nodes - ours,
            "common": ours & their_nodes,
        },
        "path_diff": {
            "self_path": self_path,
            "other_path": other_path,
            "first_difference": first,
        },
    }

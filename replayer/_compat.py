"""`ExecutionReplayer`: the earlier-published replayer API (SPEC §9) on `Replayer`."""

from __future__ import annotations

import datetime as dt
import os

import msgspec

from storage import StateSnapshot, Store, iter_snapshots

from ._replayer import Replayer
from .errors import EventNotFoundError
from .export.dot import to_dot

__all__ = ["ExecutionReplayer", "ReplayMetadata"]


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

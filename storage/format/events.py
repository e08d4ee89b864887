"""The event model: the header, event and footer lines of a recording.

These Structs are the one definition of what a line holds; `docs/format.md`
describes the same bytes for readers in other languages. Rules for evolving
them (docs/format.md §Versioning): new fields only arrive with defaults, an
existing field never changes type.
"""

from __future__ import annotations

import enum
from typing import Any, Literal

import msgspec

__all__ = [
    "DEFAULT_KEYFRAME_EVERY",
    "END_KINDS",
    "EVENT_KINDS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "START_KINDS",
    "Counts",
    "Event",
    "Footer",
    "Header",
    "RecordingEventType",
    "SeekIndex",
    "Status",
]

FORMAT_NAME = "flowtape"
FORMAT_VERSION = 1
#: After this many patches in a row the next state event holds the full state again (a
#: keyframe; the recorder's ``keyframe_every``, docs/format.md §State), so finding the
#: state at an event applies at most this many patches. The flush defaults are the
#: writer's (`storage.format.writer.DEFAULT_FLUSH_EVERY`, ``DEFAULT_FLUSH_INTERVAL``).
DEFAULT_KEYFRAME_EVERY = 64

Status = Literal["running", "completed", "failed", "timed_out", "cancelled", "incomplete"]

EVENT_KINDS: tuple[str, ...] = (
    "workflow_start",
    "workflow_complete",
    "workflow_error",
    "node_start",
    "node_complete",
    "node_error",
    "team_start",
    "team_complete",
    "team_member_start",
    "team_member_complete",
    "team_message",
    "recursion_enter",
    "recursion_exit",
    "state",
    "checkpoint",
    "custom",
)

#: Kinds that open a span, and the kinds that close one (``span`` = start's seq).
START_KINDS = frozenset({"workflow_start", "node_start", "team_start", "team_member_start",
                         "recursion_enter"})
END_KINDS = frozenset({"workflow_complete", "workflow_error", "node_complete", "node_error",
                       "team_complete", "team_member_complete", "recursion_exit"})


class RecordingEventType(enum.StrEnum):
    """The kinds of §3 as the earlier-published enum; ``.value`` is the kind string."""

    WORKFLOW_START = "workflow_start"
    WORKFLOW_COMPLETE = "workflow_complete"
    WORKFLOW_ERROR = "workflow_error"
    NODE_START = "node_start"
    NODE_COMPLETE = "node_complete"
    NODE_ERROR = "node_error"
    TEAM_START = "team_start"
    TEAM_COMPLETE = "team_complete"
    TEAM_MEMBER_START = "team_member_start"
    TEAM_MEMBER_COMPLETE = "team_member_complete"
    TEAM_MESSAGE = "team_message"
    RECURSION_ENTER = "recursion_enter"
    RECURSION_EXIT = "recursion_exit"
    STATE = "state"
    CHECKPOINT = "checkpoint"
    CUSTOM = "custom"
    # Published aliases.
    STATE_SNAPSHOT = "state"
    TEAM_COMMUNICATION = "team_message"


class Header(msgspec.Struct, kw_only=True, gc=False):
    """First line of every recording. ``format`` and ``version`` come first."""

    kind: Literal["header"] = "header"
    format: str = FORMAT_NAME
    version: int = FORMAT_VERSION
    recording_id: str
    workflow: str
    started_at: str
    """UTC wall clock at start, RFC 3339 with microseconds (``...Z``)."""
    tags: list[str] = []
    codec: str = "zstd"
    config: dict[str, Any] = {}
    host: str = ""
    pid: int = 0
    python: str = ""
    meta: dict[str, Any] = {}
    inputs: Any = None
    entry: str | None = None
    replay_of: str | None = None
    """The id of the recording this one re-executes (SPEC §12)."""
    fork_seq: int | None = None
    """For a forked re-execution: the original's event from which this run may differ."""


class Event(msgspec.Struct, omit_defaults=True, gc=False):
    """One event line. ``seq``, ``ts`` and ``kind`` are always written."""

    seq: int
    ts: int
    """Nanoseconds since the recording started (monotonic clock)."""
    kind: str
    node: str | None = None
    span: int | None = None
    parent: int | None = None
    depth: int = 0
    lane: str | None = None
    attempt: int | None = None
    data: Any = None
    state: Any = None
    patch: list[Any] | None = None

    # --- the earlier-published event shape (SPEC §9) -------------------------
    @property
    def event_id(self) -> int:
        """The event's id: its ``seq``."""
        return self.seq

    @property
    def event_type(self) -> RecordingEventType:
        """The kind as a `RecordingEventType`."""
        return RecordingEventType(self.kind)

    @property
    def timestamp(self) -> float:
        """Seconds since the recording started."""
        return self.ts / 1e9

    @property
    def node_id(self) -> str | None:
        """The node / team / member / workflow id the event is about."""
        return self.node


class Counts(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Totals kept by the writer's caller and stored in the footer."""

    nodes: int = 0
    teams: int = 0
    messages: int = 0
    max_depth: int = 0
    errors: int = 0
    states: int = 0


class SeekIndex(msgspec.Struct, kw_only=True, gc=False):
    """Where each frame starts: ``frames[i] = [first_seq, byte_offset]``."""

    frames: list[tuple[int, int]] = []
    keyframes: list[int] = []
    """The ``seq`` of every state event that holds a full ``state`` (a keyframe)."""
    state_frames: list[int] = []
    """Indices into ``frames`` of the frames holding at least one state event."""


class Footer(msgspec.Struct, kw_only=True, gc=False):
    """Last line of a recording that was closed cleanly."""

    kind: Literal["footer"] = "footer"
    status: str
    event_count: int
    duration_ns: int
    ended_at: str = ""
    error: dict[str, Any] | None = None
    counts: Counts = msgspec.field(default_factory=Counts)
    dropped: list[str] = []
    degraded: list[str] = []
    index: SeekIndex = msgspec.field(default_factory=SeekIndex)

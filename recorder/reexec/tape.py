"""The original recording as re-execution reads it: a tree of recorded executions.

Each node, team, member and recursion span of the recording becomes a
`Recorded`, under the one that enclosed it, with what matching needs — its
node id, attempt, lane and occurrence among its siblings — and what serving
needs: the raw bytes of its recorded inputs and of its end event's data,
decoded only when a call asks for them. The recording is read once, through
`storage` only (slim event views: payloads stay undecoded bytes).

Siblings are indexed by key ``(kind, node id, attempt)`` in recorded order
(`Slot`): the occurrence of a call is its place in its key's list. A child
that ran on its parent's lane ran *sequentially* (the parent's own code
called it); one on another lane ran concurrently (a task, a thread), whose
order among its siblings depends on scheduling. See docs/reexecution.md.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import msgspec

from storage import (
    Event,
    Header,
    LogReader,
    RecordingNotFoundError,
    StateTracker,
    Store,
    iter_event_views,
    open_store,
)

__all__ = ["Key", "Recorded", "Slot", "Tape", "open_recording"]

#: ``(kind, node id, attempt)``: what a call must share with a recorded execution.
Key = tuple[str, str, int]

_SPAN_KIND = {"node_start": "node", "team_start": "team", "team_member_start": "member",
              "recursion_enter": "recursion"}
_END_KIND = {"node_complete": "node", "node_error": "node", "team_complete": "team",
             "team_member_complete": "member", "recursion_exit": "recursion"}


class _StartData(msgspec.Struct):
    inputs: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_start_data = msgspec.json.Decoder(_StartData)


class Recorded:
    """One recorded execution (node, team, member or recursion level), or the workflow."""

    __slots__ = ("attempt", "children", "depth", "end_data", "end_kind", "end_seq", "inner",
                 "inputs", "kind", "lane", "node", "number", "occurrence", "parent", "seq",
                 "seq_children", "seq_cursor", "sequential", "slots", "used_by")

    def __init__(self, seq: int, kind: str, node: str, *, attempt: int, lane: str | None,
                 parent: Recorded | None, inputs: bytes | None, depth: int = 0) -> None:
        self.seq = seq
        self.kind = kind
        self.node = node
        self.attempt = attempt
        self.lane = lane
        self.parent = parent
        self.depth = depth
        #: True when events happened inside its span (spans, states, messages, …).
        self.inner = False
        #: The raw JSON of the start's ``data.inputs`` (None when not recorded).
        self.inputs = inputs
        self.end_seq: int | None = None
        #: ``node_complete`` / ``node_error`` (None: the span never ended).
        self.end_kind: str | None = None
        #: The raw JSON of the end event's ``data``.
        self.end_data = b""
        #: 1-based place among the parent's children with the same key.
        self.occurrence = 0
        #: 1-based place among all executions of this node id (what ``node#n`` names).
        self.number = 0
        #: Ran on its parent's lane (see the module docstring).
        self.sequential = False
        self.children: list[Recorded] = []
        self.slots: dict[Key, Slot] = {}
        #: The sequential children in recorded order, and the first that may be unused.
        self.seq_children: list[Recorded] = []
        self.seq_cursor = 0
        #: The new run's seq of the call that took this execution; None while unused.
        self.used_by: int | None = None

    @property
    def used(self) -> bool:
        return self.used_by is not None

    @property
    def key(self) -> Key:
        return (self.kind, self.node, self.attempt)

    def path(self) -> list[str]:
        """The ids of the executions enclosing this one, outermost first (not the workflow)."""
        out: list[str] = []
        p = self.parent
        while p is not None and p.kind != "workflow":
            out.append(p.node)
            p = p.parent
        out.reverse()
        return out

    def contains(self, seq: int) -> bool:
        """True when event ``seq`` happened inside this execution's span (after its start)."""
        return self.seq < seq and (self.end_seq is None or seq <= self.end_seq)

    def next_sequential(self) -> Recorded | None:
        """The first sequential child no call has taken yet (what should come next here)."""
        kids = self.seq_children
        i = self.seq_cursor
        while i < len(kids) and kids[i].used:
            i += 1
        self.seq_cursor = i
        return kids[i] if i < len(kids) else None

    def __repr__(self) -> str:
        return f"<Recorded {self.kind} {self.node}#{self.occurrence} seq={self.seq}>"


class Slot:
    """A parent's children with one key, in recorded order (occurrence n is ``options[n-1]``)."""

    __slots__ = ("by_inputs", "cursor", "options")

    def __init__(self) -> None:
        self.options: list[Recorded] = []
        self.cursor = 0
        self.by_inputs: dict[bytes | None, list[Recorded]] | None = None

    def first_unused(self) -> Recorded | None:
        opts = self.options
        i = self.cursor
        while i < len(opts) and opts[i].used:
            i += 1
        self.cursor = i
        return opts[i] if i < len(opts) else None

    def occurrence(self, n: int) -> Recorded | None:
        """Occurrence ``n`` when no call has taken it yet."""
        if 0 < n <= len(self.options):
            got = self.options[n - 1]
            return None if got.used else got
        return None

    def with_inputs(self, raw: bytes | None) -> Recorded | None:
        """The first unused option recorded with exactly these input bytes."""
        if self.by_inputs is None:
            self.by_inputs = {}
            for o in self.options:
                self.by_inputs.setdefault(o.inputs, []).append(o)
        for o in self.by_inputs.get(raw, ()):
            if not o.used:
                return o
        return None


class Tape:
    """A recording read for re-execution: its header, its executions, where it is."""

    def __init__(self, path: str, header: Header, *, status: str, root: Recorded,
                 executions: list[Recorded], last_seq: int) -> None:
        self._reader: LogReader | None = None
        self._states: StateTracker | None = None
        self._lock = threading.Lock()
        self.path = path
        self.header = header
        self.status = status
        self.root = root
        #: Every execution but the workflow, in start order.
        self.executions = executions
        self.last_seq = last_seq
        self.by_node: dict[str, list[Recorded]] = {}
        for r in executions:
            if r.kind == "node":
                same = self.by_node.setdefault(r.node, [])
                same.append(r)
                r.number = len(same)

    @property
    def recording_id(self) -> str:
        return self.header.recording_id

    def nodes(self) -> Iterator[Recorded]:
        return (r for r in self.executions if r.kind == "node")

    # --- what happened inside an execution (read again when a served call needs it) ----------
    def events_inside(self, r: Recorded) -> list[Event]:
        """The events inside ``r``'s span, in order (its own start and end left out)."""
        end = r.end_seq if r.end_seq is not None else self.last_seq + 1
        inside = {r.seq}
        out: list[Event] = []
        with self._lock:
            for e in self._open().iter_events(r.seq + 1):
                if e.seq >= end:
                    break
                if e.parent in inside or (e.span in inside and e.kind in _END_KIND):
                    if e.kind in _SPAN_KIND:
                        inside.add(e.seq)
                    out.append(e)
        return out

    def state_at(self, seq: int) -> Any:
        """The recorded state after event ``seq``."""
        with self._lock:
            if self._states is None:
                self._states = StateTracker(self._open())
            return self._states.state_at(seq)

    def _open(self) -> LogReader:
        if self._reader is None:
            self._reader = LogReader.open(self.path)
        return self._reader

    def close(self) -> None:
        """Let go of the file (opened again if needed)."""
        with self._lock:
            if self._reader is not None:
                self._reader.close()
            self._reader = self._states = None

    @classmethod
    def read(cls, reader: LogReader) -> Tape:
        """Build the tree from ``reader``'s events (read once, payloads left as bytes)."""
        header = reader.header
        root: Recorded | None = None
        by_start: dict[int, Recorded] = {}
        executions: list[Recorded] = []
        last = -1
        for e in iter_event_views(reader):
            last = e.seq
            kind = e.kind
            if e.parent is not None and kind not in _END_KIND:
                outer = by_start.get(e.parent)
                if outer is not None:
                    outer.inner = True
            if kind == "workflow_start" and root is None:
                root = Recorded(e.seq, "workflow", e.node or header.workflow, attempt=1,
                                lane=e.lane, parent=None, inputs=None)
                by_start[e.seq] = root
                continue
            span_kind = _SPAN_KIND.get(kind)
            if span_kind is not None:
                parent = by_start.get(e.parent) if e.parent is not None else None
                parent = parent or root
                inputs: bytes | None = None
                if span_kind == "node" and e.data:
                    raw = _start_data.decode(e.data).inputs
                    inputs = None if raw is msgspec.UNSET else bytes(raw)
                    if inputs is not None and inputs.startswith(b'{"$truncated"'):
                        inputs = None  # over the size limit: not known, so not compared
                r = Recorded(e.seq, span_kind, e.node or "", attempt=e.attempt or 1,
                             lane=e.lane, parent=parent, inputs=inputs, depth=e.depth)
                by_start[e.seq] = r
                executions.append(r)
                if parent is not None:
                    _adopt(parent, r)
            elif kind in _END_KIND and e.span is not None:
                r = by_start.get(e.span)  # type: ignore[assignment]
                if r is not None and r.end_seq is None and r.kind == _END_KIND[kind]:
                    r.end_seq = e.seq
                    r.end_kind = kind
                    if kind.startswith("node_"):
                        r.end_data = bytes(e.data)
        if root is None:  # a recording made by hand without workflow_start
            root = Recorded(-1, "workflow", header.workflow, attempt=1, lane=None, parent=None,
                            inputs=None)
            for r in executions:
                if r.parent is None:
                    r.parent = root
                    _adopt(root, r)
        return cls(reader.path, header, status=reader.status, root=root,
                   executions=executions, last_seq=last)


def _adopt(parent: Recorded, child: Recorded) -> None:
    parent.children.append(child)
    slot = parent.slots.get(child.key)
    if slot is None:
        slot = parent.slots[child.key] = Slot()
    slot.options.append(child)
    child.occurrence = len(slot.options)
    child.sequential = child.lane == parent.lane
    if child.sequential:
        parent.seq_children.append(child)


def open_recording(recording: Any, store: str | Store | None = None) -> LogReader:
    """A reader for what `reexecute` was given: a path, an id (or unique prefix, or
    ``latest``) in ``store``, a `LogReader`, or anything with a ``path`` (a Replayer,
    a `RecordingInfo`, a finished recorder).

    Raises `RecordingNotFoundError` and the read errors of `LogReader.open`.
    """
    if isinstance(recording, LogReader):
        return LogReader.open(recording.path)
    if not isinstance(recording, str | os.PathLike):
        path = getattr(recording, "path", None)
        if not isinstance(path, str | os.PathLike):
            raise TypeError(f"reexecute() takes a recording path, an id, or an object with a "
                            f"path (a Replayer), not {type(recording).__name__}")
        return LogReader.open(path)
    text = os.fspath(recording)
    if os.path.exists(text):
        return LogReader.open(text)
    if os.sep in text or text.endswith((".zst", ".gz", ".jsonl")):
        raise RecordingNotFoundError(text, "there is no such file; check the path, or pass a "
                                     "recording id (see `flowtape list`)")
    return open_store(store).open(text)

"""State at any event: the nearest keyframe at or before it, plus the patches after.

`next_state` is the one definition of how a state event changes the state
(its keyframe, or its patch applied); `StateTracker` folds it from the
nearest keyframe to answer for any event, and `iter_snapshots` folds it over
a whole recording for the earlier-published ``snapshots``.

Keyframe positions come from the footer's seek index, and the index also
says which frames hold state events, so a lookup decodes only those frames
between the keyframe and the target — never the whole recording. The last
answer is kept, so stepping forward applies only the new patches.

Recordings without state events fall back to folding ``node_complete``
outputs into a dict keyed by node id (the latest output of each node), from
checkpoints made as the fold first passes them (`storage.analysis.fold`).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from ..errors import CorruptRecordingError
from ..format.events import Event
from ..format.placeholders import TRUNCATED_KEY, is_truncated
from ..format.reader import LogReader
from .fold import OutputFold
from .patch import apply_patch, copy_json, make_patch
from .paths import MISSING, Part, lookup

__all__ = ["StateSnapshot", "StateTracker", "UnknownState", "copy_json", "iter_snapshots",
           "next_state"]


class UnknownState(msgspec.Struct, frozen=True, kw_only=True):
    """Why the state after an event is not known: the recording cut it, or damage took it.

    ``str()`` says so in a sentence a stepper or a report can print.
    """

    seq: int
    """The state event whose state was truncated, or the first seq lost to damage."""
    reason: Literal["truncated", "lost"]
    """``truncated``: the snapshot was over ``max_payload_bytes`` and stands in for itself
    (docs/format.md §State); ``lost``: events were skipped as damaged since the last
    keyframe, and state changes may have been among them."""
    size: int | None = None
    """For ``truncated``: the state's encoded size in bytes, when the recording says."""

    def __str__(self) -> str:
        if self.reason == "truncated":
            size = f"{self.size} bytes" if self.size is not None else "size not recorded"
            return (f"state unknown: the snapshot at seq {self.seq} was truncated ({size}, "
                    "over max_payload_bytes)")
        return (f"state unknown: events from seq {self.seq} on were lost to damage, and "
                "state changes may have been among them")


def next_state(state: Any, event: Event, *, in_place: bool = False) -> Any:
    """The state after the state event ``event``, given the state before it.

    A keyframe's state (a copy), or its patch applied — to ``state`` itself
    with ``in_place``, else to a copy. A patch with no state before it (the
    start of a damaged file) changes nothing.
    """
    if event.state is not None:
        return copy_json(event.state)
    if event.patch is not None and state is not None:
        return apply_patch(state, event.patch, in_place=in_place)
    return state


class StateSnapshot(msgspec.Struct, kw_only=True):
    """One recorded state, as the earlier API handed it back."""

    state: Any
    node_id: str | None = None
    event_id: int = 0
    timestamp: float = 0.0
    """Seconds since the recording started."""
    execution_stack: list[str] | None = None


def iter_snapshots(events: Iterable[Event]) -> list[StateSnapshot]:
    """One `StateSnapshot` per state event, each with its own copy of the state.

    Both the recorder's ``snapshots`` (SPEC §9) and the replayer's read through
    this.
    """
    out: list[StateSnapshot] = []
    state: Any = None
    for e in events:
        if e.kind != "state":
            continue
        state = next_state(state, e)
        stack = e.data.get("execution_stack") if isinstance(e.data, dict) else None
        out.append(StateSnapshot(state=state, node_id=e.node, event_id=e.seq,
                                 timestamp=e.timestamp, execution_stack=stack))
    return out


class StateTracker:
    """Answers "what was the state after event ``seq``?" for one recording."""

    def __init__(self, reader: LogReader) -> None:
        self.reader = reader
        self._cache: tuple[int, int, Any] | None = None  # (target seq, base keyframe, state)
        self._fold: OutputFold | None = None
        """Without state events: the folded outputs, with checkpoints made as it goes."""

    @property
    def has_state_events(self) -> bool:
        """True when the recording holds state events (else outputs are folded)."""
        r = self.reader
        if r.keyframes:
            return True
        if r.footer is not None:
            return r.footer.counts.states > 0
        return bool(r.state_frames)

    @property
    def changing_kinds(self) -> frozenset[str]:
        """The kinds of the events after which the state can differ: ``state``, or
        ``node_complete`` when outputs are folded."""
        return _STATE_KINDS if self.has_state_events else _OUTPUT_KINDS

    def state_at(self, seq: int) -> Any:
        """The state after event ``seq`` (the caller's own copy); None before any state."""
        return copy_json(self._state(seq))

    def value_at(self, seq: int | None, parts: list[Part]) -> Any:
        """The value at ``parts`` in the state after event ``seq`` (None: before the first
        event), the caller's own copy: `MISSING` where the path leads nowhere or no state
        is recorded yet, `Unknown` past a truncated payload (`storage.analysis.paths`).

        Only the value found is copied, not the state, so asking for one value at
        event after event (a watch) costs what its size does.
        """
        state = self._state(seq) if seq is not None else None
        if state is None and parts:
            return MISSING
        value = lookup(state, parts)
        return copy_json(value) if isinstance(value, dict | list) else value

    def _state(self, seq: int) -> Any:
        """The state after event ``seq``, shared with the cache: callers copy what they hand
        out."""
        if not self.has_state_events:
            return self._fold_outputs(seq)
        keyframes = self.reader.keyframes
        i = bisect.bisect_right(keyframes, seq) - 1
        if i < 0:
            return None
        key = keyframes[i]
        cache = self._cache
        if cache is not None and cache[1] == key and key <= cache[0] <= seq:
            start, state = cache[0] + 1, cache[2]
        else:
            state = copy_json(self._keyframe(key).state)
            start = key + 1
        state = self._apply_between(state, start, seq)
        self._cache = (seq, key, state)
        return state

    def unknown(self, seq: int) -> UnknownState | None:
        """Why the state after event ``seq`` is not known, or None when it is.

        Unknown when the latest keyframe at or before ``seq`` is a truncation
        stand-in, or when events between it and ``seq`` were lost to damage
        (a recovering read). Folded outputs and "no state yet" are known.
        """
        if not self.has_state_events:
            return None
        keyframes = self.reader.keyframes
        i = bisect.bisect_right(keyframes, seq) - 1
        key = keyframes[i] if i >= 0 else -1
        if key >= 0:
            state = self._keyframe(key).state
            if is_truncated(state):
                size = state[TRUNCATED_KEY]
                return UnknownState(seq=key, reason="truncated",
                                    size=size if type(size) is int else None)
        lost = [s.first_seq for s in self.reader.skipped
                if s.first_seq is not None and key < s.first_seq <= seq]
        return UnknownState(seq=min(lost), reason="lost") if lost else None

    def delta(self, event: Event) -> list[dict[str, Any]] | UnknownState:
        """What ``event`` changed in the state, as RFC 6902 operations (the caller's own).

        A state event's patch (or, for a keyframe, the change from the state
        before it); with folded outputs, what a ``node_complete`` changed in
        the fold; ``[]`` for any other event. When the state before or after
        ``event`` is not known (`unknown`), that `UnknownState` instead: a
        change from or to an unknown state is not known either.
        """
        if event.kind not in self.changing_kinds:
            return []
        reader = self.reader
        position = reader.position_of(event.seq)
        prev = reader.seq_at(position - 1) if position else None
        for at in (event.seq, prev):
            unknown = self.unknown(at) if at is not None else None
            if unknown is not None:
                return unknown
        if event.patch is not None:
            return copy_json(event.patch)  # type: ignore[no-any-return]
        before = self.state_at(prev) if prev is not None else None
        after = self.state_at(event.seq)
        if before is None:
            return [{"op": "replace", "path": "", "value": after}]
        return make_patch(before, after)

    def _keyframe(self, seq: int) -> Event:
        """The keyframe the index lists at ``seq``; CorruptRecordingError if it is none."""
        try:
            e = self.reader.get(seq)
        except IndexError:
            e = None
        if e is None or e.kind != "state" or e.state is None:
            what = "no event" if e is None else f"a {e.kind} event without a full state"
            raise CorruptRecordingError(self.reader.path, f"the seek index lists seq {seq} as a "
                                        f"state keyframe, but it is {what}")
        return e

    def _frames_between(self, start: int, end: int) -> list[int]:
        r = self.reader
        if start > end or r.frame_count == 0:
            return []
        first, last = _frame_at(r, start), _frame_at(r, end)
        if r.state_frames is None:
            return list(range(first, last + 1))
        lo = bisect.bisect_left(r.state_frames, first)
        hi = bisect.bisect_right(r.state_frames, last)
        return r.state_frames[lo:hi]

    def _apply_between(self, state: Any, start: int, end: int) -> Any:
        """Apply the patches of state events with start <= seq <= end, in order."""
        for f in self._frames_between(start, end):
            for e in self.reader.read_frame(f):
                if e.kind == "state" and start <= e.seq <= end:
                    state = next_state(state, e, in_place=True)
        return state

    def _fold_outputs(self, seq: int) -> dict[str, Any]:
        if self._fold is None:
            self._fold = OutputFold(self.reader)
        return self._fold.at(seq)


_STATE_KINDS = frozenset({"state"})
_OUTPUT_KINDS = frozenset({"node_complete"})


def _frame_at(reader: LogReader, seq: int) -> int:
    """The frame holding ``seq``, or the first frame when ``seq`` comes before it (damage)."""
    try:
        return reader.frame_of(seq)
    except IndexError:
        return 0

"""State at any event: the nearest keyframe at or before it, plus the patches after.

Keyframe positions come from the footer's seek index, and the index also
says which frames hold state events, so a lookup decodes only those frames
between the keyframe and the target — never the whole recording. The last
answer is kept, so stepping forward applies only the new patches.

Recordings without state events fall back to folding ``node_complete``
outputs into a dict keyed by node id (the latest output of each node).
"""

from __future__ import annotations

import bisect
from typing import Any

from ._reader import LogReader
from .errors import CorruptRecordingError
from .events import Event
from .patch import apply_patch, copy_json

__all__ = ["StateTracker", "copy_json"]


class StateTracker:
    """Answers "what was the state after event ``seq``?" for one recording."""

    def __init__(self, reader: LogReader) -> None:
        self.reader = reader
        self._cache: tuple[int, int, Any] | None = None  # (target seq, base keyframe, state)

    @property
    def has_state_events(self) -> bool:
        """True when the recording holds state events (else outputs are folded)."""
        r = self.reader
        if r.keyframes:
            return True
        if r.footer is not None:
            return r.footer.counts.states > 0
        return bool(r.state_frames)

    def state_at(self, seq: int) -> Any:
        """The state after event ``seq`` (the caller's own copy); None before any state."""
        if not self.has_state_events:
            return copy_json(self._fold_outputs(seq))
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
        return copy_json(state)

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
                if e.kind != "state" or e.seq < start or e.seq > end:
                    continue
                if e.state is not None:
                    state = copy_json(e.state)
                elif e.patch:
                    state = apply_patch(state, e.patch, in_place=True)
        return state

    def _fold_outputs(self, seq: int) -> dict[str, Any]:
        cache = self._cache
        folded: dict[str, Any] = {}
        start = 0
        if cache is not None and cache[1] == -1 and cache[0] <= seq:
            start, folded = cache[0] + 1, cache[2]
        if start <= seq:
            for e in self.reader.iter_events(start):
                if e.seq > seq:
                    break
                if e.kind == "node_complete" and e.node is not None and isinstance(e.data, dict) \
                        and "outputs" in e.data:
                    folded[e.node] = e.data["outputs"]
        self._cache = (seq, -1, folded)
        return folded


def _frame_at(reader: LogReader, seq: int) -> int:
    """The frame holding ``seq``, or the first frame when ``seq`` comes before it (damage)."""
    try:
        return reader.frame_of(seq)
    except IndexError:
        return 0

"""The folded outputs of a recording without state events, at any event, from checkpoints.

A recording without state events has, as its state after an event, the
latest ``node_complete`` outputs of each node up to it: ``{node: outputs}``
(SPEC §5). Folding that from the first event costs the whole recording
(0.3 to 0.8 s at 1M events), so `OutputFold` keeps checkpoints: the fold
before every ``stride``-th frame, made lazily as a fold first passes them
and kept for as long as the recording is open. An answer then costs a
shallow copy of the checkpoint before the event's frame, plus the frames
from there to the event — never more than ``stride`` frames.

The checkpoints are shallow copies: they share the output values with the
reader's decoded frames, which nobody mutates (callers copy what they hand
out). Their number is capped (``limit``): past it every other one is
dropped and the stride doubles, so memory stays at most ``limit`` dicts of
one entry per node, whatever the length of the recording.

The answer is the naive fold's — events in file order, up to the first
whose seq is past the one asked for — because seqs rise through the file
(the reader's frame table relies on it too).
"""

from __future__ import annotations

from typing import Any

from ..format.events import Event
from ..format.reader import LogReader

__all__ = ["FOLD_LIMIT", "FOLD_STRIDE", "OutputFold", "fold_output"]

#: Frames between two checkpoints at first (≈ 4k events of 256-event frames).
FOLD_STRIDE = 16
#: Most checkpoints kept; past it they thin to every other one and the stride doubles.
FOLD_LIMIT = 512
#: Most entries (nodes) in all checkpoints together (≈ 40 bytes each): past it they thin too.
FOLD_ENTRIES = 1 << 20


def fold_output(folded: dict[str, Any], event: Event) -> None:
    """Fold ``event`` into ``folded``: a ``node_complete`` with outputs sets its node's."""
    if event.kind == "node_complete" and event.node is not None \
            and isinstance(event.data, dict) and "outputs" in event.data:
        folded[event.node] = event.data["outputs"]


class OutputFold:
    """``{node: outputs}`` after any event of one recording, from lazily made checkpoints."""

    def __init__(self, reader: LogReader, *, stride: int = FOLD_STRIDE,
                 limit: int = FOLD_LIMIT, entries: int = FOLD_ENTRIES) -> None:
        if stride < 1 or limit < 2:
            raise ValueError(f"a fold needs stride >= 1 and limit >= 2, not {stride}, {limit}")
        self.reader = reader
        self.stride = stride
        self.limit = limit
        self.max_entries = entries
        self.entries = 0
        """The entries in all checkpoints together."""
        self.checkpoints: list[dict[str, Any]] = [{}]
        """``checkpoints[k]``: the fold over every frame before frame ``k * stride``."""
        self._last: tuple[int, int, dict[str, Any]] | None = None
        """The last answer (seq, its frame, the fold — private, not a checkpoint), so a
        stepper going forward folds only the events since."""

    def at(self, seq: int) -> dict[str, Any]:
        """The fold after event ``seq`` — shared with the cache: callers copy what they hand
        out."""
        reader = self.reader
        if reader.frame_count == 0:
            return {}
        try:
            frame = reader.frame_of(seq)
        except IndexError:  # before the first frame (damage): nothing folded yet
            frame = 0
        self._reach(frame // self.stride)
        base = frame // self.stride * self.stride
        last = self._last
        if last is not None and last[0] <= seq and last[1] >= base:
            after, start, folded = last
        else:
            after, start, folded = -1, base, dict(self.checkpoints[frame // self.stride])
        for i in range(start, frame + 1):
            for e in reader.read_frame(i):
                if e.seq <= after:
                    continue
                if e.seq > seq:
                    break
                fold_output(folded, e)
        self._last = (seq, frame, folded)
        return folded

    def _reach(self, k: int) -> None:
        """Make the checkpoints up to ``checkpoints[k]`` (thinning them past ``limit``
        checkpoints or ``max_entries`` entries)."""
        marks = self.checkpoints
        if k < len(marks):
            return
        folded = dict(marks[-1])
        frame = (len(marks) - 1) * self.stride
        while len(marks) <= k:
            for _ in range(self.stride):
                for e in self.reader.read_frame(frame):
                    fold_output(folded, e)
                frame += 1
            marks.append(dict(folded))
            self.entries += len(folded)
            if len(marks) > self.limit or (self.entries > self.max_entries and len(marks) > 2):
                del marks[1::2]  # keep 0, 2, 4, …: the fold before every 2*stride frames
                self.entries = sum(map(len, marks))
                self.stride *= 2
                k //= 2
                folded = dict(marks[-1])
                frame = (len(marks) - 1) * self.stride

    def forget(self) -> None:
        """Drop the checkpoints and the last answer (they are made again on demand)."""
        self.checkpoints = [{}]
        self.entries = 0
        self._last = None

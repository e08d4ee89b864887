"""State snapshots: a keyframe, or an RFC 6902 patch against the previous state (SPEC §4).

Every ``snapshot()`` call records one ``state`` event. It holds the whole
state (a keyframe) every ``keyframe_every`` state events, when there is no
previous state to diff against, when the state is over the payload limit,
and when the patch would be larger than the state; otherwise the patch
(empty when nothing changed). The state is masked and copied at the call
(encoded, then decoded), so later changes to the caller's object never reach
the recording. The keyframes' seqs go into the footer's seek index.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import msgspec

from storage import make_patch

from ._slowpath import enc_hook

if TYPE_CHECKING:
    from ._recorder import RecorderCore

__all__ = ["StateHistory"]

_json = msgspec.json.Encoder(enc_hook=enc_hook)
_json_plain = msgspec.json.Decoder()


class StateHistory:
    """One recording's state events so far: the patch base, the keyframes."""

    __slots__ = ("every", "keyframes", "last", "lock", "since_key")

    def __init__(self, keyframe_every: int) -> None:
        self.every = keyframe_every
        #: The last recorded state as plain values (the base of the next patch); None
        #: when the next state event must be a keyframe.
        self.last: Any = None
        #: State events since the last keyframe, itself included, so keyframes land on
        #: state events 0, N, 2N, ...
        self.since_key = 0
        #: The seqs of the state events holding a whole state (the footer's index).
        self.keyframes: list[int] = []
        self.lock = threading.Lock()  # the patch base and the seq must agree

    def record(self, rec: RecorderCore, state: Any, node_id: str | None,
               execution_stack: list[str] | None) -> int:
        """Write one ``state`` event for ``state`` into ``rec``; returns its seq."""
        masked = rec._payload(state, "state")
        raw = bytes(masked) if isinstance(masked, msgspec.Raw) else _json.encode(masked)
        copy = _json_plain.decode(raw)
        parent, depth = rec._enclosing()
        data = {"execution_stack": list(execution_stack)} if execution_stack else None
        limit = rec._max_payload
        # The diff is taken under the lock, so the patch base and the seq agree.
        with self.lock:
            last = self.last
            keyframe = last is None or self.since_key >= self.every or len(raw) > limit
            ops: list[Any] | None = None
            if not keyframe:
                ops = make_patch(last, copy)
                if ops and len(_json.encode(ops)) >= len(raw):
                    keyframe = True
            if keyframe:
                seq = rec._emit("state", node_id, None, parent, depth, None, data,
                                msgspec.Raw(raw))
                self.keyframes.append(seq)
                self.since_key = 1
            else:
                seq = rec._emit("state", node_id, None, parent, depth, None, data,
                                None, ops or [])
                self.since_key += 1
            if len(raw) <= limit:
                self.last = copy
        return seq

"""Rebuild the sequence of recorded states from state events (keyframes + patches).

Both the recorder's ``snapshots`` (SPEC §9) and the replayer's read through
this, so there is one definition of how a state history is folded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from ..format.events import Event
from .patch import apply_patch

__all__ = ["StateSnapshot", "iter_snapshots"]

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()


class StateSnapshot(msgspec.Struct, kw_only=True):
    """One recorded state, as the earlier API handed it back."""

    state: Any
    node_id: str | None = None
    event_id: int = 0
    timestamp: float = 0.0
    """Seconds since the recording started."""
    execution_stack: list[str] | None = None


def iter_snapshots(events: Iterable[Event]) -> list[StateSnapshot]:
    """One `StateSnapshot` per state event, each with its own copy of the state."""
    out: list[StateSnapshot] = []
    state: Any = None
    for e in events:
        if e.kind != "state":
            continue
        if e.state is not None:
            state = _dec.decode(_enc.encode(e.state))
        elif e.patch is not None and state is not None:
            state = apply_patch(state, e.patch)
        stack = e.data.get("execution_stack") if isinstance(e.data, dict) else None
        out.append(StateSnapshot(state=state, node_id=e.node, event_id=e.seq,
                                 timestamp=e.timestamp, execution_stack=stack))
    return out

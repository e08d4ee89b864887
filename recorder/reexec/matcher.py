"""Which recorded execution a call under re-execution is (SPEC §12).

A call is matched by its key — node id, the nesting path of the executions
enclosing it, its occurrence under its parent, its attempt — which makes it
independent of how concurrent branches were scheduled. The nesting path is
implied: a call is looked up among the children of the recorded execution
its enclosing span was matched to (its `Place`).

Order matters only where it is deterministic. A *sequential* call (made on
its parent's lane, by the parent's own code) takes occurrence n of its key,
and must come where the recording has it: if an earlier sequential child of
the parent is still untaken, the call is out of order (``unexpected_call``,
naming what the recording has there). A *concurrent* call (a task or a thread
of its own) takes the untaken occurrence with the same inputs, preferring
occurrence n — so fifty tasks or threads are matched whatever order they
start or finish in.

A hit is reserved as it is found (under one lock, so two threads never get
the same execution); `take` records which call of the new run answered it,
and takes the other executions a caller decides to use (an input change run
live keeps the recorded execution's subtree for the calls inside it).
"""

from __future__ import annotations

import threading
from typing import Any, Literal

import msgspec

from storage import is_repr, make_patch

from .tape import Key, Recorded, Tape

__all__ = ["RESERVED", "Match", "Matcher", "Place", "comparable", "same_inputs"]

#: ``Recorded.used_by`` of a hit whose call has not written its start event yet.
RESERVED = -1

_decode = msgspec.json.Decoder().decode

MatchKind = Literal["hit", "inputs_changed", "unexpected_call", "exhausted"]


class Place:
    """An open span of the new run, as calls inside it are matched: its recorded
    counterpart (None when it has none: then nothing under it is in the recording),
    the lane it runs on, the ids of the spans it nests in (itself included, the
    workflow not), and how many calls of each key it has made so far."""

    __slots__ = ("counts", "lane", "path", "recorded")

    def __init__(self, recorded: Recorded | None, lane: str | None, path: list[str]) -> None:
        self.recorded = recorded
        self.lane = lane
        self.path = path
        self.counts: dict[Key, int] = {}


class Match(msgspec.Struct, frozen=True, gc=False):
    """What the recording has for a call."""

    kind: MatchKind
    """``hit``, or why not."""
    occurrence: int
    """The call's occurrence under its parent (of its key), from 1."""
    recorded: Recorded | None = None
    """The execution it matched (``hit``); for ``inputs_changed`` the one with its key and
    other inputs; for an out-of-order call the one it would have been."""
    expected: Recorded | None = None
    """For an out-of-order call: what the recording has next at that place."""
    available: int = 0
    """How many executions with the call's key the recording has at that place."""


class Matcher:
    """Matches calls to a tape's executions (see the module docstring)."""

    def __init__(self, tape: Tape, *, match_inputs: bool) -> None:
        self.tape = tape
        self.match_inputs = match_inputs
        self.lock = threading.Lock()

    def match(self, place: Place, key: Key, inputs: bytes | None, *, lane: str | None
              ) -> Match:
        """The recorded execution for a call with ``key`` (kind, node id, attempt) and
        ``inputs`` (raw JSON), made in ``place`` from ``lane``; a hit is reserved."""
        kind = key[0]
        sequential = lane == place.lane
        with self.lock:
            n = place.counts[key] = place.counts.get(key, 0) + 1
            parent = place.recorded
            slot = parent.slots.get(key) if parent is not None else None
            if slot is None:
                return Match("unexpected_call", n)
            if sequential:
                found = slot.occurrence(n) or slot.first_unused()
            else:
                hit = slot.occurrence(n)
                if hit is None or hit.inputs != inputs:
                    hit = slot.with_inputs(inputs) or hit
                found = hit or slot.first_unused()
            if found is None:
                return Match("exhausted", n, available=len(slot.options))
            if sequential and found.sequential:
                assert parent is not None
                nxt = parent.next_sequential()
                if nxt is not None and nxt is not found:
                    return Match("unexpected_call", n, found, expected=nxt,
                                 available=len(slot.options))
            if (self.match_inputs and kind == "node" and inputs is not None
                    and found.inputs is not None and not same_inputs(found.inputs, inputs)):
                return Match("inputs_changed", n, found, available=len(slot.options))
            found.used_by = RESERVED  # a hit is always taken: no other thread may match it
            return Match("hit", n, found, available=len(slot.options))

    def take(self, recorded: Recorded, seq: int) -> None:
        """Mark ``recorded`` as answered by the new run's call at ``seq``."""
        with self.lock:
            if recorded.used_by is None or recorded.used_by == RESERVED:
                recorded.used_by = seq


def same_inputs(recorded: bytes, new: bytes) -> bool:
    """Equal inputs: the same bytes, or the same JSON values (type-strict, key order aside;
    a value recorded only as a ``$repr`` stand-in compares by its type alone)."""
    return recorded == new or not make_patch(comparable(recorded), comparable(new))


def comparable(raw: bytes) -> Any:
    """Recorded inputs as compared: decoded, each ``{"$repr", "$type"}`` stand-in cut to its
    ``$type`` (a repr shows an object's address or a client's state, which says nothing
    about whether the call is the same)."""
    value = _decode(raw)
    if b'"$repr"' not in raw:
        return value
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if is_repr(v):
                del v["$repr"]
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return value

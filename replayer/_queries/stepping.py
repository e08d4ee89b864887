"""Where the debugger's moves land: frames, span ends, step / next / return / until, search.

`Stepping` is a mixin `Replayer` inherits, so each answer is a replayer method
tested without a terminal (`flowtape replay --step` only prints them). The
answers are found from the events near the cursor by their links — an
event's ``parent`` is the start of the span it happens in, an end event's
``span`` the start it closes — never by building every span of the
recording, so stepping a 1M-event run stays small (SPEC §10). Each move
takes a ``lane``: given, the move lands only on that lane's events.

The *frames* at an event are the spans open at it, the workflow first and
the innermost last; a start event opens its own span and an end event still
belongs to the span it ends (as `open_spans_at` tells it).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Protocol

import msgspec

from storage import END_KINDS, START_KINDS, Event, EventView

from ..errors import EventNotFoundError

__all__ = ["Catalog", "Found", "Stepping"]

_canonical = msgspec.json.Encoder(order="sorted")
#: More links than this in one chain can only come from a damaged recording.
_MAX_CHAIN = 100_000


class Catalog(msgspec.Struct):
    """What a recording holds by name: its lanes (first seen first), node names and kinds."""

    lanes: list[str]
    nodes: list[str]
    kinds: list[str]


class Found(msgspec.Struct, frozen=True):
    """Where a search landed, and whether it wrapped round the end (or the start)."""

    position: int
    wrapped: bool


class _Recording(Protocol):
    """What the answers need of a `Replayer`."""

    _catalog: Catalog | None

    def __len__(self) -> int: ...
    def __getitem__(self, i: int) -> Event: ...
    def get_event(self, seq: int) -> Event: ...
    def position_of(self, seq: int) -> int: ...
    def iter_events(self, start: int = 0) -> Iterator[Event]: ...
    def event_views(self) -> Iterator[EventView]: ...
    @property
    def changing_kinds(self) -> frozenset[str]: ...


class Stepping:
    """The stepper's questions, as `Replayer` methods (see the module)."""

    _catalog: Catalog | None = None

    def catalog(self: _Recording) -> Catalog:
        """The lanes, node names and kinds of the recording (one pass, kept)."""
        return catalog(self)

    def frames_at(self: _Recording, seq: int) -> list[int]:
        """The start seqs of the spans open at event ``seq``, the workflow first."""
        return frames_at(self, seq)

    def depth_of(self: _Recording, event: Event) -> int:
        """How many spans enclose ``event``'s own: 0 for the workflow's start and end."""
        return len(_chain(self, event.parent))

    def span_end(self: _Recording, start: int) -> int | None:
        """The seq of the end event of the span started at ``start``; None if it never ended."""
        return span_end(self, start)

    def step_target(self: _Recording, position: int, count: int = 1, *, forward: bool = True,
                    lane: str | None = None) -> int | None:
        """The position ``count`` events away (``s``/``rs``), or the last one there is."""
        return step_target(self, position, count, forward, lane)

    def next_target(self: _Recording, position: int, *, forward: bool = True,
                    lane: str | None = None) -> int | None:
        """``n`` / ``rn``: the next (previous) event of the current frame; over a span from
        its start to its end (from its end back to its start)."""
        return next_target(self, position, forward, lane)

    def return_target(self: _Recording, position: int, *, forward: bool = True,
                      lane: str | None = None) -> int | None:
        """``r`` / ``rr``: the end (start) of the innermost span open at ``position`` that
        ends after (starts before) it."""
        return return_target(self, position, forward, lane)

    def until_target(self: _Recording, position: int, seq: int | None = None, *,
                     lane: str | None = None) -> int | None:
        """``unt``: the first event past ``seq``, or (None) the first event of the current
        frame past the loop the cursor is in: the nodes that ran before the cursor and run
        again after it (see `until_target`)."""
        return until_target(self, position, seq, lane)

    def search(self: _Recording, position: int, text: str, *, forward: bool = True,
               lane: str | None = None) -> Found | None:
        """``/`` / ``?``: the next (previous) event whose kind, node or data contains
        ``text`` (smart case: case-blind unless ``text`` has a capital), wrapping round
        (back to the cursor's own event when it is the only one)."""
        return search(self, position, text, forward, lane)

    def last_state_event(self: _Recording, seq: int) -> Event | None:
        """The latest event at or before ``seq`` that can change the state (``delta``)."""
        changing = self.changing_kinds
        for i in range(self.position_of(seq), -1, -1):
            if self[i].kind in changing:
                return self[i]
        return None


# --- the answers ---------------------------------------------------------------------------
def catalog(r: _Recording) -> Catalog:
    if r._catalog is None:
        lanes: dict[str, None] = {}
        nodes: set[str] = set()
        kinds: set[str] = set()
        for v in r.event_views():
            if v.lane is not None:
                lanes.setdefault(v.lane)
            if v.node is not None:
                nodes.add(v.node)
            kinds.add(v.kind)
        r._catalog = Catalog(list(lanes), sorted(nodes), sorted(kinds))
    return r._catalog


def own_span(event: Event) -> int | None:
    """The start seq of the innermost span ``event`` belongs to."""
    if event.kind in START_KINDS:
        return event.seq
    if event.kind in END_KINDS and event.span is not None:
        return event.span
    return event.parent


def _chain(r: _Recording, start: int | None) -> list[int]:
    """``start`` and the starts enclosing it, innermost first (links that do not go back
    to an earlier start event are not followed)."""
    chain: list[int] = []
    while start is not None and len(chain) < _MAX_CHAIN:
        try:
            event = r.get_event(start)
        except EventNotFoundError:
            break  # a start lost to damage: the chain stops there
        if event.kind not in START_KINDS:
            break
        chain.append(start)
        parent = event.parent
        start = parent if parent is not None and parent < start else None
    return chain


def frames_at(r: _Recording, seq: int) -> list[int]:
    return _chain(r, own_span(r.get_event(seq)))[::-1]


def span_end(r: _Recording, start: int) -> int | None:
    for e in r.iter_events(r.position_of(start) + 1):
        if e.span == start and e.kind in END_KINDS:
            return e.seq
    return None


def _scan(r: _Recording, position: int, forward: bool) -> Iterator[tuple[int, Event]]:
    """The events after (before) ``position``, nearest first, with their positions."""
    if forward:
        yield from enumerate(r.iter_events(position + 1), start=position + 1)
    else:
        for i in range(min(position, len(r)) - 1, -1, -1):
            yield i, r[i]


def _in_lane(event: Event, lane: str | None) -> bool:
    return lane is None or event.lane == lane


def step_target(r: _Recording, position: int, count: int, forward: bool,
                lane: str | None) -> int | None:
    found = None
    for i, e in _scan(r, position, forward):
        if _in_lane(e, lane):
            found = i
            count -= 1
            if count <= 0:
                break
    return found


def _same_frame(r: _Recording, event: Event) -> set[int | None]:
    """The ``parent`` values of the events at ``event``'s frame or outside it."""
    return {None, *_chain(r, event.parent)}


def next_target(r: _Recording, position: int, forward: bool, lane: str | None) -> int | None:
    event = r[position]
    if forward and event.kind in START_KINDS:
        end = span_end(r, event.seq)
        return None if end is None else r.position_of(end)
    if not forward and event.kind in END_KINDS and event.span is not None \
            and event.span < event.seq:
        try:
            return r.position_of(event.span)
        except EventNotFoundError:
            return None  # its start was lost to damage
    allowed = _same_frame(r, event)
    for i, e in _scan(r, position, forward):
        if e.parent in allowed and _in_lane(e, lane):
            return i
    return None


def return_target(r: _Recording, position: int, forward: bool,
                  lane: str | None) -> int | None:
    event = r[position]
    for start in reversed(frames_at(r, event.seq)):
        if forward:
            if event.kind in END_KINDS and start == event.span:
                continue  # already at its end: the enclosing one's
            end = span_end(r, start)
            if end is not None and end > event.seq and _in_lane(r.get_event(end), lane):
                return r.position_of(end)
        elif start < event.seq and _in_lane(r.get_event(start), lane):
            return r.position_of(start)
    return None


def until_target(r: _Recording, position: int, seq: int | None,
                 lane: str | None) -> int | None:
    """With ``seq``, the first event past it. Without, like pdb's ``until`` at a loop's last
    line: the loop is made of the nodes of the cursor's frame that ran at or before the
    cursor and run again after it (a retry, the next page), and of every node run between
    their runs; the answer is the first event of the frame after the loop's last run, else
    the event that leaves the frame. Where nothing repeats, it is the event after the
    cursor's own span, as ``n`` then ``s`` would go."""
    if seq is not None:
        for i, e in _scan(r, position, True):
            if e.seq > seq and _in_lane(e, lane):
                return i
        return None
    event = r[position]
    allowed = _same_frame(r, event)
    ran = _ran_before(r, position, event, lane)
    positions = array("q", [position])
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    if event.node is not None:
        first[event.node] = last[event.node] = 0
    leaving = None
    for i, e in _scan(r, position, True):
        if e.parent not in allowed or not _in_lane(e, lane):
            continue
        if e.parent != event.parent:
            leaving = i  # the frame ended (or an outer one went on)
            break
        if e.node is not None:
            first.setdefault(e.node, len(positions))
            last[e.node] = len(positions)
        positions.append(i)
    reach = max([0, *(at for n, at in last.items() if n in ran or n == event.node)])
    while True:  # grow the loop by every node run inside it until it holds still
        wider = max([reach, *(last[n] for n, at in first.items() if at <= reach)])
        if wider == reach:
            break
        reach = wider
    return positions[reach + 1] if reach + 1 < len(positions) else leaving


def _ran_before(r: _Recording, position: int, event: Event, lane: str | None) -> set[str]:
    """The nodes run in ``event``'s frame before it (back to the frame's start)."""
    ran: set[str] = set()
    for _, e in _scan(r, position, False):
        if e.seq == event.parent:
            break
        if e.parent == event.parent and e.node is not None and _in_lane(e, lane):
            ran.add(e.node)
    return ran


def _contains(event: Event, text: str, fold: bool) -> bool:
    def has(value: str) -> bool:
        return text in (value.lower() if fold else value)

    if has(event.kind) or (event.node is not None and has(event.node)):
        return True
    return any(value is not None and has(_canonical.encode(value).decode())
               for value in (event.data, event.state, event.patch))


def search(r: _Recording, position: int, text: str, forward: bool,
           lane: str | None) -> Found | None:
    fold = text == text.lower()
    text = text.lower() if fold else text
    for i, e in _scan(r, position, forward):
        if _in_lane(e, lane) and _contains(e, text, fold):
            return Found(i, wrapped=False)
    around = range(position + 1) if forward else range(len(r) - 1, position - 1, -1)
    for i in around:
        e = r[i]
        if _in_lane(e, lane) and _contains(e, text, fold):
            return Found(i, wrapped=True)
    return None

"""The questions the terminal, the viewer and the exports ask of a recording, answered once.

Which events match a filter (`matcher`), which spans are open at an event
(`open_spans_at`), what one event did to one state value (`value_change`),
which event last changed it (`last_change`), and the events of a recording
still being written as they arrive (`follow`). Each is a `Replayer` method
(the methods here take the replayer first); the stepper, the viewer and the
command line only show the answers, as pdb shows what bdb computes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from storage import Event, Span
from storage.analysis.paths import Part, node_matches, parse_state_path, same

from .stepping import own_span

if TYPE_CHECKING:
    from .._replayer import Replayer

__all__ = ["POLL_SECONDS", "ValueChange", "follow", "last_change", "matcher", "open_spans_at",
           "state_path", "value_change"]

#: How often `follow` looks for new frames.
POLL_SECONDS = 0.1


class ValueChange(msgspec.Struct, frozen=True):
    """How one event changed one state value (`Replayer.value_change`, `last_change`)."""

    event: Event
    """The event that changed it."""
    before: Any
    """The value just before the event: `MISSING` where it was not set, `Unknown` where the
    recording truncated it (`storage.analysis.paths`)."""
    after: Any
    """The value just after the event (`MISSING`, `Unknown` likewise)."""


def state_path(path: str | Sequence[Part]) -> list[Part]:
    """A state path as parts: text (``cart.items[0]``, with or without ``state.``) is parsed,
    parts are taken as they are. Raises ValueError for text that is not a path."""
    return parse_state_path(path) if isinstance(path, str) else list(path)


def matcher(kind: str | Collection[str] | None = None, node: str | None = None,
            where: Callable[[Event], bool] | None = None) -> Callable[[Event], bool]:
    """A predicate for events of ``kind`` (one or several), about a node matching ``node``
    (a glob, `storage.analysis.paths.node_matches`), for which ``where`` holds; None: any."""
    kinds = {kind} if isinstance(kind, str) else set(kind) if kind is not None else None

    def match(e: Event) -> bool:
        if kinds is not None and e.kind not in kinds:
            return False
        if node is not None and not node_matches(e.node, node):
            return False
        return where is None or bool(where(e))

    return match


def open_spans_at(r: Replayer, seq: int) -> list[Span]:
    """The spans open at event ``seq``, the workflow first and the innermost last.

    A start event opens its own span and an end event still belongs to the span it
    ends; any other event is inside the span its ``parent`` names.
    """
    spans = r._span_index()
    start = own_span(r.get_event(seq))
    chain: list[Span] = []
    while start is not None and start in spans and len(chain) <= len(spans):
        chain.append(spans[start])
        start = spans[start].parent
    chain.reverse()
    return [msgspec.structs.replace(s, children=list(s.children)) for s in chain]


def _seq_before(r: Replayer, position: int) -> int | None:
    return r[position - 1].seq if position > 0 else None


def value_change(r: Replayer, parts: list[Part], seq: int) -> ValueChange | None:
    """How event ``seq`` changed the state value at ``parts``; None when it left it alone."""
    event = r.get_event(seq)
    if event.kind not in r.changing_kinds:
        return None
    before = r.value_at(parts, _seq_before(r, r.position_of(seq)))
    after = r.value_at(parts, seq)
    return None if same(before, after) else ValueChange(event, before, after)


def last_change(r: Replayer, parts: list[Part], at: int) -> ValueChange | None:
    """The last event at or before ``at`` that changed the state value at ``parts``; None
    when none did (the value is not set there, or was set before the first event)."""
    changing = r.changing_kinds
    after = r.value_at(parts, at)
    for i in range(r.position_of(at), -1, -1):
        event = r[i]
        if event.kind not in changing:
            continue
        before = r.value_at(parts, _seq_before(r, i))
        if not same(before, after):
            return ValueChange(event, before, after)
        after = before
    return None


def follow(r: Replayer, *, poll: float = POLL_SECONDS,
           sleep: Callable[[float], None] = time.sleep) -> Iterator[list[Event]]:
    """The events read so far, then each batch another process appends, until the footer
    arrives (the run ended). Between looks it waits ``poll`` seconds; break out of the loop
    to stop following. The replayer grows as the events arrive (``len``, positions)."""
    reader = r.reader
    first = list(r.iter_events())
    if first:
        yield first
    while reader.footer is None:
        sleep(poll)
        new = reader.refresh()
        if new:
            r._forget_spans()
            yield new

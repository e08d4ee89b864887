"""The stepper's numbered breakpoints, as pdb keeps them: where, condition, hits, enabled.

A breakpoint stops ``c``/``rc`` at an event of a kind (``node_error``) or about
a node (a glob: ``fetch_*``) for which its `Condition` holds. `Breakpoints`
is the table, owned by one stepper: numbers are never reused, a temporary
one (``tbreak``) is deleted when it first stops, a disabled one is kept but
silent, and a condition that raises counts as false and leaves its error
in the table (``last_error``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from storage import EVENT_KINDS, Event
from storage.analysis.paths import node_matches

from .._replayer import Replayer
from .conditions import Condition

__all__ = ["Breakpoint", "Breakpoints", "NoSuchBreakpoint"]


class NoSuchBreakpoint(LookupError):
    """A breakpoint number that is not in the table (the message names it)."""


class Breakpoint:
    """One breakpoint (see the module)."""

    def __init__(self, number: int, where: str, condition: Condition | None = None, *,
                 temporary: bool = False) -> None:
        self.number = number
        self.where = where
        self.by_kind = where in EVENT_KINDS
        self.condition = condition
        self.temporary = temporary
        self.enabled = True
        self.hits = 0
        self.last_error: str | None = None

    def at(self, event: Event) -> bool:
        """Whether ``event`` is where it is set (its kind, or its node by the glob)."""
        return event.kind == self.where if self.by_kind else node_matches(event.node, self.where)

    def holds(self, replayer: Replayer, event: Event) -> bool:
        """Whether its condition holds at ``event`` (no condition: always); one that raises
        is false and its error is kept."""
        if self.condition is None:
            return True
        try:
            return self.condition(replayer, event)
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            return False

    @property
    def kind_word(self) -> str:
        return ("temp " if self.temporary else "") + ("kind" if self.by_kind else "node")


class Breakpoints:
    """The table of one stepper's breakpoints, in number order."""

    def __init__(self) -> None:
        self.table: list[Breakpoint] = []
        self._next = 1

    def __bool__(self) -> bool:
        return bool(self.table)

    def __iter__(self) -> Iterator[Breakpoint]:
        return iter(self.table)

    def add(self, where: str, condition: Condition | None = None, *,
            temporary: bool = False) -> Breakpoint:
        bp = Breakpoint(self._next, where, condition, temporary=temporary)
        self._next += 1
        self.table.append(bp)
        return bp

    def get(self, numbers: Iterable[str]) -> list[Breakpoint]:
        """The breakpoints with these numbers (text, as typed); `NoSuchBreakpoint` or
        ValueError for a number that is not one."""
        found = []
        for text in numbers:
            try:
                n = int(text)
            except ValueError:
                raise ValueError(f"{text!r} is not a breakpoint number") from None
            bp = next((b for b in self.table if b.number == n), None)
            if bp is None:
                raise NoSuchBreakpoint(f"no breakpoint {n}; b lists them")
            found.append(bp)
        return found

    def remove(self, bp: Breakpoint) -> None:
        self.table.remove(bp)

    def stopping(self, replayer: Replayer, event: Event) -> list[Breakpoint]:
        """The enabled breakpoints at ``event`` whose condition holds (nothing counted)."""
        return [bp for bp in self.table
                if bp.enabled and bp.at(event) and bp.holds(replayer, event)]

    def stopped(self, hit: list[Breakpoint]) -> None:
        """Count a stop at ``hit``; a temporary breakpoint goes once it has stopped."""
        for bp in hit:
            bp.hits += 1
            if bp.temporary and bp in self.table:
                self.table.remove(bp)

"""Breakpoint conditions: a Python expression about one event, as pdb's ``b WHERE, COND``.

A condition sees the names ``node``, ``kind``, ``seq``, ``attempt``, ``lane``,
``depth``, ``data`` and ``state`` (the state after the event, worked out only
when the expression asks for it) and a few harmless builtins (`SAFE_BUILTINS`);
no other builtin, and no name or attribute starting with ``_``, so a
condition reads the recording and cannot reach the interpreter. One that
cannot be compiled is refused (`ConditionError`) when it is set; one that
raises while being evaluated is false, and the error is kept for the
breakpoint table.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from types import CodeType
from typing import Any

from storage import Event, FlowtapeError

from .._replayer import Replayer

__all__ = ["NAMES", "SAFE_BUILTINS", "Condition", "ConditionError"]

#: The names a condition can use besides the builtins.
NAMES = ("node", "kind", "seq", "attempt", "lane", "depth", "data", "state")
#: The builtins a condition may call: they compute, they reach nothing.
SAFE_BUILTINS: dict[str, Any] = {name: getattr(builtins, name) for name in (
    "abs", "all", "any", "bool", "dict", "float", "int", "isinstance", "len", "list", "max",
    "min", "round", "set", "sorted", "str", "sum", "tuple")}


class ConditionError(ValueError):
    """A condition that is not a usable expression (the message says why)."""


def _names(code: CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:  # comprehensions compile to nested code objects
        if isinstance(const, CodeType):
            yield from _names(const)


class Condition:
    """A compiled condition; ``Condition("attempt > 1")(replayer, event)``."""

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        if not self.text:
            raise ConditionError("the condition is empty")
        try:
            self.code = compile(self.text, "<condition>", "eval")
        except SyntaxError as exc:
            raise ConditionError(f"{self.text!r} is not a Python expression "
                                 f"({exc.msg})") from None
        hidden = sorted({n for n in _names(self.code) if n.startswith("_")})
        if hidden:
            raise ConditionError(f"a condition cannot use {hidden[0]!r} (names starting "
                                 "with _ are not available)")

    def __call__(self, replayer: Replayer, event: Event) -> bool:
        """Whether it holds at ``event``; raises what the expression raised."""
        return bool(eval(self.code, {"__builtins__": SAFE_BUILTINS},
                         _EventNames(replayer, event)))

    def __repr__(self) -> str:
        return f"Condition({self.text!r})"


class _EventNames(Mapping[str, Any]):
    """The names of `NAMES` for one event; ``state`` and ``depth`` are looked up when used."""

    def __init__(self, replayer: Replayer, event: Event) -> None:
        self._r = replayer
        self._event = event

    def __getitem__(self, name: str) -> Any:
        e = self._event
        if name == "state":
            try:
                return self._r.get_state_at_event(e.seq)
            except FlowtapeError as exc:
                raise LookupError(f"no state at seq {e.seq}: {exc}") from None
        if name == "depth":
            return self._r.depth_of(e)
        if name == "attempt":
            return e.attempt if e.attempt is not None else 1
        if name in ("node", "kind", "seq", "lane", "data"):
            return getattr(e, name)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)

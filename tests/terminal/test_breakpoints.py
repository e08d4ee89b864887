"""Breakpoint conditions and the breakpoint table, without a terminal: the names a condition
sees, what it may not reach, and how a raising condition is kept for the table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from stepper_recordings import record_debugger

from replayer import Replayer
from replayer.terminal.breakpoints import Breakpoints, NoSuchBreakpoint
from replayer.terminal.conditions import SAFE_BUILTINS, Condition, ConditionError


@pytest.fixture
def debug(store: Path) -> Iterator[Replayer]:
    with Replayer.open(record_debugger(store)) as r:
        yield r


def test_the_names_a_condition_sees(debug: Replayer) -> None:
    """node, kind, seq, attempt (1 when absent), lane, depth, data and the state after."""
    at = debug.get_event
    assert Condition('node == "flaky" and kind == "node_start" and attempt == 2')(debug, at(25))
    assert Condition("seq == 34 and lane == 'bob' and depth == 3")(debug, at(34))
    assert Condition("attempt == 1 and node is None")(debug, at(1))  # a state event
    assert Condition('data["outputs"]["score"] < 0.5')(debug, at(34))
    assert Condition('state["x"] == 30 and state["pages"] == 3')(debug, at(20))
    assert Condition("len([k for k in state if k]) == 2 and max(state.values()) == 30")(
        debug, at(20))


@pytest.mark.parametrize(("text", "why"), [
    ("", "the condition is empty"),
    ("attempt >", "is not a Python expression"),
    ("x = 1", "is not a Python expression"),
    ("__import__('os')", "cannot use '__import__'"),
    ("data.__class__", "cannot use '__class__'"),
    ("[c for c in ().__class__.__mro__]", "cannot use '__class__'"),
])
def test_conditions_refused_when_set(text: str, why: str) -> None:
    """Not an expression, or reaching for a name that starts with _: refused, named."""
    with pytest.raises(ConditionError, match=why):
        Condition(text)


def test_no_builtin_beyond_the_harmless_ones(debug: Replayer) -> None:
    """open, eval, getattr … are not there: using one raises NameError at the event."""
    assert "open" not in SAFE_BUILTINS and "getattr" not in SAFE_BUILTINS
    for text in ("open('/etc/passwd')", "eval('1')", "getattr(data, 'x')", "nope"):
        with pytest.raises(NameError):
            Condition(text)(debug, debug.get_event(0))


def test_a_raising_condition_is_false_and_kept_for_the_table(debug: Replayer) -> None:
    """The table stops only where the condition holds; an error is false and remembered;
    a disabled breakpoint is silent; hits count stops; a temporary one goes after one."""
    table = Breakpoints()
    low = table.add("research", Condition('data["outputs"]["score"] < 0.5'))
    once = table.add("node_error", temporary=True)
    starts = [debug.get_event(s) for s in (31, 33)]
    assert [table.stopping(debug, e) for e in starts] == [[], []]
    assert low.last_error == "KeyError: 'outputs'"
    assert table.stopping(debug, debug.get_event(32)) == []  # 0.9
    assert table.stopping(debug, debug.get_event(34)) == [low]
    low.enabled = False
    assert table.stopping(debug, debug.get_event(34)) == []
    hit = table.stopping(debug, debug.get_event(24))
    assert hit == [once]
    table.stopped(hit)
    assert once.hits == 1 and [bp.number for bp in table] == [1]
    assert table.add("tidy").number == 3  # numbers are never reused


def test_numbers_that_are_not_breakpoints() -> None:
    """A number not in the table, or not a number, is a named error."""
    table = Breakpoints()
    table.add("fetch")
    assert [bp.where for bp in table.get(["1"])] == ["fetch"]
    with pytest.raises(NoSuchBreakpoint, match="no breakpoint 2; b lists them"):
        table.get(["1", "2"])
    with pytest.raises(ValueError, match="'x' is not a breakpoint number"):
        table.get(["x"])

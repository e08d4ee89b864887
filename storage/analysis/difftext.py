"""Values of a run diff as text, and the plain-text report (`RecordingDiff.to_text`).

A long value that differs near its end must not look equal because both
sides were cut at the same column. `show_pair` does what pytest's assertion
diff does: it finds the first character where the two sides' JSON texts
differ and shows each side in a window of the width available around it —
some context before, what follows after — with ``…`` where text was left
out, and says at which character the difference starts. A ``$truncated``
stand-in is shown as what it is: an unknown value of that many bytes. The
rich report (`replayer.terminal.diffreport`) uses the same windows.
"""

from __future__ import annotations

import shutil
import sys
from typing import TYPE_CHECKING, Any

import msgspec

from .._words import plural
from ..format.placeholders import TRUNCATED_KEY, is_truncated
from .valuediff import ABSENT

if TYPE_CHECKING:
    from .diffmodel import RecordingDiff

__all__ = ["Pair", "format_value", "show_pair", "text_report"]

_ELLIPSIS = "…"
#: The narrowest window worth showing, whatever the width.
_MIN_WIDTH = 16
#: Where the first difference sits in a window that had to skip a common start.
_CONTEXT_BEFORE = 2 / 3


def format_value(value: Any, limit: int = 120) -> str:
    """A value as short JSON text; ``(absent)`` for a missing side, and a ``$truncated``
    stand-in as ``unknown (truncated: N bytes)``."""
    if value is ABSENT:
        return "(absent)"
    if is_truncated(value):
        size = value[TRUNCATED_KEY]
        text = (f"unknown (truncated: {size:,} bytes)" if isinstance(size, int)
                else "unknown (truncated)")
    else:
        try:
            text = msgspec.json.encode(value).decode()
        except (TypeError, msgspec.EncodeError):
            text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + _ELLIPSIS


class Pair(msgspec.Struct, frozen=True, gc=False):
    """Both sides of a difference as text, each at most the width asked for."""

    a: str
    b: str
    at: int | None = None
    """The 1-based character of the JSON texts where they first differ, when a side
    had to be cut to fit (None: both are shown whole, or one side has no text to compare)."""


def show_pair(a: Any, b: Any, width: int) -> Pair:
    """``a`` and ``b`` in windows of at most ``width`` characters around their first difference.

    ::

        >>> show_pair("x" * 50 + "end", "x" * 50 + "END", 20)
        Pair(a='…xxxxxxxxxxxxend"', b='…xxxxxxxxxxxxEND"', at=52)
    """
    width = max(width, _MIN_WIDTH)
    ta, tb = format_value(a, sys.maxsize), format_value(b, sys.maxsize)
    if len(ta) <= width and len(tb) <= width:
        return Pair(ta, tb)
    if a is ABSENT or b is ABSENT or is_truncated(a) or is_truncated(b):
        return Pair(_window(ta, 0, width), _window(tb, 0, width))
    at = 0
    for x, y in zip(ta, tb, strict=False):
        if x != y:
            break
        at += 1
    start = max(0, at - int(width * _CONTEXT_BEFORE))
    return Pair(_window(ta, start, width), _window(tb, start, width), at + 1)


def _window(text: str, start: int, width: int) -> str:
    """``text[start:]`` in at most ``width`` characters, ``…`` marking what is left out."""
    if start >= len(text):  # the shorter side ended before the window: show its end
        start = max(0, len(text) - width // 2)
    head = _ELLIPSIS if start > 0 else ""
    body = text[start:]
    room = width - len(head)
    if len(body) > room:
        body = body[:room - 1] + _ELLIPSIS
    return head + body


def _ms(ns: int | None) -> str:
    return "-" if ns is None else f"{ns / 1e6:.1f} ms"


def _change_lines(path: str, a: Any, b: Any, indent: str, width: int) -> list[str]:
    """``path: a -> b`` on one line when it fits, else the path and each side on its own."""
    pair = show_pair(a, b, width - len(indent) - 2)
    line = f"{indent}{path}: {pair.a} -> {pair.b}"
    if len(line) <= width and pair.at is None:
        return [line]
    where = f" (differs from character {pair.at})" if pair.at is not None else ""
    pair = show_pair(a, b, width - len(indent) - 5)
    return [f"{indent}{path}{where}:", f"{indent}  A: {pair.a}", f"{indent}  B: {pair.b}"]


def text_report(d: RecordingDiff, max_lines: int, width: int | None = None) -> list[str]:
    """The lines of `RecordingDiff.to_text` (``width``: the terminal's, else 120)."""
    if width is None:
        width = shutil.get_terminal_size((120, 24)).columns
    a, b = d.a_recording, d.b_recording
    reasons = d.regression_reasons()
    if d.regression:
        verdict = "REGRESSION: " + "; ".join(reasons)
    elif d.identical:
        verdict = "identical" + (" (timing differs)" if d.timing_regressions else "")
    else:
        verdict = "no regression (the differences below are not counted by the policy)"
    lines = [
        f"flowtape diff: {verdict}",
        f"  A: {a.workflow} {a.recording_id} ({d.metadata.status.a})  {a.path}",
        f"  B: {b.workflow} {b.recording_id} ({d.metadata.status.b})  {b.path}",
    ]
    fd = d.first_divergence
    if fd is not None:
        lines += ["", f"First divergence at step {fd.position}:"]
        for label, side in (("A", fd.a), ("B", fd.b)):
            lines.append(f"  {label}: " + (f"{side.node} (seq {side.seq}, {side.status})"
                                           if side is not None else "(nothing)"))
    budget = max_lines
    body: list[str] = []
    for i, s in enumerate(d.steps):
        if s.op == "equal":
            continue
        if budget <= 0:
            rest = sum(1 for t in d.steps[i:] if t.op != "equal")
            body.append(f"  … {plural(rest, 'more differing step')} (see the JSON report)")
            break
        mark = {"changed": "~", "only_in_a": "-", "only_in_b": "+"}[s.op]
        where = " ".join(f"{k}#{v}" for k, v in (("A", s.a), ("B", s.b)) if v is not None)
        label = {"changed": "changed", "only_in_a": "only in A", "only_in_b": "only in B"}[s.op]
        body.append(f"  {mark} step {i} {s.node} [{where}] {label}")
        budget -= 1
        for c in s.changes:
            body += _change_lines(c.path, c.a, c.b, "      ", width)
            budget -= 1
    if body:
        lines += ["", "Steps that differ:", *body]
    if d.moved:
        lines.append(f"  (moved, i.e. in both runs at different places: {', '.join(d.moved)})")
    for title, changes in (("Final state", d.state_changes.at_end),
                           ("State at the first divergence", d.state_changes.at_first_divergence)):
        if changes:
            lines += ["", f"{title}:"]
            for c in changes[:max_lines]:
                lines += _change_lines(c.path, c.a, c.b, "  ", width)
            if len(changes) > max_lines:
                lines.append(f"  … {len(changes) - max_lines} more")
    if d.timing_regressions:
        lines += ["", "Timing regressions (slowest ratio first):"]
        for t in d.timing_regressions[:max_lines]:
            attempt = f" (attempt {t.attempt})" if t.attempt > 1 else ""
            lines.append(f"  {t.node}{attempt} [A#{t.a_seq} B#{t.b_seq}]: {_ms(t.a_ns)} -> "
                         f"{_ms(t.b_ns)} ({t.ratio:.1f}x)")
    m = d.metadata
    lines += ["", "Metadata (A -> B):",
              f"  status: {m.status.a} -> {m.status.b}",
              f"  duration: {_ms(m.duration_ns.a)} -> {_ms(m.duration_ns.b)}",
              f"  events: {m.event_count.a} -> {m.event_count.b}",
              f"  nodes: {m.node_count.a} -> {m.node_count.b}"]
    return lines

"""How the read side words things for people: recorded text made safe, counts, durations,
sizes, previews of values and errors.

One place for the wording every room of `replayer` shares — the terminal,
the exports, the command line and the viewer — so a duration, a count or a
cut value reads the same everywhere, and recorded text is made safe the same
way (`printable`): a recorded name, payload or error message may hold escape
sequences, which must show, never act.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from storage import is_truncated
from storage._words import plural
from storage.analysis.paths import MISSING, Unknown, unknown_of

__all__ = ["error_summary", "fmt_ns", "fmt_offset", "fmt_size", "headline", "json_text",
           "plural", "preview", "printable", "show_value", "truncation_note"]

#: Control characters (C0 but tab and newline, DEL, C1) as their visible escapes.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))
             if c not in (0x09, 0x0A)}
_CONTROLS_ONE_LINE = {**_CONTROLS, 0x09: "\\t", 0x0A: "\\n"}
#: What `json.dumps` leaves raw (DEL and C1; it escapes C0 itself), as JSON escapes.
_JSON_CONTROLS = {c: f"\\u{c:04x}" for c in (0x7F, *range(0x80, 0xA0))}
_sorted_json = msgspec.json.Encoder(order="sorted")


def printable(text: str, *, one_line: bool = False) -> str:
    """``text`` from a recording made safe for a terminal: control characters shown, not run.

    A recorded name, payload or error message may hold escape sequences
    (``\\x1b]0;title``, ``\\x1b[2J``); they are rendered as the visible text
    ``\\x1b`` so nothing recorded can retitle, clear or recolour a terminal.
    With ``one_line`` newlines and tabs are escaped too (table cells, timeline rows).
    """
    table = _CONTROLS_ONE_LINE if one_line else _CONTROLS
    return text.translate(table)


def json_text(value: Any, *, indent: int | None = None) -> str:
    """``value`` as JSON that is safe on a terminal: every control character escaped.

    `json.dumps` escapes C0 controls but leaves DEL and the C1 range (``U+009B``
    is CSI to many terminals) raw; they become ``\\u00XX`` too. Non-ASCII text
    stays readable, and the result is still JSON for the same value.
    """
    text = json.dumps(value, ensure_ascii=False, indent=indent, default=str)
    return text.translate(_JSON_CONTROLS)


def show_value(value: Any) -> str:
    """A looked-up value on one line: JSON, ``(not set)`` or ``(unknown: … truncated …)``."""
    if value is MISSING:
        return "(not set)"
    if isinstance(value, Unknown):
        return str(value)
    return json_text(value)


def fmt_ns(ns: int | None) -> str:
    """A duration for people: ``850ns``, ``17.5µs``, ``1.21ms``, ``2.13s``, ``3m05s``."""
    if ns is None:
        return "?"
    if ns < 1_000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:.1f}µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.2f}ms"
    if ns < 60_000_000_000:
        return f"{ns / 1e9:.2f}s"
    minutes, seconds = divmod(ns // 1_000_000_000, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s"


def fmt_offset(ts: int) -> str:
    """An event's time since the recording started: ``+1.21ms``."""
    return "+" + fmt_ns(ts)


def fmt_size(n: int) -> str:
    """A byte count for people: ``812 B``, ``4.2 KiB``, ``1.5 MiB``."""
    if n < 1024:
        return f"{n} B"
    size = n / 1024
    for unit in ("KiB", "MiB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def truncation_note(placeholder: dict[str, Any]) -> str:
    """What a ``$truncated`` stand-in means: the value is not in the recording."""
    return f"unknown: truncated, {unknown_of(placeholder).size_note}"


def preview(value: Any, width: int = 60) -> str:
    """``value`` on one line, cut to ``width`` characters with an ellipsis.

    A string is itself, anything else compact JSON with its keys sorted; a
    truncated payload reads as unknown, not as the stand-in's keys; newlines
    become spaces and other control characters are shown (`printable`).
    """
    if is_truncated(value):
        return truncation_note(value)
    try:
        text = value if isinstance(value, str) else _sorted_json.encode(value).decode()
    except (TypeError, msgspec.EncodeError):
        text = repr(value)
    text = printable(" ".join(text.split("\n")), one_line=True)
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def headline(error: dict[str, Any]) -> str:
    """An error payload as ``Type: message`` (``Type`` alone without a message)."""
    kind = str(error.get("type") or "error")
    message = str(error.get("message") or "")
    return f"{kind}: {message}" if message else kind


def error_summary(data: Any) -> str | None:
    """The `headline` of an event payload's ``error`` (a string error as itself), or None."""
    if not isinstance(data, dict):
        return None
    err = data.get("error")
    if isinstance(err, dict):
        return headline(err)
    if isinstance(err, str):
        return err
    return None

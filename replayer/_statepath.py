"""State paths (SPEC §6): ``cart.items[0]``, with or without a leading ``state.``.

One grammar for reading what a person types and for printing paths back:
dotted keys, ``[i]`` list indices (negative counts from the end), and
``["odd.key"]`` JSON-quoted keys for names that are not plain; the same
spelling the diff report uses (`storage._valuediff.child_path`). What is
printed back is safe on a terminal: a key's control characters come out as
JSON escapes, which the parser reads back.

Looking a path up tells three outcomes apart: a value, `MISSING` (the path
leads nowhere), and `Unknown` — the path runs into a payload the recorder
truncated (``{"$truncated": …}``, docs/format.md §Payloads), so the
recording does not hold what is there.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from storage import is_truncated
from storage.format.placeholders import TRUNCATED_KEY

from .terminal.console import json_text, plural

__all__ = ["MISSING", "Unknown", "format_path", "lookup", "parse_state_path", "pointer_parts",
           "same", "show_value", "unknown_of"]

#: What `lookup` returns where a path leads nowhere (distinct from a stored null).
MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<missing>"})()

_canonical = msgspec.json.Encoder(order="sorted")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_$-]+")
_PATH_TOKEN = re.compile(r'\[(-?\d+)\]|\[("(?:[^"\\]|\\.)*")\]|(\.)?([^.\[\]]+)')


class Unknown(msgspec.Struct, frozen=True):
    """What `lookup` returns where a path meets a truncated payload: the value is not recorded."""

    where: tuple[str | int, ...]
    """The path of the truncated payload (the looked-up path or one of its ancestors)."""
    size: int | None
    """Its encoded size in bytes when it was recorded (None if the file does not say)."""

    @property
    def size_note(self) -> str:
        """``was 521 bytes`` (or that the file does not say)."""
        return f"was {plural(self.size, 'byte')}" if self.size is not None else "size not recorded"

    def __str__(self) -> str:
        return f"(unknown: {format_path(list(self.where)) or 'state'} truncated, {self.size_note})"


def unknown_of(placeholder: dict[str, Any], where: list[str | int] | None = None) -> Unknown:
    """The `Unknown` a ``$truncated`` stand-in at ``where`` stands for."""
    size = placeholder.get(TRUNCATED_KEY)
    return Unknown(tuple(where or ()), size if type(size) is int else None)


def parse_state_path(text: str) -> list[str | int]:
    """A §6 state path (``cart.items[0]``, with or without ``state.``) as keys and indices.

    Raises ValueError for text that is not a path.
    """
    text = text.strip()
    if text == "state":
        return []
    if text.startswith(("state.", "state[")):
        text = text[5:].removeprefix(".")
    parts: list[str | int] = []
    pos = 0
    while pos < len(text):
        m = _PATH_TOKEN.match(text, pos)
        if m is None or (m.group(4) is not None and parts and m.group(3) is None) \
                or (m.group(3) is not None and not parts):
            raise ValueError(f"{text!r} is not a state path (write it like cart.items[0])")
        index, quoted, _, key = m.groups()
        if index is not None:
            parts.append(int(index))
        elif quoted is not None:
            parts.append(json.loads(quoted))
        else:
            parts.append(key)
        pos = m.end()
    return parts


def format_path(parts: list[str | int]) -> str:
    """``["cart", "items", 0]`` -> ``cart.items[0]``; ``[]`` -> ``""``."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif _PLAIN_KEY.fullmatch(p):
            out += ("." if out else "") + p
        else:
            out += "[" + json_text(p) + "]"
    return out


def lookup(value: Any, parts: list[str | int]) -> Any:
    """The value at ``parts`` inside ``value``, `MISSING`, or `Unknown` past a truncation."""
    for depth, p in enumerate(parts):
        if is_truncated(value):
            return unknown_of(value, parts[:depth])
        if isinstance(value, dict):
            if not isinstance(p, str) or p not in value:
                return MISSING
            value = value[p]
        elif isinstance(value, list):
            try:
                i = p if isinstance(p, int) else int(p)
            except ValueError:
                return MISSING
            if not -len(value) <= i < len(value):
                return MISSING
            value = value[i]
        else:
            return MISSING
    return unknown_of(value, parts) if is_truncated(value) else value


def same(a: Any, b: Any) -> bool:
    """JSON equality: ``1`` and ``True`` differ, key order does not matter, MISSING is itself.

    An `Unknown` equals only the same `Unknown`: nothing says what it held.
    """
    if a is MISSING or b is MISSING:
        return a is b
    if isinstance(a, Unknown) or isinstance(b, Unknown):
        return bool(a == b)
    return _canonical.encode(a) == _canonical.encode(b)


def show_value(value: Any) -> str:
    """A looked-up value on one line: JSON, ``(not set)`` or ``(unknown: … truncated …)``."""
    if value is MISSING:
        return "(not set)"
    if isinstance(value, Unknown):
        return str(value)
    return json_text(value)


def pointer_parts(ptr: str, *docs: Any) -> list[str | int]:
    """A JSON Pointer's tokens as path parts; tokens under a list (in any of ``docs``) as ints."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in ptr[1:].split("/")] if ptr else []
    parts: list[str | int] = []
    for t in tokens:
        is_list = any(isinstance(lookup(d, parts), list) for d in docs)
        parts.append(int(t) if is_list and t.lstrip("-").isdigit() else t)
    return parts

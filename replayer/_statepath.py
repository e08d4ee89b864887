"""State paths (SPEC §6): ``cart.items[0]``, with or without a leading ``state.``.

One grammar for reading what a person types and for printing paths back:
dotted keys, ``[i]`` list indices (negative counts from the end), and
``["odd.key"]`` JSON-quoted keys for names that are not plain; the same
spelling the diff report uses (`storage._valuediff.child_path`).
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

__all__ = ["MISSING", "format_path", "lookup", "parse_state_path", "pointer_parts", "same"]

#: What `lookup` returns where a path leads nowhere (distinct from a stored null).
MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<missing>"})()

_canonical = msgspec.json.Encoder(order="sorted")
_json = msgspec.json.Encoder()
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_$-]+")
_PATH_TOKEN = re.compile(r'\[(-?\d+)\]|\[("(?:[^"\\]|\\.)*")\]|(\.)?([^.\[\]]+)')


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
            out += "[" + _json.encode(p).decode() + "]"
    return out


def lookup(value: Any, parts: list[str | int]) -> Any:
    """The value at ``parts`` inside ``value``, or `MISSING`."""
    for p in parts:
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
    return value


def same(a: Any, b: Any) -> bool:
    """JSON equality: ``1`` and ``True`` differ, key order does not matter, MISSING is itself."""
    if a is MISSING or b is MISSING:
        return a is b
    return _canonical.encode(a) == _canonical.encode(b)


def pointer_parts(ptr: str, *docs: Any) -> list[str | int]:
    """A JSON Pointer's tokens as path parts; tokens under a list (in any of ``docs``) as ints."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in ptr[1:].split("/")] if ptr else []
    parts: list[str | int] = []
    for t in tokens:
        is_list = any(isinstance(lookup(d, parts), list) for d in docs)
        parts.append(int(t) if is_list and t.lstrip("-").isdigit() else t)
    return parts

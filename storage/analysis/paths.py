"""§6 value paths: the one grammar for diff reports, ignore rules, state paths and lookups.

A path starts at the part of a node execution it is in — ``inputs``,
``outputs``, ``error`` — or at ``state``, then dotted keys and ``[i]`` list
indices: ``outputs.result.score``, ``inputs.messages[2].content``,
``state.cart.items[0]``. A key that is not a plain word (letters, digits,
``_``, ``-``, ``$``) is written as a JSON string in brackets:
``outputs["a.b"]``; its control characters, DEL and C1 included, are JSON
escapes, so a printed path is safe on a terminal and reads back the same.
`child_path` / `index_path` / `format_path` write paths, `parse_path` reads
them (``[-1]`` counts from the end), and JSON Pointers (RFC 6901, the paths
of RFC 6902 patches) convert both ways (`pointer`, `unpointer`,
`pointer_parts`).

Looking a path up (`lookup`) tells three outcomes apart: a value, `MISSING`
(the path leads nowhere) and `Unknown` — the path runs into a payload the
recorder truncated (``{"$truncated": …}``, docs/format.md §Payloads), so the
recording does not hold what is there. Node globs (``fetch_*``, the prefix of
an ignore rule, a breakpoint, a ``--node`` filter) match with `node_matches`.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

import msgspec

from .._words import plural
from ..errors import PatchError
from ..format.placeholders import TRUNCATED_KEY, is_truncated

__all__ = ["MISSING", "Part", "Unknown", "child_path", "format_path", "index_path", "lookup",
           "node_matches", "parse_path", "parse_state_path", "pointer", "pointer_parts", "same",
           "unknown_of", "unpointer"]

Part = str | int
"""One step of a path: a dict key or a list index."""

#: What `lookup` returns where a path leads nowhere (distinct from a stored null).
MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<missing>"})()

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_$-]+")
_TOKEN = re.compile(r'\[(-?\d+)\]|\[("(?:[^"\\]|\\.)*")\]|(\.)?([^.\[\]]+)')
_json = msgspec.json.Encoder()
_canonical = msgspec.json.Encoder(order="sorted")
#: What JSON encoders leave raw that a terminal would act on (DEL and C1), as JSON escapes.
_RAW_CONTROLS = {c: f"\\u{c:04x}" for c in (0x7F, *range(0x80, 0xA0))}


# --- writing and reading paths ----------------------------------------------------------
def _key(key: str) -> str:
    """A key as it stands after a dot, or bracketed as a JSON string."""
    if _PLAIN_KEY.fullmatch(key):
        return key
    return "[" + _json.encode(key).decode().translate(_RAW_CONTROLS) + "]"


def child_path(path: str, key: str) -> str:
    """``path`` extended by a dict key (dotted, or bracketed JSON for unusual keys)."""
    step = _key(key)
    if step.startswith("["):
        return path + step
    return f"{path}.{step}" if path else step


def index_path(path: str, i: int) -> str:
    """``path`` extended by a list index."""
    return f"{path}[{i}]"


def format_path(parts: list[Part]) -> str:
    """``["cart", "items", 0]`` -> ``cart.items[0]``; ``[]`` -> ``""``."""
    out = ""
    for p in parts:
        out = index_path(out, p) if isinstance(p, int) else child_path(out, p)
    return out


def parse_path(text: str) -> list[Part]:
    """A path as keys and indices (``cart.items[-1]`` -> ``["cart", "items", -1]``).

    Raises ValueError for text that is not a path.
    """
    parts: list[Part] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
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


def parse_state_path(text: str) -> list[Part]:
    """A state path (``cart.items[0]``, with or without a leading ``state.``) as parts.

    Raises ValueError for text that is not a path.
    """
    text = text.strip()
    if text == "state":
        return []
    if text.startswith(("state.", "state[")):
        text = text[5:].removeprefix(".")
    return parse_path(text)


# --- JSON Pointers (RFC 6901) --------------------------------------------------------------
def pointer(parts: list[Part]) -> str:
    """JSON Pointer for a list of keys / indices."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _tokens(ptr: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in ptr[1:].split("/")] if ptr else []


def unpointer(ptr: str) -> list[str]:
    """The unescaped tokens of a JSON Pointer; `PatchError` for one that is not a pointer."""
    if not isinstance(ptr, str):
        raise PatchError(f"JSON pointer {ptr!r} must be a string")
    if ptr and not ptr.startswith("/"):
        raise PatchError(f"JSON pointer {ptr!r} must start with '/'")
    return _tokens(ptr)


def pointer_parts(ptr: str, *docs: Any) -> list[Part]:
    """A JSON Pointer as path parts, for showing it (never raises).

    A token is a list index where it stands under a list in any of ``docs``;
    without ``docs``, wherever it is all digits.
    """
    parts: list[Part] = []
    for t in _tokens(ptr):
        if docs:
            is_list = any(isinstance(lookup(d, parts), list) for d in docs)
            index = is_list and t.lstrip("-").isdigit()
        else:
            index = t.isdigit()
        parts.append(int(t) if index else t)
    return parts


# --- looking values up ----------------------------------------------------------------------
class Unknown(msgspec.Struct, frozen=True):
    """What `lookup` returns where a path meets a truncated payload: the value is not recorded."""

    where: tuple[Part, ...]
    """The path of the truncated payload (the looked-up path or one of its ancestors)."""
    size: int | None
    """Its encoded size in bytes when it was recorded (None if the file does not say)."""

    @property
    def size_note(self) -> str:
        """``was 521 bytes`` (or that the file does not say)."""
        return f"was {plural(self.size, 'byte')}" if self.size is not None else "size not recorded"

    def __str__(self) -> str:
        return f"(unknown: {format_path(list(self.where)) or 'state'} truncated, {self.size_note})"


def unknown_of(placeholder: dict[str, Any], where: list[Part] | None = None) -> Unknown:
    """The `Unknown` a ``$truncated`` stand-in at ``where`` stands for."""
    size = placeholder.get(TRUNCATED_KEY)
    return Unknown(tuple(where or ()), size if type(size) is int else None)


def lookup(value: Any, parts: list[Part]) -> Any:
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


# --- node globs --------------------------------------------------------------------------------
def node_matches(node: str | None, pattern: str) -> bool:
    """Whether the node id ``node`` matches ``pattern``: a glob (``*``, ``?``, ``[…]``,
    case-sensitive) or, without those, the id itself. No node matches nothing."""
    if node is None:
        return False
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(node, pattern)
    return node == pattern

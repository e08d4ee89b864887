"""How a workflow's values become JSON: the encode hook, placeholders, and the general converter.

msgspec encodes most values natively (dicts, lists, dataclasses, Structs,
attrs classes, dates, UUIDs, enums, bytes). The hook below covers what it
cannot: pydantic models (their ``model_dump``), numpy scalars and arrays
(numbers and lists, without importing numpy), int and float subclasses
(numbers), non-string dict keys (``str(key)``, docs/format.md §Payload
conventions), and anything else as a typed placeholder ``{"$repr", "$type"}``.

`to_builtins` is the general path for what the one-shot encode cannot take:
lone surrogates (escaped, ``"\\udcff"``), cycles (a placeholder), absurd
depth, NamedTuples (an object with their field names, where msgspec would
write a list), dict keys msgspec refuses. It never raises.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

__all__ = [
    "error_payload",
    "fix_text",
    "has_named_tuple",
    "make_enc_hook",
    "placeholder",
    "to_builtins",
    "truncated",
]

REPR_LIMIT = 1000
PREVIEW_BYTES = 200
MAX_DEPTH = 200
_LEAVES = frozenset({str, int, float, bool, type(None), bytes})
_RECORDER_DIR = str(Path(__file__).resolve().parent)


def fix_text(text: str) -> str:
    """``text`` as valid Unicode: lone surrogates become ``\\udcff``-style escapes (SPEC §4).

    Anything but a string is returned as it is (the encoder deals with it).
    """
    if not isinstance(text, str):
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def placeholder(obj: object, mask_repr: Callable[[object, str], str] | None = None
                ) -> dict[str, str]:
    """The typed stand-in for a value that cannot be encoded as JSON.

    ``mask_repr(obj, text)`` may hide what the repr shows of secret attributes.
    """
    t = type(obj)
    try:
        text = repr(obj)
    except Exception as exc:  # a broken __repr__ must not break the workflow
        text = f"<unrepresentable: {type(exc).__name__}>"
    if mask_repr is not None:
        # (On a bounded prefix: a repr can run to megabytes, and only 1000 chars stay.)
        text = mask_repr(obj, text[:4 * REPR_LIMIT])
    if len(text) > REPR_LIMIT:
        text = text[:REPR_LIMIT] + "…"
    return {"$repr": fix_text(text), "$type": fix_text(f"{t.__module__}.{t.__qualname__}")}


def truncated(encoded_size: int, encoded: bytes) -> dict[str, Any]:
    """The stand-in for a payload over the size limit (its encoding is masked already)."""
    return {
        "$truncated": encoded_size,
        "$preview": encoded[:PREVIEW_BYTES].decode("utf-8", errors="replace"),
    }


def _converted(obj: object) -> tuple[bool, Any]:
    """(True, a natively encodable form) for the types the hook knows, else (False, None)."""
    t = type(obj)
    if isinstance(obj, int) and t is not bool:
        return True, int(obj)  # IntFlag, custom int subclasses
    if isinstance(obj, float):
        return True, float(obj)
    module = t.__module__
    if module == "numpy" or module.startswith("numpy."):
        tolist = getattr(obj, "tolist", None)
        if tolist is not None:  # numpy scalars -> numbers, arrays -> (nested) lists
            return True, tolist()
    dump = getattr(obj, "model_dump", None)
    if dump is not None and hasattr(t, "model_fields"):  # a pydantic v2 model
        try:
            return True, dump(mode="json")
        except Exception:
            return False, None
    return False, None


def make_enc_hook(mask_repr: Callable[[object, str], str] | None = None
                  ) -> Callable[[object], Any]:
    """The msgspec ``enc_hook`` for recorded payloads (see the module docstring)."""

    def enc_hook(obj: object) -> Any:
        ok, value = _converted(obj)
        if ok:
            return value
        if isinstance(obj, tuple | bool | frozenset) or obj is None:
            # msgspec encodes these natively as values, so here they are dict keys.
            return str(obj)
        return placeholder(obj, mask_repr)

    return enc_hook


def _is_named_tuple(value: object) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def _object_fields(value: object) -> dict[str, Any] | None:
    """A dataclass's, attrs class's or msgspec Struct's fields as msgspec encodes them."""
    t = type(value)
    if isinstance(value, msgspec.Struct):
        names = t.__struct_encode_fields__  # type: ignore[attr-defined]
        return {n: getattr(value, f) for n, f in zip(names, t.__struct_fields__)}  # type: ignore[attr-defined]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    attrs = getattr(t, "__attrs_attrs__", None)
    if attrs is not None:
        return {a.name: getattr(value, a.name) for a in attrs}
    return None


def has_named_tuple(value: Any, depth: int = 0) -> bool:
    """True when a NamedTuple sits anywhere in ``value`` (msgspec would lose its field names)."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, list | tuple):
        if _is_named_tuple(value):
            return True
        items = value
    elif isinstance(value, str | bytes | int | float) or value is None:
        return False
    else:
        fields = _object_fields(value)
        if fields is None:
            return False
        items = fields.values()
    if set(map(type, items)) <= _LEAVES:  # C speed: an embedding's 1536 floats, say
        return False
    return any(type(v) not in _LEAVES and has_named_tuple(v, depth + 1) for v in items)


def to_builtins(value: Any, enc_hook: Callable[[object], Any],
                _active: set[int] | None = None, _depth: int = 0) -> Any:
    """A JSON-safe copy of ``value`` built from plain dicts, lists, strings and numbers.

    The general path: slower than the one-shot encode, and never raises.
    """
    t = type(value)
    if t is str:
        return value if value.isascii() else fix_text(value)
    if value is None or t in (int, float, bool) or t is msgspec.Raw:
        return value  # (a Raw is a payload encoded and masked already)
    if _depth > MAX_DEPTH:
        return {"$repr": "<nested too deep>", "$type": f"{t.__module__}.{t.__qualname__}"}
    active = _active if _active is not None else set()
    if isinstance(value, dict | list | tuple | set | frozenset) or _object_fields(value) \
            is not None:
        if id(value) in active:
            return {"$repr": "<cycle>", "$type": f"{t.__module__}.{t.__qualname__}"}
        active.add(id(value))
        try:
            if isinstance(value, dict):
                return {_key(k, enc_hook): to_builtins(v, enc_hook, active, _depth + 1)
                        for k, v in value.items()}
            if _is_named_tuple(value):
                return {fix_text(str(k)): to_builtins(v, enc_hook, active, _depth + 1)
                        for k, v in zip(t._fields, value)}  # type: ignore[attr-defined]
            if isinstance(value, list | tuple | set | frozenset):
                return [to_builtins(v, enc_hook, active, _depth + 1) for v in value]
            fields = _object_fields(value)
            assert fields is not None
            return {fix_text(k): to_builtins(v, enc_hook, active, _depth + 1)
                    for k, v in fields.items()}
        finally:
            active.discard(id(value))
    if isinstance(value, str):  # a str subclass
        return fix_text(str(value))
    ok, converted = _converted(value)
    if ok:
        return to_builtins(converted, enc_hook, active, _depth + 1)
    try:
        # bytes, dates, UUIDs, enums, Decimals...: msgspec's own builtin forms.
        plain = msgspec.to_builtins(value, enc_hook=enc_hook, str_keys=True)
    except Exception:
        return enc_hook(value)
    if type(plain) is dict and plain.get("$repr") is not None:
        return plain  # a placeholder: its text is fixed already
    return to_builtins(plain, enc_hook, active, _depth + 1)


def _key(k: object, enc_hook: Callable[[object], Any]) -> str:
    """``k`` as a JSON object key: strings as they are, str-like values the way msgspec
    writes them (enums by value, dates, UUIDs), anything else ``str(k)``."""
    if isinstance(k, str):
        return fix_text(str(k))
    if isinstance(k, int | float) and not isinstance(k, bool):
        return str(k)
    try:
        key = msgspec.to_builtins(k)
    except Exception:
        key = None
    if not isinstance(key, str):
        try:
            key = str(k)
        except Exception:
            key = placeholder(k)["$repr"]
    return fix_text(key)


# --- errors -----------------------------------------------------------------------------------
def error_payload(exc: BaseException) -> dict[str, Any]:
    """``type``, ``module``, ``message``, formatted ``traceback`` and the ``causes`` chain.

    The traceback leaves out flowtape's own frames (the ``@node`` wrapper): they
    are not the user's code and only push the interesting lines down.
    """
    t = type(exc)
    causes: list[dict[str, str]] = []
    seen = {id(exc)}
    cur: BaseException | None = exc.__cause__ or (
        None if exc.__suppress_context__ else exc.__context__)
    while cur is not None and id(cur) not in seen and len(causes) < 20:
        seen.add(id(cur))
        causes.append({"type": type(cur).__qualname__, "message": _message(cur)})
        cur = cur.__cause__ or (None if cur.__suppress_context__ else cur.__context__)
    return {
        "type": t.__qualname__,
        "module": t.__module__,
        "message": _message(exc),
        "traceback": _traceback(exc),
        "causes": causes,
    }


def _traceback(exc: BaseException) -> str:
    try:
        te = traceback.TracebackException.from_exception(exc)
        seen: set[int] = set()
        cur: traceback.TracebackException | None = te
        while cur is not None and id(cur) not in seen:
            seen.add(id(cur))
            cur.stack = traceback.StackSummary.from_list(
                [f for f in cur.stack if not f.filename.startswith(_RECORDER_DIR)])
            cur = cur.__cause__ or cur.__context__
        return "".join(te.format())
    except Exception:
        return ""


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {type(exc).__qualname__}>"

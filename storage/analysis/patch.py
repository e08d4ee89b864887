"""RFC 6902 JSON Patch: make one from two JSON values, and apply one.

The recorder stores state changes as patches (`make_patch`), the replayer
rebuilds state by applying them (`apply_patch`). Values are JSON values
(dict with str keys, list, str, int, float, bool, None). Comparison is
type-strict, so ``1 -> True`` or ``1 -> 1.0`` is a change, as it is in JSON.
Paths are JSON Pointers (RFC 6901: ``~`` is ``~0``, ``/`` is ``~1``; `storage.analysis.paths`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..errors import PatchError
from .paths import pointer, unpointer

__all__ = ["apply_patch", "copy_json", "make_patch"]

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()
#: Below this depth make_patch describes changes inside values; deeper, it replaces them
#: whole (a patch is still exact, and deep values cannot exhaust the stack).
_PATCH_DEPTH = 64


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value, however deeply it nests.

    A msgspec round trip (faster than copy.deepcopy for decoded JSON); a
    value nested deeper than the interpreter's recursion allows (or holding
    something msgspec does not encode) is copied with an explicit stack:
    dicts and lists anew, anything else shared.
    """
    if value is None or isinstance(value, str | int | float | bool):
        return value
    try:
        return _dec.decode(_enc.encode(value))
    except (RecursionError, TypeError, msgspec.EncodeError):  # too deep, or not JSON after all
        return _copy_deep(value)


def _copy_deep(value: Any) -> Any:
    if not isinstance(value, dict | list):
        return value
    root: Any = {} if isinstance(value, dict) else []
    stack: list[tuple[Any, Any]] = [(value, root)]
    while stack:
        src, dst = stack.pop()
        for key, item in (src.items() if isinstance(src, dict) else enumerate(src)):
            copied: Any = item
            if isinstance(item, dict | list):
                copied = {} if isinstance(item, dict) else []
                stack.append((item, copied))
            if isinstance(dst, dict):
                dst[key] = copied
            else:
                dst.append(copied)
    return root


def _same(a: Any, b: Any) -> bool:
    """JSON equality: type-strict for scalars, structural for containers (any depth)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict):
            if x.keys() != y.keys():
                return False
            stack.extend((v, y[k]) for k, v in x.items())
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif x != y:
            return False
    return True


def make_patch(old: Any, new: Any) -> list[dict[str, Any]]:
    """The RFC 6902 operations that turn ``old`` into ``new`` (empty when equal).

    Values in the operations are shared with ``new``; encode or copy them
    before ``new`` can change.
    """
    ops: list[dict[str, Any]] = []
    _diff(old, new, [], ops)
    return ops


def _diff(old: Any, new: Any, path: list[str | int], ops: list[dict[str, Any]]) -> None:
    if type(old) is not type(new) or len(path) >= _PATCH_DEPTH:
        ops.append({"op": "replace", "path": pointer(path), "value": new})
        return
    if isinstance(old, dict):
        for k in old:
            if k not in new:
                ops.append({"op": "remove", "path": pointer([*path, k])})
        for k, v in new.items():
            if k not in old:
                ops.append({"op": "add", "path": pointer([*path, k]), "value": v})
            elif not _same(old[k], v):
                _diff(old[k], v, [*path, k], ops)
        return
    if isinstance(old, list):
        common = min(len(old), len(new))
        for i in range(common):
            if not _same(old[i], new[i]):
                _diff(old[i], new[i], [*path, i], ops)
        for i in range(common, len(new)):
            ops.append({"op": "add", "path": pointer([*path, i]), "value": new[i]})
        for i in range(len(old) - 1, common - 1, -1):
            ops.append({"op": "remove", "path": pointer([*path, i])})
        return
    if old != new:
        ops.append({"op": "replace", "path": pointer(path), "value": new})


def apply_patch(doc: Any, ops: list[dict[str, Any]], *, in_place: bool = False) -> Any:
    """``doc`` with the operations applied; a copy unless ``in_place``.

    Raises `PatchError` when an operation does not apply (nothing else: a
    malformed patch is a PatchError too).
    """
    if not isinstance(ops, list):
        raise PatchError(f"a patch is a list of operations, not {type(ops).__name__}")
    if not in_place:
        doc = copy_json(doc)
    for op in ops:
        doc = _apply_one(doc, op)
    return doc


def _container(doc: Any, tokens: list[str], ptr: str) -> Any:
    cur = doc
    for t in tokens:
        if isinstance(cur, dict):
            if t not in cur:
                raise PatchError(f"path {ptr!r}: key {t!r} not found")
            cur = cur[t]
        elif isinstance(cur, list):
            cur = cur[_index(t, len(cur), ptr)]
        else:
            raise PatchError(f"path {ptr!r}: cannot descend into a {type(cur).__name__}")
    return cur


def _index(token: str, size: int, ptr: str, *, allow_end: bool = False) -> int:
    if token == "-" and allow_end:
        return size
    # isascii(): str.isdigit() also accepts non-ASCII digits such as superscript two
    # (U+00B2), which int() refuses.
    if not (token.isascii() and token.isdigit()) or (len(token) > 1 and token[0] == "0"):
        raise PatchError(f"path {ptr!r}: {token!r} is not a list index")
    if len(token) > 18:  # int() refuses > 4300 digits; no list is this long anyway
        raise PatchError(f"path {ptr!r}: index {token[:20]}… out of range (size {size})")
    i = int(token)
    if i > size or (i == size and not allow_end):
        raise PatchError(f"path {ptr!r}: index {i} out of range (size {size})")
    return i


def _get(doc: Any, ptr: str) -> Any:
    tokens = unpointer(ptr)
    return _container(doc, tokens, ptr)


def _add(doc: Any, ptr: str, value: Any) -> Any:
    tokens = unpointer(ptr)
    if not tokens:
        return value
    parent = _container(doc, tokens[:-1], ptr)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(last, len(parent), ptr, allow_end=True), value)
    else:
        raise PatchError(f"path {ptr!r}: cannot add into a {type(parent).__name__}")
    return doc


def _remove(doc: Any, ptr: str) -> tuple[Any, Any]:
    tokens = unpointer(ptr)
    if not tokens:
        return None, doc
    parent = _container(doc, tokens[:-1], ptr)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"path {ptr!r}: key {last!r} not found")
        return doc, parent.pop(last)
    if isinstance(parent, list):
        return doc, parent.pop(_index(last, len(parent), ptr))
    raise PatchError(f"path {ptr!r}: cannot remove from a {type(parent).__name__}")


def _member(op: dict[str, Any], name: str) -> Any:
    if name not in op:
        raise PatchError(f"patch operation {op!r} has no {name!r} member")
    return op[name]


def _apply_one(doc: Any, op: dict[str, Any]) -> Any:
    if not isinstance(op, dict) or "op" not in op or "path" not in op:
        raise PatchError(f"not a patch operation: {op!r}")
    kind, ptr = op["op"], op["path"]
    if kind == "add":
        return _add(doc, ptr, copy_json(_member(op, "value")))
    if kind == "remove":
        return _remove(doc, ptr)[0]
    if kind == "replace":
        value = copy_json(_member(op, "value"))
        doc, _ = _remove(doc, ptr)
        return _add(doc, ptr, value) if unpointer(ptr) else value
    if kind == "move":
        src = _member(op, "from")
        if src == ptr:
            _get(doc, src)  # RFC 6902 §4.4: the location must exist; moving onto itself is a no-op
            return doc
        src_tokens, dst_tokens = unpointer(src), unpointer(ptr)
        if dst_tokens[:len(src_tokens)] == src_tokens:
            raise PatchError(f"cannot move {src!r} into its own child {ptr!r}")
        doc, value = _remove(doc, src)
        return _add(doc, ptr, value)
    if kind == "copy":
        return _add(doc, ptr, copy_json(_get(doc, _member(op, "from"))))
    if kind == "test":
        if not _same(_get(doc, ptr), _member(op, "value")):
            raise PatchError(f"test failed at {ptr!r}")
        return doc
    raise PatchError(f"unknown patch op {kind!r}")

"""What a payload becomes before it is encoded: masked, made encodable, bounded.

Three jobs, all on copies (the caller's objects are never touched):

* masking secrets by key name at any depth, and through a user callable;
* turning values msgspec cannot encode into ``{"$repr": ..., "$type": ...}``;
* replacing payloads over ``max_payload_bytes`` by ``{"$truncated": size, "$preview": ...}``.

The common case (a small dict with no secret keys) returns the same object
after one walk, so the hot path pays little.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Collection
from typing import Any

import msgspec

__all__ = [
    "DEFAULT_REDACT_KEYS",
    "REDACTED",
    "Redactor",
    "enc_hook",
    "error_payload",
    "placeholder",
    "sanitize",
    "truncated",
]

DEFAULT_REDACT_KEYS = frozenset(
    {"password", "secret", "token", "api_key", "authorization", "cookie"}
)
REDACTED = "[REDACTED]"
PREVIEW_BYTES = 200

RedactCallable = Callable[[str, Any], Any]


def placeholder(obj: object) -> dict[str, str]:
    """The typed stand-in for a value that cannot be encoded as JSON."""
    t = type(obj)
    try:
        text = repr(obj)
    except Exception as exc:  # a broken __repr__ must not break the workflow
        text = f"<unrepresentable: {type(exc).__name__}>"
    if len(text) > 1000:
        text = text[:1000] + "…"
    return {"$repr": text, "$type": f"{t.__module__}.{t.__qualname__}"}


def enc_hook(obj: object) -> Any:
    """msgspec encode hook: anything msgspec does not know becomes a placeholder."""
    return placeholder(obj)


def sanitize(value: Any, _seen: set[int] | None = None) -> Any:
    """A JSON-safe copy of ``value`` (slow path, used when the fast encode failed).

    Handles what the encode hook cannot: non-string dict keys, cycles, and
    containers holding any of those.
    """
    seen = _seen if _seen is not None else set()
    if value is None or isinstance(value, str | int | float | bool | msgspec.Raw):
        return value  # (a Raw is JSON encoded already: a keyframe's state)
    if isinstance(value, dict | list | tuple | set | frozenset):
        if id(value) in seen:
            return {"$repr": "<cycle>", "$type": f"{type(value).__module__}."
                    f"{type(value).__qualname__}"}
        seen.add(id(value))
        try:
            if isinstance(value, dict):
                out: dict[str, Any] = {}
                for k, v in value.items():
                    key = _key(k)
                    if key is None:  # not a JSON key: the dict as a whole cannot be encoded
                        return placeholder(value)
                    out[key] = sanitize(v, seen)
                return out
            return [sanitize(v, seen) for v in value]
        finally:
            seen.discard(id(value))
    try:
        # to_builtins may hand back containers that still need the checks above.
        return sanitize(msgspec.to_builtins(value, enc_hook=enc_hook, str_keys=True), seen)
    except Exception:
        return placeholder(value)


def _key(k: object) -> str | None:
    """``k`` as a JSON object key the way msgspec writes it, or None if it cannot be one."""
    if isinstance(k, str):
        return k
    if isinstance(k, bool) or k is None:
        return None  # msgspec refuses these; "True"/"None" would pass for strings
    if isinstance(k, int | float):
        return str(k)
    try:
        key = msgspec.to_builtins(k)  # str-like keys: enums, UUIDs, dates, bytes
    except Exception:
        return None
    return key if isinstance(key, str) else None


def truncated(encoded_size: int, encoded: bytes) -> dict[str, Any]:
    """The stand-in for a payload over the size limit."""
    return {
        "$truncated": encoded_size,
        "$preview": encoded[:PREVIEW_BYTES].decode("utf-8", errors="replace"),
    }


class Redactor:
    """Masks secrets by key name and through a user callable.

    ``keys`` are matched case-insensitively at any depth; the callable, if
    given, is called once per payload as ``fn(path, value)`` with the payload's
    §6 path (``inputs``, ``outputs``, ``error``, ``state``, ``data``) and
    returns what to record. The callable runs first; key masking then applies
    to what it returned. Only the callable can raise (`can_raise`): masking
    itself copes with cycles and absurd depth by way of `sanitize`.
    """

    __slots__ = ("_cache", "_fn", "_keys", "_safe", "mask")

    def __init__(
        self,
        keys: Collection[str] = DEFAULT_REDACT_KEYS,
        fn: RedactCallable | None = None,
    ) -> None:
        self._keys = frozenset(k.lower() for k in keys)
        self._fn = fn
        self._cache: dict[str, bool] = {}
        self._safe: set[str] = set()
        #: What the hot path calls as ``mask(value, path)``: key masking alone when
        #: there is no callable (one call instead of three).
        self.mask: Callable[[Any, str], Any] = (
            self._mask if fn is None and self._keys else self.__call__)

    @property
    def can_raise(self) -> bool:
        """True when a user callable runs, which may raise (key masking never does)."""
        return self._fn is not None

    @classmethod
    def from_option(cls, redact: object) -> Redactor:
        """Build from ``record_workflow(redact=...)``: None, a set of names, or a callable."""
        if redact is None:
            return cls()
        if callable(redact):
            return cls(DEFAULT_REDACT_KEYS, redact)
        if isinstance(redact, str):
            return cls([redact])
        if isinstance(redact, Collection):
            return cls([str(k) for k in redact])
        raise TypeError(
            f"redact= must be a set of key names or a callable (path, value) -> value, "
            f"not {type(redact).__name__}"
        )

    def __call__(self, value: Any, path: str) -> Any:
        if self._fn is not None:
            value = self._fn(path, value)
        if not self._keys:
            return value
        return self._mask(value)

    def _secret(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        hit = self._cache.get(key)
        if hit is None:
            hit = key.lower() in self._keys
            if len(self._cache) < 4096:
                self._cache[key] = hit
                if not hit:
                    self._safe.add(key)
        return hit

    def _mask(self, value: Any, path: str = "") -> Any:
        """``value`` with secret keys masked; the same object when nothing changed.

        Never raises: a cycle (or nesting deeper than Python's stack) makes the
        plain walk hit RecursionError, and the value is then walked again as a
        `sanitize`d copy, where the cycle is a placeholder.
        """
        # Fast path, inline so the common payload costs no second call: a dict
        # whose keys are all known to be harmless and that holds no containers.
        if type(value) is dict and self._safe.issuperset(value):
            for v in value.values():
                if isinstance(v, _CONTAINERS):
                    break
            else:
                return value
        elif type(value) in _SCALARS:
            return value
        try:
            return self._walk(value)
        except RecursionError:
            pass
        try:
            return self._walk(sanitize(value))
        except RecursionError:
            return placeholder(value)

    def _walk(self, value: Any) -> Any:
        if isinstance(value, dict):
            if self._safe.issuperset(value):
                for v in value.values():
                    if isinstance(v, _CONTAINERS):
                        break
                else:
                    return value
            out: dict[Any, Any] | None = None
            for k, v in value.items():
                if self._secret(k):
                    nv: Any = REDACTED
                elif isinstance(v, dict | list | tuple):
                    nv = self._walk(v)
                else:
                    continue
                if nv is not v:
                    if out is None:
                        out = dict(value)
                    out[k] = nv
            return value if out is None else out
        if isinstance(value, list | tuple):
            items: list[Any] | None = None
            for i, v in enumerate(value):
                if isinstance(v, dict | list | tuple):
                    nv = self._walk(v)
                    if nv is not v:
                        if items is None:
                            items = list(value)
                        items[i] = nv
            return value if items is None else items
        return value


_CONTAINERS = (dict, list, tuple)
_SCALARS = frozenset({int, float, str, bool, type(None)})


def error_payload(exc: BaseException) -> dict[str, Any]:
    """``type``, ``module``, ``message``, formatted ``traceback`` and the ``causes`` chain."""
    t = type(exc)
    causes: list[dict[str, str]] = []
    seen = {id(exc)}
    cur: BaseException | None = exc.__cause__ or (
        None if exc.__suppress_context__ else exc.__context__)
    while cur is not None and id(cur) not in seen and len(causes) < 20:
        seen.add(id(cur))
        causes.append({"type": type(cur).__qualname__, "message": _message(cur)})
        cur = cur.__cause__ or (None if cur.__suppress_context__ else cur.__context__)
    try:
        tb = "".join(traceback.format_exception(exc))
    except Exception:
        tb = ""
    return {
        "type": t.__qualname__,
        "module": t.__module__,
        "message": _message(exc),
        "traceback": tb,
        "causes": causes,
    }


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<unprintable {type(exc).__qualname__}>"

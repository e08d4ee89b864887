"""What a served call gives back: its recorded value as the declared type, or its error.

A recorded output is JSON; the code under re-execution expects what the
function returns. The return annotation says what that is (for a stream, the
item type of ``Iterator[T]`` / ``AsyncIterator[T]`` / ``Generator[T, ...]``):
pydantic models are rebuilt with ``model_validate``, anything msgspec knows
(dataclasses, Structs, TypedDicts, attrs classes, NamedTuples, containers of
them, tuples, dates, enums…) with a typed msgspec decoder made once per node,
and other types through pydantic's ``TypeAdapter`` when pydantic is
installed. No annotation (or ``Any``) serves the plain JSON value; an
annotation that cannot be resolved (a name imported only under
``TYPE_CHECKING``) does too, with a note in the report.

A value the recording holds only as a stand-in (``$repr``, ``$truncated``)
cannot be served: `Unservable` says where it is.

A recorded error is raised again as its original class when that class is
already loaded (its module is in ``sys.modules``: nothing is imported on a
recording's say-so) and can be built from the recorded message; else as
`RecordedNodeError`. Either way the recorded traceback rides along as a note.
"""

from __future__ import annotations

import ast
import collections.abc
import contextlib
import importlib
import sys
import typing
from collections.abc import Callable
from typing import Any

import msgspec

from storage import is_placeholder, is_repr

from ..errors import RecordedNodeError

__all__ = ["Converter", "Unservable", "converter_for", "placeholder_path", "rebuild_error"]

_plain = msgspec.json.Decoder()
_STREAM_ORIGINS = (collections.abc.Iterator, collections.abc.Iterable,
                   collections.abc.Generator, collections.abc.AsyncIterator,
                   collections.abc.AsyncIterable, collections.abc.AsyncGenerator)


class Unservable(Exception):
    """A recorded value that cannot be given back as the function's value (the reason)."""


class Converter:
    """Turns a recorded value's JSON bytes into what the function returns (or yields)."""

    __slots__ = ("_decode", "note", "type_name")

    def __init__(self, decode: Callable[[bytes], Any], type_name: str,
                 note: str | None = None) -> None:
        self._decode = decode
        self.type_name = type_name
        #: Why the value is served as plain JSON, when the annotation could not be used.
        self.note = note

    def __call__(self, raw: bytes) -> Any:
        """The value; raises `Unservable` when the JSON does not fit the type."""
        try:
            return self._decode(raw)
        except Unservable:
            raise
        except Exception as exc:  # msgspec.ValidationError, pydantic's, a NamedTuple's
            raise Unservable(f"the recorded value does not fit the return type "
                             f"{self.type_name}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _plain_converter(note: str | None = None) -> Converter:
    return Converter(_plain.decode, "Any", note)


def converter_for(fn: Callable[..., Any], *, stream: bool) -> Converter:
    """The converter for ``fn``'s served values (its items, for a stream)."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception as exc:
        raw = getattr(fn, "__annotations__", {}).get("return")
        if raw is None:
            return _plain_converter()
        return _plain_converter(f"return annotation {raw!r} of {fn.__qualname__} could not "
                                f"be resolved ({type(exc).__name__}: {exc}); served as "
                                "plain JSON")
    target = hints.get("return", Any)
    if stream:
        args = typing.get_args(target)
        target = args[0] if typing.get_origin(target) in _STREAM_ORIGINS and args else Any
    if target is Any or target is object:
        return _plain_converter()
    return _typed(target)


def _typed(target: Any) -> Converter:
    name = getattr(target, "__qualname__", None) or repr(target)
    validate = getattr(target, "model_validate", None)
    if isinstance(target, type) and validate is not None and hasattr(target, "model_fields"):
        return Converter(lambda raw: validate(_plain.decode(raw)), name)  # pydantic v2
    if isinstance(target, type) and issubclass(target, tuple) and hasattr(target, "_fields"):
        # A NamedTuple is recorded as an object of its fields (msgspec would want an array).
        decoder = msgspec.json.Decoder(target)

        def named(raw: bytes) -> Any:
            value = _plain.decode(raw)
            return target(**value) if isinstance(value, dict) else decoder.decode(raw)

        return Converter(named, name)
    try:
        return Converter(msgspec.json.Decoder(target).decode, name)
    except TypeError as exc:  # a type msgspec cannot build
        adapter = _pydantic_adapter(target)
        if adapter is not None:
            return Converter(lambda raw: adapter(_plain.decode(raw)), name)
        reason = f"msgspec cannot build the return type {name} ({exc})"

        def refuse(raw: bytes) -> Any:
            raise Unservable(reason)

        return Converter(refuse, name)


def _pydantic_adapter(target: Any) -> Callable[[Any], Any] | None:
    """pydantic's validator for ``target``, when pydantic is installed (loaded only now)."""
    try:
        pydantic = importlib.import_module("pydantic")
        return pydantic.TypeAdapter(target).validate_python  # type: ignore[no-any-return]
    except Exception:  # not installed, or a type it cannot build either
        return None


def placeholder_path(value: Any, path: str = "outputs") -> tuple[str, str] | None:
    """``(path, what)`` of the first ``$repr`` / ``$truncated`` stand-in inside ``value``."""
    stack = [(value, path)]
    while stack:
        v, p = stack.pop()
        if isinstance(v, dict):
            if is_placeholder(v):
                what = (f"a `$repr` stand-in for a {v.get('$type')} ({v.get('$repr')})"
                        if is_repr(v) else
                        f"`$truncated`: its {v.get('$truncated')} bytes were over the "
                        "recording's max_payload_bytes")
                return p, what
            stack.extend((x, f"{p}.{k}") for k, x in reversed(v.items()))
        elif isinstance(v, list):
            stack.extend((x, f"{p}[{i}]") for i, x in reversed(list(enumerate(v))))
    return None


def rebuild_error(error: dict[str, Any], *, node: str, seq: int,
                  recording_id: str) -> BaseException:
    """The exception a recorded ``error`` payload stands for, ready to raise."""
    type_name = str(error.get("type") or "Exception")
    module = str(error.get("module") or "builtins")
    message = str(error.get("message") or "")
    traceback = str(error.get("traceback") or "")
    exc = _original(module, type_name, message)
    if exc is None:
        exc = RecordedNodeError(type_name, module, message, traceback, node=node, seq=seq,
                                recording_id=recording_id)
    elif traceback:
        exc.add_note(f"(served by flowtape from recording {recording_id}, seq {seq}; "
                     f"the recorded traceback:)\n{traceback.rstrip()}")
    cause = exc
    for c in error.get("causes") or ():
        if not isinstance(c, dict):
            break
        built = _by_name(str(c.get("type")), str(c.get("message") or ""))
        if built is None:
            break
        cause.__cause__ = built
        cause = built
    return exc


def _by_name(type_name: str, message: str) -> BaseException | None:
    """A cause rebuilt from its class's name alone (causes record no module): a builtin
    first, else the first loaded module defining an exception class of that name."""
    for mod in [sys.modules["builtins"], *list(sys.modules.values())]:
        cls = getattr(mod, type_name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            return _build(cls, message)
    return None


def _original(module: str, type_name: str, message: str) -> BaseException | None:
    cls: Any = sys.modules.get(module)
    if cls is None:
        return None
    for part in type_name.split("."):
        cls = getattr(cls, part, None)
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        return None
    return _build(cls, message)


def _build(cls: type[BaseException], message: str) -> BaseException | None:
    """``cls`` built so that ``str()`` gives ``message`` back, or None if it cannot be."""
    attempts: list[tuple[Any, ...]] = [(message,)]
    # KeyError('x') prints as "'x'": its argument is the literal.
    with contextlib.suppress(ValueError, SyntaxError, MemoryError, RecursionError):
        attempts.insert(0, (ast.literal_eval(message),))
    if not message:
        attempts.insert(0, ())
    for args in attempts:
        try:
            exc = cls(*args)
            if str(exc) == message:
                return exc
        except Exception:
            continue
    return None

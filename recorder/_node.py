"""`@node`: record a function's calls as node executions.

With no recording active the wrapper costs one contextvar read and one list
check before calling the function (SPEC §10: ≤ 0.5 µs over a bare call). With
one, it records ``node_start`` (bound arguments as inputs), then
``node_complete`` (the return value) or ``node_error`` (the exception, which
is re-raised unchanged). What the function returns is returned as it is.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, overload

from ._context import ACTIVE, CURRENT

__all__ = ["node"]

F = TypeVar("F", bound=Callable[..., Any])


class _Binder:
    """Maps a call's arguments to parameter names, faster than `Signature.bind`.

    ``self``/``cls`` are left out (an object's repr is rarely a useful input);
    defaults the caller did not pass are left out too (they are not inputs).
    """

    __slots__ = ("_names", "_skip", "_varargs")

    def __init__(self, fn: Callable[..., Any]) -> None:
        names: list[str] = []
        self._varargs: str | None = None
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            params = []
        for p in params:
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                names.append(p.name)
            elif p.kind is p.VAR_POSITIONAL:
                self._varargs = p.name
        self._skip = 1 if names and names[0] in ("self", "cls") else 0
        self._names = tuple(names)

    def __call__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        names = self._names
        n = len(names)
        if not kwargs and not self._skip and len(args) == n:
            return dict(zip(names, args))  # the common call: every parameter by position
        if len(args) <= n:
            bound = dict(zip(names[self._skip:], args[self._skip:]))
        else:
            bound = dict(zip(names[self._skip:], args[self._skip:n], strict=True))
            bound[self._varargs or "args"] = list(args[n:])
        if kwargs:
            bound.update(kwargs)
        return bound


def _wrap(fn: Callable[..., Any], node_id: str, node_type: str | None) -> Callable[..., Any]:
    binder = _Binder(fn)
    current = CURRENT.get
    active = ACTIVE

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            rec = current() or (active[-1] if active else None)
            if rec is None or not rec.enabled:
                return await fn(*args, **kwargs)
            handle = rec.node_start(node_id, binder(args, kwargs), node_type)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                rec.node_end(handle, exc=exc)
                raise
            rec.node_end(handle, result)
            return result

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        rec = current() or (active[-1] if active else None)
        if rec is None or not rec.enabled:
            return fn(*args, **kwargs)
        handle = rec.node_start(node_id, binder(args, kwargs), node_type)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            rec.node_end(handle, exc=exc)
            raise
        rec.node_end(handle, result)
        return result

    return wrapper


@overload
def node(fn: F, /) -> F: ...
@overload
def node(name: str | None = None, /, *, node_type: str | None = None) -> Callable[[F], F]: ...


def node(fn_or_name: Any = None, /, *, node_type: str | None = None, name: str | None = None
         ) -> Any:
    """Record calls of a sync or async function as node executions.

    ::

        @node
        def fetch(url): ...

        @node("planner", node_type="agent")
        async def plan(task): ...

    The node id is the given name, else the function's ``__qualname__``.
    """
    if callable(fn_or_name):
        fn = fn_or_name
        return _wrap(fn, name or fn.__qualname__, node_type)
    label = fn_or_name if fn_or_name is not None else name

    def decorate(fn: F) -> F:
        return _wrap(fn, label or fn.__qualname__, node_type)  # type: ignore[return-value]

    return decorate

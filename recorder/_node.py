"""`@node`: record a function's calls as node executions.

With no recording active the wrapper costs one contextvar read and one list
check before calling the function (SPEC §10: ≤ 0.5 µs over a bare call). With
one, it records ``node_start`` (bound arguments as inputs), then
``node_complete`` (the return value) or ``node_error`` (the exception, which
is re-raised unchanged). What the function returns is returned as it is.
Generator and async-generator functions are recorded as streams, one span
each (`_streams`).

Each decorated function gets a `NodeSite`: what is known about it once, at
decoration (node id, ``node_type``, parameter names). The common call — a
recording whose file is open, no ``redact=`` callable — is recorded by
`_step` in one pass; anything else goes through the recorder's general
`~RecorderCore.call_node`, and a run that sampling left out just calls.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, overload

from ._context import ACTIVE, CURRENT
from ._step import begin, end, fail
from ._streams import wrap_async_generator, wrap_generator

__all__ = ["NodeSite", "node"]

F = TypeVar("F", bound=Callable[..., Any])


class NodeSite:
    """One decorated function, and what its calls share: the node id, its ``node_type``,
    and how a call's arguments map to parameter names (`bind`).

    ``self``/``cls`` are left out of the inputs (an object's repr is rarely a useful
    input); defaults the caller did not pass are left out too (they are not inputs).
    """

    __slots__ = ("bind_plain", "fn", "names", "node_id", "node_type", "plain", "readable_for",
                 "skip", "stream", "varargs")

    def __init__(self, fn: Callable[..., Any], node_id: str, node_type: str | None) -> None:
        self.fn = fn
        self.node_id = node_id
        self.node_type = node_type
        #: ``"sync"`` / ``"async"`` for a generator / async-generator function (a stream).
        self.stream = ("async" if inspect.isasyncgenfunction(fn)
                       else "sync" if inspect.isgeneratorfunction(fn) else None)
        names: list[str] = []
        self.varargs: str | None = None
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            params = []
        for p in params:
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                names.append(p.name)
            elif p.kind is p.VAR_POSITIONAL:
                self.varargs = p.name
        self.skip = 1 if names and names[0] in ("self", "cls") else 0
        self.names = tuple(names)
        #: A call passing exactly ``plain`` positional arguments and no keywords binds
        #: as ``bind_plain(args)`` (-1 when a leading self/cls rules that out).
        self.plain = -1 if self.skip else len(names)
        #: ``args`` -> ``{name: arg, ...}`` as a dict display made for these names, which
        #: runs in a quarter of the time of ``dict(zip(names, args))``. The names are
        #: identifiers (from the signature), so their reprs are safe to compile.
        self.bind_plain: Callable[[tuple[Any, ...]], dict[str, Any]] = eval(
            "lambda args: {" + "".join(f"{n!r}: args[{i}], " for i, n in enumerate(names))
            + "}")
        #: The redactor known to find every parameter name readable (see `_step.begin`).
        self.readable_for: object = None

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's inputs: parameter name -> argument."""
        names = self.names
        n = len(names)
        if not kwargs and len(args) == self.plain:
            return self.bind_plain(args)  # the common call: every parameter by position
        if len(args) <= n:
            bound = dict(zip(names[self.skip:], args[self.skip:]))
        else:
            bound = dict(zip(names[self.skip:], args[self.skip:n], strict=True))
            bound[self.varargs or "args"] = list(args[n:])
        if kwargs:
            bound.update(kwargs)
        return bound


def _wrap(fn: Callable[..., Any], node_id: str, node_type: str | None) -> Callable[..., Any]:
    site = NodeSite(fn, node_id, node_type)
    if site.stream == "sync":
        return wrap_generator(fn, site)
    if site.stream == "async":
        return wrap_async_generator(fn, site)
    current = CURRENT.get
    active = ACTIVE

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            rec = current() or (active[-1] if active else None)
            if rec is None:
                return await fn(*args, **kwargs)
            span = None if rec._hot is None else begin(site, rec, args, kwargs)
            if span is None:
                return await rec.acall_node(site, args, kwargs)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                fail(span, exc)
                raise
            end(span, result)
            return result

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        rec = current() or (active[-1] if active else None)
        if rec is None:
            return fn(*args, **kwargs)
        span = None if rec._hot is None else begin(site, rec, args, kwargs)
        if span is None:
            return rec.call_node(site, args, kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            fail(span, exc)
            raise
        end(span, result)
        return result

    return wrapper


@overload
def node(fn: F, /) -> F: ...
@overload
def node(name: str | None = None, /, *, node_type: str | None = None) -> Callable[[F], F]: ...


def node(fn_or_name: Any = None, /, *, node_type: str | None = None, name: str | None = None
         ) -> Any:
    """Record calls of a sync or async function as node executions (of a generator or
    async-generator function: one execution per stream, its items as ``outputs``).

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

"""``@node`` on generator and async-generator functions: one span per stream (SPEC §12).

A stream is recorded as one node execution that lasts until the stream is
exhausted, closed or raises: ``node_start`` (the bound arguments) when it is
first iterated, and ``node_complete`` (or ``node_error``) holding the yielded
items as ``outputs`` with ``stream: true`` (and ``closed: true`` when the
consumer stopped early). The wrappers are generator functions themselves, so
``inspect.isgeneratorfunction`` / ``isasyncgenfunction`` still say what the
function is, and they pass sends, throws and the return value through.

The span is entered only while the generator's own body runs (around each
step), never across a ``yield``: a contextvar set inside a generator would
otherwise leak into the consumer, and every call the consumer makes between
two items would nest under the stream.

Each item is masked and encoded when it is yielded, so a consumer changing it
afterwards does not change the recording. What a recorder does with a stream
is its ``open_stream`` method: record it (`open_recorded_stream`), just run
it (a sampled-out run), or serve it back (re-execution).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any

import msgspec

from ._context import ACTIVE, CURRENT, FRAME, Frame, NodeSpan
from ._slowpath import encode_value

if TYPE_CHECKING:
    from ._node import NodeSite
    from ._recorder import RecorderCore

__all__ = ["StreamSpan", "open_recorded_stream", "wrap_async_generator", "wrap_generator"]

_get_frame = FRAME.get
_set_frame = FRAME.set
_SCALARS = (int, float, bool, type(None), msgspec.Raw)


class StreamSpan:
    """One stream's node execution while it is consumed: the frame entered around each
    step of the generator's body, the items as recorded, and the end event."""

    __slots__ = ("extra", "items", "keep", "rec", "span")

    def __init__(self, rec: RecorderCore, span: NodeSpan,
                 extra: dict[str, Any] | None = None) -> None:
        self.rec = rec
        self.span = span
        #: Extra keys for the end event's data (re-execution adds ``source``).
        self.extra = extra
        self.keep = rec._record_outputs
        self.items: list[Any] = []

    def enter(self) -> Frame | None:
        """Make the stream's span the enclosing one; returns what to restore."""
        outer = _get_frame()
        _set_frame(self.span)
        return outer

    def leave(self, outer: Frame | None) -> None:
        _set_frame(outer)

    def item(self, value: Any) -> None:
        """Keep a yielded item as recorded now (masked, encoded: later changes do not count)."""
        if self.keep:
            masked = self.rec._payload(value, f"outputs[{len(self.items)}]")
            if not isinstance(masked, _SCALARS):
                masked = msgspec.Raw(encode_value(masked))  # a flat dict passed through
            self.items.append(masked)

    def _data(self, closed: bool) -> dict[str, Any]:
        data: dict[str, Any] = {"outputs": self.items} if self.keep else {}
        data["stream"] = True
        if closed:
            data["closed"] = True
        if self.extra:
            data.update(self.extra)
        return data

    def done(self, *, closed: bool = False) -> None:
        """The stream was exhausted (or, ``closed``, the consumer stopped early)."""
        self.rec.node_end(self.span, has_outputs=False, extra=self._data(closed))

    def failed(self, exc: BaseException) -> None:
        """The stream raised ``exc``: ``node_error`` with the items before it."""
        self.rec.node_end(self.span, exc=exc, extra=self._data(False))


def open_recorded_stream(rec: RecorderCore, site: NodeSite, args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> tuple[Any, StreamSpan | None]:
    """Start recording a stream: its generator (not started yet) and its `StreamSpan`."""
    stream = site.fn(*args, **kwargs)
    outer = _get_frame()
    span = rec.node_start(site.node_id, site.bind(args, kwargs), site.node_type)
    _set_frame(outer)  # entered only around the body's steps (see the module docstring)
    return stream, StreamSpan(rec, span)


def _tapped(stream: Generator[Any, Any, Any], tap: StreamSpan) -> Generator[Any, Any, Any]:
    """``yield from stream``, recording each item and the end through ``tap``."""
    sent: Any = None
    thrown: BaseException | None = None
    try:
        while True:
            outer = tap.enter()
            try:
                item = stream.send(sent) if thrown is None else stream.throw(thrown)
            finally:
                tap.leave(outer)
            thrown = None
            tap.item(item)
            try:
                sent = yield item
            except GeneratorExit:
                raise
            except BaseException as exc:  # thrown in by the consumer: passed on
                thrown, sent = exc, None
    except StopIteration as stop:
        tap.done()
        return stop.value
    except GeneratorExit:
        outer = tap.enter()
        try:
            stream.close()
        finally:
            tap.leave(outer)
        tap.done(closed=True)
        raise
    except BaseException as exc:
        tap.failed(exc)
        raise


def wrap_generator(fn: Callable[..., Any], site: NodeSite) -> Callable[..., Any]:
    """The ``@node`` wrapper of a generator function (itself a generator function)."""
    current = CURRENT.get
    active = ACTIVE

    @functools.wraps(fn)
    def stream_wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        rec = current() or (active[-1] if active else None)
        if rec is None:
            return (yield from fn(*args, **kwargs))
        stream, tap = rec.open_stream(site, args, kwargs)
        if tap is None:
            return (yield from stream)
        return (yield from _tapped(stream, tap))

    return stream_wrapper


def wrap_async_generator(fn: Callable[..., Any], site: NodeSite) -> Callable[..., Any]:
    """The ``@node`` wrapper of an async-generator function (itself one)."""
    current = CURRENT.get
    active = ACTIVE

    @functools.wraps(fn)
    async def astream_wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        rec = current() or (active[-1] if active else None)
        tap: StreamSpan | None = None
        if rec is None:
            stream = fn(*args, **kwargs)
        else:
            stream, tap = rec.open_stream(site, args, kwargs)
        sent: Any = None
        thrown: BaseException | None = None
        try:
            while True:
                outer = tap.enter() if tap is not None else None
                try:
                    item = await (stream.asend(sent) if thrown is None
                                  else stream.athrow(thrown))
                finally:
                    if tap is not None:
                        tap.leave(outer)
                thrown = None
                if tap is not None:
                    tap.item(item)
                try:
                    sent = yield item
                except GeneratorExit:
                    raise
                except BaseException as exc:  # thrown in by the consumer: passed on
                    thrown, sent = exc, None
        except StopAsyncIteration:
            if tap is not None:
                tap.done()
        except GeneratorExit:
            outer = tap.enter() if tap is not None else None
            try:
                await stream.aclose()
            finally:
                if tap is not None:
                    tap.leave(outer)
            if tap is not None:
                tap.done(closed=True)
            raise
        except BaseException as exc:
            if tap is not None:
                tap.failed(exc)
            raise

    return astream_wrapper

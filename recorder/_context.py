"""Which recorder is current, which span encloses the code, and which lane it runs in.

All three live in contextvars, so they are right across asyncio tasks and
across threads started with a copied context. A thread started without one
(a plain ``ThreadPoolExecutor.submit``) falls back to the innermost recording
active in the process, and its events nest under that recording's root span.
"""

from __future__ import annotations

import asyncio
import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from ._published import ExecutionRecorder
    from ._recorder import RecorderCore

__all__ = ["Frame", "NodeSpan", "Span", "current_lane", "get_current_recorder", "leave",
           "task_lane", "task_of"]


class Frame(msgspec.Struct):
    """One open span as the code inside it sees it: which recorder, the start event's
    ``seq`` (the ``parent`` of what happens inside), the recursion depth, the frame it
    nests in, and whether it is still open (spans may end out of order; see `leave`).

    The workflow's root span is a bare `Frame`; the spans the recorder opens carry
    what their end event needs (`Span`, `NodeSpan`), so the frame is the handle too.
    (msgspec Structs: a ``@node`` call makes one, and a Struct is made in half the
    time of a slotted class with an ``__init__``.)
    """

    rec: RecorderCore
    seq: int | None
    depth: int
    outer: Frame | None
    open: bool


class Span(Frame):
    """A span the recorder opened (team, member, recursion): its start's ``parent`` and
    ``node``, which its end event repeats."""

    seq: int  # a span the recorder opened has a start event
    parent: int | None
    node: str


class NodeSpan(Span):
    """A node execution: also its ``attempt``, its ``lane``, and its recorded inputs
    (as captured at the call: what makes a later call with the same ones a retry)."""

    attempt: int
    lane: str | None
    inputs: Any


#: The recorder of the current context.
CURRENT: ContextVar[ExecutionRecorder | None] = ContextVar("flowtape_recorder", default=None)
#: The innermost span enclosing the running code.
FRAME: ContextVar[Frame | None] = ContextVar("flowtape_frame", default=None)
_LANE: ContextVar[tuple[object, str] | None] = ContextVar("flowtape_lane", default=None)

#: Recordings active in this process, innermost last (the fallback for bare threads).
ACTIVE: list[ExecutionRecorder] = []

try:
    from _asyncio import _current_tasks as _tasks_by_loop  # type: ignore[attr-defined]

    def _task(loop: asyncio.AbstractEventLoop) -> object:
        return _tasks_by_loop.get(loop)
except ImportError:  # pure-Python asyncio
    def _task(loop: asyncio.AbstractEventLoop) -> object:
        return asyncio.current_task(loop)

running_loop = _running_loop = asyncio._get_running_loop
#: The hot path's lane lookup for a task, inlined: ``task_lane()`` is the (task, name) pair
#: `current_lane` cached in this context, right when its task is ``task_of(loop)``.
task_of = _task
task_lane = _LANE.get


def get_current_recorder() -> ExecutionRecorder | None:
    """The recorder recording the current context, or None outside a recording."""
    rec = CURRENT.get()
    if rec is None and ACTIVE:
        return ACTIVE[-1]
    return rec


def leave(frame: Frame) -> None:
    """Leave a span: mark its frame closed; if it is this context's innermost, step out.

    Stepping out goes to the nearest enclosing span that is still open, so spans
    closed out of order (the published ``record_*`` calls allow it: start A, start
    B, complete A) never leave later events nested in a span that has ended. A
    span closed from another context only gets marked; its own context steps
    past it when its inner spans end.
    """
    frame.open = False
    if FRAME.get() is frame:
        outer = frame.outer
        while outer is not None and not outer.open:
            outer = outer.outer
        FRAME.set(outer)


#: Per-thread lane name cache (the recorder's hot path reads it directly).
thread_lanes = _thread_lanes = threading.local()


def current_lane() -> str:
    """The lane of the running code: the asyncio task's name, else the thread's name."""
    loop = _running_loop()
    if loop is None:
        try:
            return _thread_lanes.name  # type: ignore[no-any-return]
        except AttributeError:
            name = _thread_lanes.name = threading.current_thread().name
            return name
    owner = _task(loop)
    if owner is None:
        return threading.current_thread().name
    cached = _LANE.get()
    if cached is not None and cached[0] is owner:
        return cached[1]
    task_name: str = owner.get_name()  # type: ignore[attr-defined]
    _LANE.set((owner, task_name))
    return task_name

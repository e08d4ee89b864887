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

if TYPE_CHECKING:
    from ._recorder import ExecutionRecorder

__all__ = ["current_lane", "get_current_recorder"]

#: The recorder of the current context.
CURRENT: ContextVar[ExecutionRecorder | None] = ContextVar("flowtape_recorder", default=None)
#: The enclosing span: ``[recorder, start seq, recursion depth, outer frame, open]``
#: (a list so ending a span out of order can mark it closed; see `_recorder._leave`).
FRAME: ContextVar[list[Any] | None] = ContextVar("flowtape_frame", default=None)
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


def get_current_recorder() -> ExecutionRecorder | None:
    """The recorder recording the current context, or None outside a recording."""
    rec = CURRENT.get()
    if rec is None and ACTIVE:
        return ACTIVE[-1]
    return rec


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

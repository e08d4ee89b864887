"""The decorated functions the recorder tests call (their node ids are their qualnames)."""

from __future__ import annotations

import asyncio
from typing import Any

from recorder import node


@node
def double(x: int) -> int:
    return 2 * x


@node("planner", node_type="agent")
def plan(task: str, *, depth: int = 1) -> dict[str, Any]:
    return {"task": task, "depth": depth}


@node
def echo(value: Any) -> Any:
    return value


@node()
def bare_parens(x: int) -> int:
    return x


@node(node_type="tool")
async def fetch(url: str) -> list[str]:
    await asyncio.sleep(0)
    return [url]


@node
async def async_double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x

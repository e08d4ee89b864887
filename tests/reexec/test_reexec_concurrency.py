"""Concurrent calls are matched whatever order they start or finish in (SPEC §12).

Fifty asyncio tasks (or thread-pool workers) each call a node after a random
pause, so the calls reach the recorder in a different order in every run —
recorded or re-executed. Every call must get its own recorded answer: the
matching is by key and inputs, never by arrival order.
"""

from __future__ import annotations

import asyncio
import contextvars
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import read_recording

from recorder import node, record_workflow, reexecute

RUNS = 20
WIDTH = 50
CALLS: list[int] = []


@node
async def lookup(i: int) -> dict[str, Any]:
    CALLS.append(i)
    await asyncio.sleep(random.random() / 500)
    return {"i": i, "draw": random.random()}


@node
def compute(i: int) -> dict[str, Any]:
    CALLS.append(i)
    time.sleep(random.random() / 500)
    return {"i": i, "draw": random.random()}


async def fan_out() -> list[dict[str, Any]]:
    async def one(i: int) -> dict[str, Any]:
        await asyncio.sleep(random.random() / 200)  # the call comes at a random moment
        return await lookup(i)

    return list(await asyncio.gather(*(one(i) for i in range(WIDTH))))


def pool_fan_out(copy_context: bool) -> list[dict[str, Any]]:
    def one(i: int) -> dict[str, Any]:
        time.sleep(random.random() / 200)
        return compute(i)

    with ThreadPoolExecutor(max_workers=8) as pool:
        if copy_context:
            futures = [pool.submit(contextvars.copy_context().run, one, i)
                       for i in range(WIDTH)]
        else:
            futures = [pool.submit(one, i) for i in range(WIDTH)]
        return [f.result() for f in futures]


def test_fifty_asyncio_nodes_are_served_in_any_order(tmp_path: Path) -> None:
    """Twenty re-executions of 50 concurrent async nodes each serve every call its own value."""
    original = tmp_path / "original.jsonl.zst"

    async def record() -> list[dict[str, Any]]:
        async with record_workflow("fan", path=str(original)):
            return await fan_out()

    expected = asyncio.run(record())
    recorded_order = list(CALLS)

    async def again(k: int) -> tuple[list[dict[str, Any]], Any]:
        async with reexecute(original, record_to=tmp_path / f"r{k}.jsonl.zst") as rx:
            return await fan_out(), rx

    orders = set()
    for k in range(RUNS):
        CALLS.clear()
        got, rx = asyncio.run(again(k))
        assert got == expected, f"run {k}"
        assert CALLS == []  # nothing ran
        report = rx.report
        assert report.identical and report.sources == {"recorded": WIDTH}, report.to_text()
        orders.add(tuple(e for e in _call_order(rx.path)))
    assert len(orders) > 1 or tuple(recorded_order) not in orders  # the order did vary


@pytest.mark.parametrize("copy_context", [True, False], ids=["copied-context", "bare-threads"])
def test_fifty_thread_pool_nodes_are_served_in_any_order(tmp_path: Path,
                                                          copy_context: bool) -> None:
    """Twenty re-executions of 50 thread-pool calls each serve every call its own value,
    with the context copied into the workers or not."""
    original = tmp_path / "original.jsonl.zst"
    with record_workflow("pool", path=str(original)):
        expected = pool_fan_out(copy_context)
    for k in range(RUNS):
        CALLS.clear()
        with reexecute(original, record_to=tmp_path / f"r{k}.jsonl.zst") as rx:
            got = pool_fan_out(copy_context)
        assert got == expected, f"run {k}"
        assert CALLS == []
        assert rx.report.identical and rx.report.sources == {"recorded": WIDTH}


def _call_order(path: str | None) -> list[int]:
    assert path is not None
    return [e.data["inputs"]["i"] for e in read_recording(path).of_kind("node_start")]

"""Recording from many threads and asyncio tasks at once.

Whatever the interleaving: ``seq`` is dense, each node's ``parent`` is the
span that really encloses it, each thread or task is one ``lane``, and every
line on disk is whole — read back both with `LogReader` and by decoding the
file with nothing but zstandard / gzip / plain reads and ``json``.
"""

from __future__ import annotations

import asyncio
import contextvars
import gzip
import io
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import zstandard

from recorder import get_current_recorder, node, record_workflow
from storage import Event

Read = Callable[..., Any]


@node
def inner(i: int, j: int) -> str:
    return threading.current_thread().name


@node
def outer(i: int) -> str:
    for j in range(3):
        inner(i, j)
    return threading.current_thread().name


def check_dense_and_whole(events: list[Event], footer: Any) -> None:
    assert [e.seq for e in events] == list(range(len(events)))
    assert footer is not None
    assert footer.event_count == len(events)


def check_spans(events: list[Event]) -> dict[int, Event]:
    """Every end points at a start of the same node and lane; returns starts by seq."""
    by_seq = {e.seq: e for e in events}
    for e in events:
        if e.kind in ("node_complete", "node_error"):
            start = by_seq[e.span]
            assert start.kind == "node_start"
            assert (start.node, start.lane, start.parent) == (e.node, e.lane, e.parent)
    return by_seq


def check_nesting(events: list[Event], outer_parent: Callable[[Event], int]) -> None:
    """Each inner(i, j) nests in outer(i); each outer(i) in what ``outer_parent`` says."""
    by_seq = check_spans(events)
    outer_starts = {e.data["inputs"]["i"]: e for e in events
                    if e.kind == "node_start" and e.node == "outer"}
    inner_starts = [e for e in events if e.kind == "node_start" and e.node == "inner"]
    for e in inner_starts:
        parent = outer_starts[e.data["inputs"]["i"]]
        assert e.parent == parent.seq
        assert e.lane == parent.lane  # an execution stays in its thread
    for e in outer_starts.values():
        assert e.parent == outer_parent(e)
    # The lane is the name of the thread that ran the node.
    for e in events:
        if e.kind == "node_complete" and e.node in ("outer", "inner"):
            assert e.data["outputs"] == e.lane
            assert by_seq[e.span].lane == e.lane


def test_threads_with_a_copied_context(store: Path, read: Read) -> None:
    """8 threads started with copy_context().run nest under the span that submitted them."""
    with record_workflow("threads", store=store) as rec:
        @node("dispatch")
        def dispatch() -> None:
            with ThreadPoolExecutor(8, thread_name_prefix="ctx") as pool:
                futures = [pool.submit(contextvars.copy_context().run, outer, i)
                           for i in range(64)]
                names = {f.result() for f in futures}
            assert len(names) <= 8

        dispatch()
    r = read(rec)
    check_dense_and_whole(r.events, r.footer)
    dispatch_start = r.of_kind("node_start")[0]
    assert dispatch_start.node == "dispatch"
    check_nesting(r.events, lambda e: dispatch_start.seq)
    lanes = {e.lane for e in r.events if e.node in ("outer", "inner")}
    assert 1 <= len(lanes) <= 8
    assert all(lane.startswith("ctx") for lane in lanes)
    assert r.footer.counts.nodes == 1 + 64 * 4


def test_threads_without_a_copied_context_fall_back(store: Path, read: Read) -> None:
    """Plain pool.submit threads record into the active recording, under its root span."""
    with record_workflow("bare", store=store) as rec, \
            ThreadPoolExecutor(8, thread_name_prefix="bare") as pool:
        results = [f.result() for f in [pool.submit(outer, i) for i in range(64)]]
        probe = pool.submit(get_current_recorder).result()
    assert probe is rec
    assert all(name.startswith("bare") for name in results)
    r = read(rec)
    check_dense_and_whole(r.events, r.footer)
    check_nesting(r.events, lambda e: 0)
    assert len({e.lane for e in r.events if e.node == "outer"}) <= 8


def test_tasks_each_get_a_lane_and_nest_correctly(store: Path, read: Read) -> None:
    """200 asyncio tasks recording at once: dense seq, one lane per task, correct parents."""
    @node("leaf")
    async def leaf(i: int, j: int) -> str:
        await asyncio.sleep(0)
        task = asyncio.current_task()
        assert task is not None
        return task.get_name()

    @node("worker")
    async def worker(i: int) -> str:
        await leaf(i, 0)
        await asyncio.sleep(0)
        # Two children in tasks of their own: they nest under this worker all the same.
        await asyncio.gather(leaf(i, 1), leaf(i, 2))
        await leaf(i, 3)
        task = asyncio.current_task()
        assert task is not None
        return task.get_name()

    async def main() -> Any:
        async with record_workflow("tasks", store=store) as rec:
            tasks = [asyncio.create_task(worker(i), name=f"worker-{i}") for i in range(200)]
            await asyncio.gather(*tasks)
        return rec

    r = read(asyncio.run(main()))
    check_dense_and_whole(r.events, r.footer)
    by_seq = check_spans(r.events)
    workers = {e.data["inputs"]["i"]: e for e in r.events
               if e.kind == "node_start" and e.node == "worker"}
    assert len(workers) == 200
    for i, w in workers.items():
        assert w.parent == 0
        assert w.lane == f"worker-{i}"
    leaves = [e for e in r.events if e.kind == "node_start" and e.node == "leaf"]
    assert len(leaves) == 800
    for e in leaves:
        i, j = e.data["inputs"]["i"], e.data["inputs"]["j"]
        assert e.parent == workers[i].seq
        if j in (0, 3):
            assert e.lane == f"worker-{i}"
        else:
            assert e.lane != f"worker-{i}"  # gather ran it in a task of its own
    for e in r.events:
        if e.kind == "node_complete":
            assert e.data["outputs"] == e.lane == by_seq[e.span].lane
    gathered = [e.lane for e in leaves if e.data["inputs"]["j"] in (1, 2)]
    assert len(set(gathered)) == 400  # one lane per task


def test_recursion_depth_is_per_task(store: Path, read: Read) -> None:
    """Parallel recursive branches each see their own depth, never each other's."""
    async def branch(rec: Any, name: str, level: int) -> None:
        with rec.recursion("descend", f"{name}/{level}"):
            await asyncio.sleep(0)
            rec.checkpoint(f"{name}/{level}")
            if level < 4:
                await branch(rec, name, level + 1)
            await asyncio.sleep(0)

    async def main() -> Any:
        async with record_workflow("rec", store=store) as rec:
            await asyncio.gather(*(branch(rec, f"b{k}", 1) for k in range(20)))
        return rec

    r = read(asyncio.run(main()))
    check_dense_and_whole(r.events, r.footer)
    for e in r.of_kind("recursion_enter"):
        assert e.depth == int(e.node.split("/")[1])
    for e in r.of_kind("checkpoint"):
        assert e.depth == int(e.data["name"].split("/")[1])
    assert r.footer.counts.max_depth == 4


def test_threads_and_tasks_together(store: Path, read: Read) -> None:
    """Threads and tasks recording into one file at once still give dense, whole lines."""
    async def main() -> Any:
        async with record_workflow("mixed", store=store, flush_every=7) as rec:
            loop = asyncio.get_running_loop()
            with ThreadPoolExecutor(8) as pool:
                thread_jobs = [loop.run_in_executor(pool, contextvars.copy_context().run,
                                                    outer, i) for i in range(40)]

                async def snap(k: int) -> None:
                    for n in range(5):
                        rec.event("tick", {"k": k, "n": n})
                        await asyncio.sleep(0)

                await asyncio.gather(*thread_jobs, *(snap(k) for k in range(50)))
        return rec

    r = read(asyncio.run(main()))
    check_dense_and_whole(r.events, r.footer)
    check_nesting(r.events, lambda e: 0)
    assert len(r.of_kind("custom")) == 250


@node
async def ainner(k: int, j: int) -> str:
    await asyncio.sleep(0)
    task = asyncio.current_task()
    assert task is not None
    return task.get_name()


@node
async def aouter(k: int) -> str:
    for j in range(3):
        await ainner(k, j)
    task = asyncio.current_task()
    assert task is not None
    return task.get_name()


def test_nodes_in_8_threads_and_200_tasks_at_once(store: Path, read: Read) -> None:
    """Sync @node calls in 8 threads and async ones in 200 tasks, all at once: dense seq,
    every node inside the one that called it, one lane per thread or task."""
    async def main() -> Any:
        async with record_workflow("crowd", store=store, flush_every=5) as rec:
            loop = asyncio.get_running_loop()
            with ThreadPoolExecutor(8) as pool:
                thread_jobs = [loop.run_in_executor(pool, contextvars.copy_context().run,
                                                    outer, i) for i in range(40)]
                await asyncio.gather(*thread_jobs, *(aouter(k) for k in range(200)))
        return rec

    r = read(asyncio.run(main()))
    check_dense_and_whole(r.events, r.footer)
    check_nesting(r.events, lambda e: 0)
    starts = {e.seq: e for e in r.of_kind("node_start")}
    assert len(starts) == 40 * 4 + 200 * 4
    for e in r.of_kind("node_start"):
        if e.node == "ainner":
            parent = starts[e.parent]
            assert parent.node == "aouter"
            assert parent.data["inputs"]["k"] == e.data["inputs"]["k"]
            assert parent.lane == e.lane
    for e in r.of_kind("node_complete"):
        if e.node in ("aouter", "ainner"):
            assert e.data["outputs"] == e.lane == starts[e.span].lane
    assert len({e.lane for e in r.of_kind("node_start") if e.node == "aouter"}) == 200


# --- the bytes on disk, decoded without flowtape -------------------------------------------------
def _decode_raw(path: str, codec: str) -> list[dict[str, Any]]:
    data = Path(path).read_bytes()
    if codec == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data),
                                                            read_across_frames=True)
        text = reader.read()
    elif codec == "gzip":
        text = gzip.decompress(data)
    else:
        text = data
    lines = text.decode("utf-8").split("\n")
    assert lines[-1] == ""  # every line ends with a newline
    return [json.loads(line) for line in lines[:-1]]


@pytest.mark.parametrize("codec", ["zstd", "gzip", "none"])
def test_concurrent_lines_decode_with_standard_tools(codec: str, store: Path,
                                                     read: Read) -> None:
    """Decoded with plain zstandard/gzip and json: a header, events in seq order, a footer."""
    with record_workflow("raw", store=store, codec=codec, flush_every=16) as rec, \
            ThreadPoolExecutor(8) as pool:
        for f in [pool.submit(contextvars.copy_context().run, outer, i) for i in range(40)]:
            f.result()
        rec.snapshot({"done": True})
    lines = _decode_raw(rec.path, codec)
    assert lines[0]["kind"] == "header"
    assert lines[-1]["kind"] == "footer"
    events = lines[1:-1]
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert all("kind" in e and "ts" in e for e in events)
    assert lines[-1]["event_count"] == len(events)
    # The reader agrees with the raw decoding, line for line.
    assert [e.seq for e in read(rec).events] == [e["seq"] for e in events]
    assert [e.kind for e in read(rec).events] == [e["kind"] for e in events]

"""@node on generator and async-generator functions: one span per stream (SPEC §12 Streams).

The span starts when the stream is first iterated and ends when it is
exhausted, closed or raises; its ``node_complete`` holds the yielded items as
``outputs`` with ``stream: true``. What the consumer sees is exactly what the
generator yields, sends and raises included.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from recorder import node, record_workflow

Read = Callable[..., Any]


@node
def tokens(prompt: str) -> Iterator[str]:
    yield from prompt.split()


@node("chat_stream", node_type="llm")
async def chat(prompt: str) -> AsyncIterator[dict[str, Any]]:
    for i, word in enumerate(prompt.split()):
        await asyncio.sleep(0)
        yield {"index": i, "delta": word}


@node
def shout(word: str) -> str:
    return word.upper()


@node
def nested(prompt: str) -> Iterator[str]:
    for word in prompt.split():
        yield shout(word)


@node
def failing(n: int) -> Iterator[int]:
    yield from range(n)
    raise ValueError("stream broke")


@node
def accumulator() -> Generator[int, int, str]:
    total = 0
    while total < 10:
        got = yield total
        total += got
    return f"done at {total}"


def test_sync_stream_is_one_span_with_its_items(tmp_path: Path, read: Read) -> None:
    """A generator @node records node_start, then node_complete with the items and stream: true."""
    assert inspect.isgeneratorfunction(tokens)
    with record_workflow("s", path=str(tmp_path / "r.jsonl")) as rec:
        assert list(tokens("a b c")) == ["a", "b", "c"]
    start, done = read(rec).of_kind("node_start", "node_complete")
    assert (start.node, start.data) == ("tokens", {"inputs": {"prompt": "a b c"}})
    assert done.span == start.seq
    assert done.data == {"outputs": ["a", "b", "c"], "stream": True}


def test_async_stream_is_one_span_with_its_items(tmp_path: Path, read: Read) -> None:
    """An async-generator @node records one span whose outputs are the items it yielded."""
    assert inspect.isasyncgenfunction(chat)

    async def main() -> list[dict[str, Any]]:
        async with record_workflow("s", path=str(tmp_path / "r.jsonl")):
            return [item async for item in chat("hi there")]

    items = asyncio.run(main())
    assert items == [{"index": 0, "delta": "hi"}, {"index": 1, "delta": "there"}]
    rb = read(str(tmp_path / "r.jsonl"))
    start, done = rb.of_kind("node_start", "node_complete")
    assert start.data == {"inputs": {"prompt": "hi there"}, "node_type": "llm"}
    assert done.data == {"outputs": items, "stream": True}


def test_nodes_called_by_the_consumer_are_not_nested_in_the_stream(tmp_path: Path,
                                                                    read: Read) -> None:
    """Calls made inside the generator nest under the stream; calls the consumer makes
    between items do not (the span is entered only while the generator body runs)."""
    with record_workflow("s", path=str(tmp_path / "r.jsonl")) as rec:
        for word in nested("x y"):
            shout(word + "!")
    rb = read(rec)
    root = rb.of_kind("workflow_start")[0].seq
    starts = rb.of_kind("node_start")
    stream = next(e for e in starts if e.node == "nested")
    inside = [e.data["inputs"]["word"] for e in starts if e.parent == stream.seq]
    outside = [e.data["inputs"]["word"] for e in starts if e.node == "shout"
               and e.parent == root]
    assert inside == ["x", "y"]
    assert outside == ["X!", "Y!"]


def test_a_stream_closed_early_ends_with_what_it_yielded(tmp_path: Path, read: Read) -> None:
    """Breaking out of a stream ends its span with the items so far and closed: true."""
    with record_workflow("s", path=str(tmp_path / "r.jsonl")) as rec:
        for word in tokens("a b c d"):
            if word == "b":
                break
    done = read(rec).of_kind("node_complete")[0]
    assert done.data == {"outputs": ["a", "b"], "stream": True, "closed": True}


def test_an_async_stream_closed_early_ends_with_what_it_yielded(tmp_path: Path,
                                                                read: Read) -> None:
    """Closing an async stream after one item ends its span with that item and closed: true."""

    async def main() -> None:
        async with record_workflow("s", path=str(tmp_path / "r.jsonl")), \
                contextlib.aclosing(chat("a b c")) as stream:
            async for _ in stream:
                break

    asyncio.run(main())
    done = read(str(tmp_path / "r.jsonl")).of_kind("node_complete")[0]
    assert done.data == {"outputs": [{"index": 0, "delta": "a"}], "stream": True, "closed": True}


@node
async def afailing(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i
    raise KeyError("gone")


def test_an_async_stream_that_raises_records_the_error(tmp_path: Path, read: Read) -> None:
    """An exception inside an async generator is recorded with the items before it, unchanged."""

    async def main() -> list[int]:
        got: list[int] = []
        async with record_workflow("s", path=str(tmp_path / "r.jsonl")):
            async for i in afailing(1):
                got.append(i)
        return got

    with pytest.raises(KeyError, match="gone"):
        asyncio.run(main())
    err = read(str(tmp_path / "r.jsonl")).of_kind("node_error")[0]
    assert (err.data["outputs"], err.data["error"]["type"]) == ([0], "KeyError")


def test_a_stream_that_raises_records_the_error_and_its_items(tmp_path: Path,
                                                              read: Read) -> None:
    """An exception inside the generator is recorded (with the items before it) and re-raised."""
    seen: list[int] = []
    with pytest.raises(ValueError, match="stream broke"), \
            record_workflow("s", path=str(tmp_path / "r.jsonl")):
        seen.extend(failing(2))
    rb = read(str(tmp_path / "r.jsonl"))
    err = rb.of_kind("node_error")[0]
    assert err.data["outputs"] == [0, 1]
    assert err.data["stream"] is True
    assert err.data["error"]["type"] == "ValueError"


def test_send_and_return_value_pass_through(tmp_path: Path, read: Read) -> None:
    """Values sent into the stream reach the generator, and its return value reaches the caller."""

    def drive() -> str:
        gen = accumulator()
        assert next(gen) == 0
        assert gen.send(4) == 4
        try:
            gen.send(7)
        except StopIteration as stop:
            return str(stop.value)
        raise AssertionError("the stream should have ended")

    assert drive() == "done at 11"  # no recording
    with record_workflow("s", path=str(tmp_path / "r.jsonl")) as rec:
        assert drive() == "done at 11"
    assert read(rec).of_kind("node_complete")[0].data == {"outputs": [0, 4], "stream": True}


def test_items_are_recorded_as_they_were_yielded(tmp_path: Path, read: Read) -> None:
    """A consumer changing a yielded dict afterwards does not change the recording."""
    with record_workflow("s", path=str(tmp_path / "r.jsonl")) as rec:
        for item in _dicts():
            item["delta"] = "changed"
    done = read(rec).of_kind("node_complete")[0]
    assert done.data["outputs"] == [{"delta": "a"}, {"delta": "b"}]


@node
def _dicts() -> Iterator[dict[str, str]]:
    yield {"delta": "a"}
    yield {"delta": "b"}


def test_secrets_in_streamed_items_are_masked(tmp_path: Path) -> None:
    """A token shape inside a streamed item never reaches the file."""
    secret = "sk-" + "A1b2C3d4E5f6G7h8I9j0"
    with record_workflow("s", path=str(tmp_path / "r.jsonl"), codec="none"):
        assert list(tokens(f"key {secret}")) == ["key", secret]
    assert secret not in (tmp_path / "r.jsonl").read_text()


def test_a_stream_never_iterated_records_nothing(tmp_path: Path, read: Read) -> None:
    """Calling a generator @node without iterating it starts no span."""
    with record_workflow("s", path=str(tmp_path / "r.jsonl")) as rec:
        tokens("never read")
    assert read(rec).of_kind("node_start") == []

"""Re-execution serves recorded @node calls without running them (SPEC §12).

Recorded outputs come back as the type the function declares; recorded
errors are raised again with their original class and message; streams are
served back as generators of the same kind; a value the recording holds only
as a placeholder cannot be served.
"""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import pytest
import reexec_flows as flows
from conftest import read_recording

from recorder import (
    RecordedNodeError,
    ReplayDivergenceError,
    node,
    record_workflow,
    reexecute,
)


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    flows.reset()


def test_recorded_calls_are_served_without_running(tmp_path: Path) -> None:
    """Every recorded @node call returns its recorded output and its function never runs."""
    original = tmp_path / "original.jsonl.zst"
    expected = flows.record(original, flows.pipeline)
    flows.reset()
    with reexecute(original, record_to=tmp_path / "again.jsonl.zst") as rx:
        assert flows.pipeline() == expected
    assert sum(flows.RUNS.values()) == 0
    report = rx.report
    assert report.identical and not report.diverged and not report.regressed
    assert report.divergences == [] and report.unused == []
    assert report.sources == {"recorded": 2}  # plan (what it called inside is its own), search


def test_the_reexecution_is_itself_a_recording(tmp_path: Path) -> None:
    """The new file links to the original (replay_of), holds the served nodes' insides as
    recorded, and marks each node's source."""
    original = tmp_path / "original.jsonl.zst"
    flows.record(original, flows.pipeline, name="nightly")
    again = tmp_path / "again.jsonl.zst"
    with reexecute(str(original), record_to=str(again)):
        flows.pipeline()
    old, new = read_recording(original), read_recording(again)
    assert new.header.replay_of == old.header.recording_id
    assert new.header.workflow == "nightly"
    assert new.status == "completed"
    # A served node's inside is written as it was recorded, so the new file tells the
    # whole story (and the diff finds it equal), each end marked as served.
    starts = new.of_kind("node_start")
    assert [e.node for e in starts] == ["plan", "search", "summarize", "search"]
    assert [e.parent for e in starts[1:3]] == [starts[0].seq, starts[0].seq]
    assert [e.data["source"] for e in new.of_kind("node_complete")] == ["recorded"] * 4


def test_async_nodes_are_served(tmp_path: Path) -> None:
    """An async @node is served under `async with reexecute(...)`."""
    original = tmp_path / "o.jsonl.zst"

    async def flow() -> list[dict[str, int]]:
        return list(await asyncio.gather(flows.fetch(1, 0.01), flows.fetch(2, 0)))

    async def record() -> list[dict[str, int]]:
        async with record_workflow("a", path=str(original)):
            return await flow()

    async def again() -> tuple[list[dict[str, int]], Any]:
        async with reexecute(original, record_to=tmp_path / "n.jsonl.zst") as rx:
            got = await flow()
        return got, rx

    expected = asyncio.run(record())
    flows.reset()
    got, rx = asyncio.run(again())
    assert got == expected == [{"i": 1, "square": 1}, {"i": 2, "square": 4}]
    assert flows.RUNS["fetch"] == 0
    assert rx.report.identical


def test_values_come_back_as_their_declared_types(tmp_path: Path) -> None:
    """Dataclass, msgspec Struct, TypedDict, attrs, pydantic and tuple returns keep their types."""
    original = tmp_path / "o.jsonl.zst"
    expected = flows.record(original, flows.typed_flow)
    flows.reset()
    with reexecute(original, record_to=tmp_path / "n.jsonl.zst") as rx:
        got = flows.typed_flow()
    assert sum(flows.RUNS.values()) == 0
    assert got == expected
    assert type(got["hit"]) is flows.Hit
    assert type(got["page"]) is flows.Page and type(got["page"].hits[0]) is flows.Hit
    assert got["usage"] == {"prompt_tokens": 3, "completion_tokens": 5}
    assert type(got["verdict"]) is flows.Verdict
    assert type(got["answer"]) is flows.Answer
    assert got["pair"] == (1, "one")
    assert rx.report.identical


def test_recorded_errors_raise_again_with_their_class_and_message(tmp_path: Path) -> None:
    """A recorded exception is raised again as its original class, with its message."""
    original = tmp_path / "o.jsonl.zst"

    def flow() -> list[str]:
        caught = []
        for call in (lambda: flows.over_quota("ann"), lambda: flows.missing_key({"a": 1})):
            try:
                call()
            except (flows.QuotaError, KeyError) as exc:
                caught.append(f"{type(exc).__name__}: {exc}")
        return caught

    expected = flows.record(original, flow)
    assert expected == ["QuotaError: ann is over quota", "KeyError: 'absent'"]
    flows.reset()
    with reexecute(original, record_to=tmp_path / "n.jsonl.zst") as rx:
        assert flow() == expected
    assert sum(flows.RUNS.values()) == 0
    assert rx.report.identical


def test_an_error_class_that_cannot_be_rebuilt_is_a_recorded_node_error(tmp_path: Path) -> None:
    """An exception whose class cannot be built from its message comes back as
    RecordedNodeError carrying the type, the message and the recorded traceback."""
    original = tmp_path / "o.jsonl.zst"
    with pytest.raises(flows.NeedsTwoArgs):
        flows.record(original, flows.odd_error)
    flows.reset()
    with pytest.raises(RecordedNodeError) as info, \
            reexecute(original, record_to=tmp_path / "n.jsonl.zst"):
        flows.odd_error()
    err = info.value
    assert err.type == "NeedsTwoArgs" and err.module == "reexec_flows"
    assert err.message == "7: odd"
    assert "raise NeedsTwoArgs(7, \"odd\")" in err.traceback
    assert "NeedsTwoArgs: 7: odd" in str(err) and "odd_error" in str(err)
    assert flows.RUNS["odd_error"] == 0


def test_sync_and_async_streams_replay_offline(tmp_path: Path) -> None:
    """Streaming nodes are served back as generators of the same kind, item types kept."""
    original = tmp_path / "o.jsonl.zst"

    async def consume() -> tuple[list[str], list[flows.Hit]]:
        words = list(flows.stream_words("to be or not"))
        chunks = [c async for c in flows.astream_chunks("hello world")]
        return words, chunks

    async def record() -> tuple[list[str], list[flows.Hit]]:
        async with record_workflow("s", path=str(original)):
            return await consume()

    async def again() -> tuple[tuple[list[str], list[flows.Hit]], Any]:
        async with reexecute(original, record_to=tmp_path / "n.jsonl.zst") as rx:
            assert inspect.isgenerator(flows.stream_words("x"))
            assert inspect.isasyncgen(flows.astream_chunks("x"))
            return await consume(), rx

    expected = asyncio.run(record())
    flows.reset()
    got, rx = asyncio.run(again())
    assert got == expected
    assert got[1] == [flows.Hit("hello", 0.0), flows.Hit("world", 0.1)]
    assert flows.RUNS["stream_words"] == flows.RUNS["astream_chunks"] == 0
    assert rx.report.identical


class Opaque:
    """Not encodable as JSON: recorded as a {"$repr", "$type"} placeholder."""

    def __repr__(self) -> str:
        return "Opaque()"


@node
def make_client(url: str) -> Opaque:
    return Opaque()


def test_a_placeholder_output_is_unservable(tmp_path: Path) -> None:
    """A value recorded only as a $repr placeholder cannot be served: unservable, at that call."""
    original = tmp_path / "o.jsonl.zst"
    flows.record(original, make_client, "https://example.org")
    with pytest.raises(ReplayDivergenceError) as info, \
            reexecute(original, record_to=tmp_path / "n.jsonl.zst"):
        make_client("https://example.org")
    d = info.value.divergence
    assert d.kind == "unservable" and d.node == "make_client" and d.recorded_seq == 1
    assert "$repr" in str(info.value) and "Opaque" in str(info.value)
    assert "live=" in str(info.value)  # says the way out


def test_a_truncated_output_is_unservable(tmp_path: Path) -> None:
    """A value over max_payload_bytes (recorded as $truncated) cannot be served."""
    original = tmp_path / "o.jsonl.zst"
    with record_workflow("t", path=str(original), max_payload_bytes=64):
        flows.summarize(["x" * 100])
    with pytest.raises(ReplayDivergenceError) as info, \
            reexecute(original, record_to=tmp_path / "n.jsonl.zst"):
        flows.summarize(["x" * 100])
    assert info.value.divergence.kind == "unservable"
    assert "truncated" in str(info.value)

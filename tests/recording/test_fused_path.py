"""The one-pass ``@node`` path writes what the general path writes, byte for byte.

A plain ``@node`` call is recorded by `recorder._step` while the recorder
allows it; a ``redact=`` callable sends every call down the general
``node_start``/``node_end`` path instead. The same calls recorded both ways
must give the same event lines (only ``ts`` differs), whatever the calls
hold: nesting, retries, secrets, objects, unencodable values, lone
surrogates, oversized payloads, keyword arguments, methods, async nodes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import zstandard

from recorder import REDACTED, ExecutionRecorder, node, record_workflow

Read = Callable[..., Any]
_TS = re.compile(rb'"ts":\d+')
_TASK = re.compile(rb'"lane":"Task-\d+"')  # asyncio numbers its tasks process-wide


@dataclasses.dataclass
class Login:
    user: str
    password: str


class Opaque:
    def __repr__(self) -> str:
        return "Opaque()"


@node
def leaf(x: Any) -> Any:
    return x


@node("outer", node_type="agent")
def outer(n: int, *, label: str = "x") -> dict[str, Any]:
    return {"n": n, "inner": [leaf(i) for i in range(n)], "label": label}


_calls = {"flaky": 0}


@node
def flaky(key: str) -> str:
    _calls["flaky"] += 1
    if _calls["flaky"] % 3:
        raise ConnectionError("down")
    return key


@node
def fails(x: int) -> None:
    raise ValueError(f"bad {x}")


class Agent:
    @node
    def act(self, goal: str) -> str:
        return goal.upper()


@node
async def aleaf(x: Any) -> Any:
    await asyncio.sleep(0)
    return x


def workload() -> None:
    """The same calls, for both paths: every kind of payload the hot path may meet."""
    outer(3)
    outer(2, label="kw")
    _calls["flaky"] = 0
    for _ in range(3):  # each time: two failed attempts, then one that succeeds
        for _ in range(2):
            with pytest.raises(ConnectionError):
                flaky("k")
        flaky("k")
    with pytest.raises(ValueError):
        fails(1)
    leaf({"api_key": "sk-abcdefghijklmnopqrstuvwx", "n": 1})  # a secret key, a token shape
    leaf("sk-abcdefghijklmnopqrstuvwx appears again")  # now a seen secret, in text
    leaf(Login("ann", "hunter22"))  # a secret inside an object
    leaf({"Ünïcode-Këy": "v", "x": 1.5})  # non-ASCII key: the general masking
    leaf(Opaque())  # unencodable: a placeholder
    leaf("lone \udcff surrogate")  # escaped
    leaf("x" * 5000)  # over max_payload_bytes: truncated and noted
    leaf(None)
    leaf(True)
    leaf(("a", 1))
    Agent().act("go")

    async def tasks() -> None:
        await asyncio.gather(*(aleaf(i) for i in range(3)))
        await aleaf({"token": "abcdefgh"})

    asyncio.run(tasks())


def event_lines(path: str) -> list[bytes]:
    """The event lines of a recording as bytes (header and footer left out), ``ts`` zeroed and
    task numbers blanked."""
    data = Path(path).read_bytes()
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    lines = reader.read().split(b"\n")[1:-2]
    return [_TASK.sub(b'"lane":"Task-N"', _TS.sub(b'"ts":0', line)) for line in lines]


def record(store: Path, **options: Any) -> ExecutionRecorder:
    with record_workflow("same", store=store, max_payload_bytes=1000, **options) as rec:
        hot = rec._hot is not None
        workload()
    assert hot is ("redact" not in options), "the run did not take the path it was meant to"
    return rec


def test_both_paths_write_the_same_event_lines(store: Path) -> None:
    """The one-pass path and the general path give byte-identical event lines."""
    fused = record(store)
    general = record(store, redact=lambda path, value: value)
    assert fused.path is not None and general.path is not None
    lines = event_lines(fused.path)
    assert len(lines) > 60
    assert lines == event_lines(general.path)


def test_the_one_pass_path_masks_and_keeps_what_the_general_path_does(store: Path,
                                                                      read: Read) -> None:
    """Through the one-pass path: secrets masked, placeholders, truncation, lone surrogates."""
    rec = record(store)
    r = read(rec)
    starts = [e.data["inputs"] for e in r.of_kind("node_start") if e.node == "leaf"]
    inputs = [i["x"] for i in starts if "x" in i]
    assert {"api_key": REDACTED, "n": 1} in inputs
    assert f"{REDACTED} appears again" in inputs
    assert {"user": "ann", "password": REDACTED} in inputs
    assert {"$repr": "Opaque()", "$type": f"{__name__}.Opaque"} in inputs
    assert "lone \\udcff surrogate" in inputs
    assert any("$truncated" in i for i in starts)
    assert r.footer is not None and r.footer.dropped
    attempts = [e.attempt for e in r.of_kind("node_start") if e.node == "flaky"]
    assert attempts == [1, 2, 3] * 3
    raw = Path(rec.path).read_bytes()  # type: ignore[arg-type]
    decoded = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw),
                                                         read_across_frames=True).read()
    assert b"hunter22" not in decoded and b"sk-abcdefghijklmnop" not in decoded


def test_inputs_are_the_arguments_as_they_were_at_the_call(store: Path, read: Read) -> None:
    """Changing an argument inside the node or after it does not change its recorded inputs."""
    @node
    def grow(items: list[str], meta: dict[str, int]) -> int:
        items.append("added inside")
        meta["n"] += 1
        return len(items)

    items, meta = ["a"], {"n": 1}
    with record_workflow("capture", store=store) as rec:
        grow(items, meta)
        items.append("added after")
        meta["n"] = 99
    start = read(rec).of_kind("node_start")[0]
    assert start.data["inputs"] == {"items": ["a"], "meta": {"n": 1}}

"""Standard tools read recordings: zstdcat, zcat, jq, and plain files as they are.

SPEC §3 promises that any standard tool reads a recording: the frames
decompress to NDJSON (header, one line per event in dense ``seq`` order,
footer), every line has a ``"kind"``, and the trailer is invisible to
``zstdcat``/``zcat``. These tests drive the real tools on recordings made
with the public API.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from _tools import require_tool

from recorder import node, record_workflow

pytestmark = pytest.mark.tools

EVENTS = 2 + 2 * 10 + 1 + 2 + 1  # workflow start/end, 10 nodes, a state, a failing node, custom


@node
def step(i: int) -> int:
    return i * i


@node("charge_card", node_type="tool")
def charge_card(amount: int) -> None:
    raise ValueError(f"card declined for {amount}")


def _record(store: Path, codec: str) -> Path:
    """A small run with a failing node, in several frames."""
    with record_workflow("tools", store=store, codec=codec, flush_every=3) as rec:
        for i in range(10):
            step(i)
        rec.snapshot({"done": 10})
        with contextlib.suppress(ValueError):
            charge_card(42)
        rec.event("finished", {"ok": False})
    assert rec.path is not None
    return Path(rec.path)


def _run(args: list[str], *, stdin: bytes | None = None) -> bytes:
    proc = subprocess.run(args, input=stdin, capture_output=True, timeout=30, check=False)
    assert proc.returncode == 0, f"{args} failed ({proc.returncode}): {proc.stderr!r}"
    assert proc.stderr == b"", proc.stderr
    return proc.stdout


def _check_ndjson(out: bytes) -> list[dict[str, Any]]:
    """NDJSON as SPEC §3 describes it: header, dense events, footer; every line has a kind."""
    text = out.decode("utf-8")
    assert text.endswith("\n")
    lines = [json.loads(line) for line in text.splitlines()]
    assert all(isinstance(obj, dict) and "kind" in obj for obj in lines)
    header, *events, footer = lines
    assert header["kind"] == "header"
    assert (header["format"], header["version"], header["workflow"]) == ("flowtape", 1, "tools")
    assert [e["seq"] for e in events] == list(range(EVENTS))
    assert footer["kind"] == "footer"
    assert (footer["status"], footer["event_count"]) == ("completed", EVENTS)
    return lines


@pytest.mark.parametrize(("codec", "tool", "suffix"), [
    ("zstd", "zstdcat", ".jsonl.zst"),
    ("gzip", "zcat", ".jsonl.gz"),
])
def test_decompressor_prints_the_recording_as_ndjson(
    tmp_path: Path, codec: str, tool: str, suffix: str
) -> None:
    """zstdcat / zcat print the header line, one line per event and the footer line."""
    exe = require_tool(tool)
    path = _record(tmp_path, codec)
    assert path.name.endswith(suffix)
    lines = _check_ndjson(_run([exe, str(path)]))
    assert len(lines[-1]["index"]["frames"]) > 1  # several frames, all concatenated


@pytest.mark.parametrize(("codec", "tool"), [("zstd", "zstd"), ("gzip", "gzip")])
def test_integrity_check_of_the_tool_passes(tmp_path: Path, codec: str, tool: str) -> None:
    """`zstd -t` / `gzip -t` accept the file: every frame's checksum and the trailer are valid."""
    exe = require_tool(tool)
    path = _record(tmp_path, codec)
    subprocess.run([exe, "-t", "-q", str(path)], check=True, timeout=30)


def test_plain_recording_is_ndjson_as_is(tmp_path: Path) -> None:
    """A codec="none" recording is the same NDJSON with no tool at all."""
    path = _record(tmp_path, "none")
    assert path.name.endswith(".jsonl")
    _check_ndjson(path.read_bytes())


@pytest.mark.parametrize(("codec", "tool"), [("zstd", "zstdcat"), ("gzip", "zcat"),
                                             ("none", "cat")])
def test_jq_finds_the_failing_node(tmp_path: Path, codec: str, tool: str) -> None:
    """`jq 'select(.kind=="node_error")'` over the decompressed lines finds the failing node."""
    jq = require_tool("jq")
    cat = require_tool(tool)
    path = _record(tmp_path, codec)
    lines = _run([cat, str(path)])
    errors = _run([jq, "-c", 'select(.kind=="node_error")'], stdin=lines).decode().splitlines()
    assert len(errors) == 1
    error = json.loads(errors[0])
    assert error["node"] == "charge_card"
    assert error["data"]["error"]["type"] == "ValueError"
    assert error["data"]["error"]["message"] == "card declined for 42"
    start = json.loads(_run([jq, "-c", f'select(.seq=={error["span"]})'], stdin=lines))
    assert (start["kind"], start["data"]["inputs"]) == ("node_start", {"amount": 42})
    # Every line, header and footer included, has a "kind".
    assert _run([jq, "-s", "all(.[]; has(\"kind\"))"], stdin=lines).strip() == b"true"
    kinds = _run([jq, "-r", ".kind"], stdin=lines).decode().split()
    assert kinds[0] == "header" and kinds[-1] == "footer" and len(kinds) == EVENTS + 2

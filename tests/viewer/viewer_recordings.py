"""Recordings the viewer tests look at, made with the public API.

* the research-pipeline example (examples/research_pipeline.py), run as
  tests/test_example.py runs it;
* a run whose payloads and names are hostile markup (``<script>``, ``<img
  onerror>``, a ``javascript:`` URL) — each would set ``window.__pwned`` if a
  page ever ran it;
* a run written with `storage.LogWriter` whose end events carry the outcomes
  the viewer's span status rules read (a cancelled workflow, a member that
  failed, a member that timed out, a team that did not succeed);
* a loop of small nodes with a state snapshot per step, for size caps and
  paging.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from recorder import node, record_workflow
from storage import Counts, Event, Footer, Header, LogWriter, new_recording_id

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "research_pipeline.py"

#: Markup a page must show as text; each piece would set window.__pwned if it ran.
HOSTILE_SCRIPT = "<script>window.__pwned = 'script'</script>"
HOSTILE_IMG = "<img src=x onerror=\"window.__pwned = 'img'\">"
HOSTILE_URL = "javascript:window.__pwned='url'"
HOSTILE_NODE = "<b onmouseover=\"window.__pwned='node'\">evil</b>"


def record_example(store: Path, *args: str) -> Path:
    """Run the example into ``store`` (``--fail`` for the failing run); its recording's path."""
    proc = subprocess.run([sys.executable, str(EXAMPLE), "--store", str(store), "--quiet", *args],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return Path(proc.stdout.strip())


def record_hostile(store: Path) -> Path:
    """A run whose node id, outputs, state and error message are hostile markup."""

    @node(HOSTILE_NODE)
    def render(page: str) -> dict[str, Any]:
        return {"html": HOSTILE_SCRIPT, "img": HOSTILE_IMG, "link": HOSTILE_URL, "page": page}

    @node("explode")
    def explode() -> None:
        raise ValueError(HOSTILE_IMG)

    with record_workflow("hostile</title><script>window.__pwned='title'</script>",
                         store=str(store), tags=[HOSTILE_SCRIPT]) as rec:
        rec.snapshot({"html": HOSTILE_SCRIPT, HOSTILE_IMG: HOSTILE_URL})
        render(HOSTILE_URL)
        with contextlib.suppress(ValueError):
            explode()
        rec.snapshot({"html": HOSTILE_IMG, HOSTILE_IMG: HOSTILE_SCRIPT})
        path = rec.path
    assert path is not None
    return Path(path)


def write_outcomes(path: Path) -> Path:
    """A cancelled run whose members failed / timed out and whose team did not succeed."""
    header = Header(recording_id=new_recording_id(), workflow="outcomes",
                    started_at="2026-01-01T00:00:00.000000Z")
    error = {"type": "CancelledError", "message": "stopped by the operator"}
    lines: list[dict[str, Any]] = [
        {"kind": "workflow_start", "node": "outcomes"},
        {"kind": "team_start", "node": "crew", "parent": 0, "data": {"member_count": 3}},
        {"kind": "team_member_start", "node": "alice", "parent": 1, "data": {"team": "crew"}},
        {"kind": "team_member_complete", "node": "alice", "span": 2, "parent": 1,
         "data": {"error": {"type": "KeyError", "message": "'plan'"}}},
        {"kind": "team_member_start", "node": "bob", "parent": 1, "data": {"team": "crew"}},
        {"kind": "team_member_complete", "node": "bob", "span": 4, "parent": 1,
         "data": {"status": "timed_out"}},
        {"kind": "team_member_start", "node": "carol", "parent": 1, "data": {"team": "crew"}},
        {"kind": "team_member_complete", "node": "carol", "span": 6, "parent": 1},
        {"kind": "team_complete", "node": "crew", "span": 1, "parent": 0,
         "data": {"success": False}},
        {"kind": "workflow_error", "node": "outcomes", "span": 0,
         "data": {"error": error, "status": "cancelled"}},
    ]
    writer = LogWriter(path, header)
    for seq, line in enumerate(lines):
        writer.append(Event(seq=seq, ts=1_000_000 * (seq + 1), lane="main", **line))
    writer.close(Footer(status="cancelled", event_count=len(lines), duration_ns=10_000_000,
                        error=error, counts=Counts(teams=1)))
    return path


@node("step")
def _step(i: int) -> dict[str, int]:
    return {"i": i, "square": i * i}


@node("boom")
def _boom(i: int) -> None:
    raise RuntimeError(f"step {i} failed")


def record_loop(store: Path, steps: int, *, fail_at: int | None = None) -> Path:
    """``steps`` node executions, each followed by a state snapshot; one fails at ``fail_at``."""
    with record_workflow("loop", store=str(store)) as rec:
        state: dict[str, Any] = {"done": 0, "last": None}
        for i in range(steps):
            if i == fail_at:
                with contextlib.suppress(RuntimeError):
                    _boom(i)
            out = _step(i)
            state["done"] = i + 1
            state["last"] = out["square"]
            rec.snapshot(state)
        path = rec.path
    assert path is not None
    return Path(path)


@node("fetch")
def _fetch(q: str) -> dict[str, str]:
    return {"q": q}


_SCORES: list[float] = []  # what the next `_score` call returns (not one of its inputs)


@node("score")
def _score(q: str) -> dict[str, float]:
    return {"score": _SCORES.pop(0)}


@node("store")
def _store(q: str) -> bool:
    return True


def record_pair(store: Path) -> tuple[str, str]:
    """Two runs of one workflow that differ in one node's output: ``score`` 0.91, then 0.87."""
    ids = []
    for value in (0.91, 0.87):
        _SCORES.append(value)
        with record_workflow("scoring", store=str(store)) as rec:
            _fetch("q")
            _score("q")
            _store("q")
            ids.append(rec.recording_id)
    return ids[0], ids[1]


#: A child process that records into a store in three bursts, waiting between them for
#: a file the test creates: ``argv``: store, directory for the hand-shake files.
LIVE_CHILD = """
import os, sys, time
from pathlib import Path
from recorder import node, record_workflow

store, hand = sys.argv[1], Path(sys.argv[2])

@node("tick")
def tick(i):
    return i

def wait_for(name):
    while not (hand / name).exists():
        time.sleep(0.02)

with record_workflow("live", store=store) as rec:
    for burst, go in enumerate(("go1", "go2", None)):
        for i in range(10):
            tick(burst * 10 + i)
        time.sleep(0.6)  # past the flush interval: the burst is on disk
        (hand / f"burst{burst}").write_text(rec.recording_id)
        if go:
            wait_for(go)
"""


@node("before")
def _before() -> int:
    return 1


@node("after")
def _after() -> int:
    return 2


def record_idle(store: Path, idle: float = 0.4) -> Path:
    """Two quick nodes with ``idle`` seconds of nothing between them."""
    with record_workflow("idle", store=str(store)) as rec:
        _before()
        time.sleep(idle)
        _after()
        path = rec.path
    assert path is not None
    return Path(path)


def killed_mid_run(store: Path, hand: Path) -> Path:
    """A recording whose writer (a real child process) was killed with SIGKILL mid-run."""
    child = subprocess.Popen([sys.executable, "-c", LIVE_CHILD, str(store), str(hand)],
                             cwd=Path(__file__).resolve().parents[2],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (hand / "burst0").exists():
            assert child.poll() is None and time.monotonic() < deadline, "the child died"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    (path,) = store.glob((hand / "burst0").read_text() + ".*")
    return path

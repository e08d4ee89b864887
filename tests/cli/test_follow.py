"""`flowtape replay ID --follow` tails a recording another process is still writing.

The writer is a real subprocess recording slowly (a small ``flush_interval``);
it records a few steps, then waits for a go-file before it finishes. That
pause proves the order of things without any timing: the follower must print
those steps while the writer is provably still running, and it must exit on
its own once the footer arrives.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
#: Bounds for a hung process; nothing here is a timed assertion.
TIMEOUT = 60.0

WRITER = textwrap.dedent("""
    import os, sys, time
    from recorder import node, record_workflow

    @node
    def step(i):
        return i * i

    store, go = sys.argv[1], sys.argv[2]
    with record_workflow("slow", store=store, flush_interval=0.02) as rec:
        print(rec.path, flush=True)
        for i in range(3):
            step(i)
            time.sleep(0.05)
        print("waiting", flush=True)
        while not os.path.exists(go):
            time.sleep(0.02)
        step(3)
        rec.snapshot({"done": True})
""")


class Lines:
    """Reads a process's stdout line by line on a thread, so waits can be bounded."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.seen: list[str] = []
        self._q: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._q.put(line.rstrip("\n"))
        self._q.put(None)

    def until(self, needle: str) -> list[str]:
        """Lines up to the first one containing ``needle`` (fails at EOF or after TIMEOUT)."""
        while True:
            try:
                line = self._q.get(timeout=TIMEOUT)
            except queue.Empty:
                pytest.fail(f"no line with {needle!r} within {TIMEOUT}s; saw {self.seen}")
            if line is None:
                pytest.fail(f"output ended before a line with {needle!r}; saw {self.seen}")
            self.seen.append(line)
            if needle in line:
                return self.seen

    def rest(self) -> list[str]:
        """Every remaining line, until the process closes its output."""
        while True:
            line = self._q.get(timeout=TIMEOUT)
            if line is None:
                return self.seen
            self.seen.append(line)


def spawn(*argv: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)


def test_follow_prints_events_while_the_writer_runs(tmp_path: Path) -> None:
    """Events show up while the writer is blocked mid-run; the footer ends the follow (exit 0)."""
    store = tmp_path / "recordings"
    go = tmp_path / "go"
    env = {**os.environ, "FLOWTAPE_STORE": str(store), "COLUMNS": "200"}
    writer = spawn("-c", WRITER, str(store), str(go), env=env)
    follower = None
    try:
        out = Lines(writer)
        path = out.until("/")[0]
        recording_id = Path(path).name.split(".")[0]
        out.until("waiting")

        follower = spawn("-m", "replayer", "replay", recording_id[:12], "--follow", env=env)
        shown = Lines(follower)
        shown.until("following")
        for _ in range(3):  # step(0), step(1), step(2): all recorded before the pause
            shown.until("node_complete step")
        assert writer.poll() is None, "the writer must still be running"
        assert follower.poll() is None, "the follower must still be waiting for more"
        assert not any("workflow_complete" in line for line in shown.seen)

        go.touch()
        lines = shown.rest()
        assert follower.wait(timeout=TIMEOUT) == 0, follower.stderr.read()  # type: ignore[union-attr]
        assert writer.wait(timeout=TIMEOUT) == 0
    finally:
        for proc in (writer, follower):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=TIMEOUT)
            if proc is not None:
                for stream in (proc.stdout, proc.stderr):
                    if stream is not None:
                        stream.close()

    body = lines[1:-1]
    seqs = [int(line.split()[0]) for line in body]
    assert seqs == list(range(len(seqs))), "every event, once, in order"
    kinds = [line.split()[2] for line in body]
    assert kinds.count("node_start") == 4 and kinds.count("node_complete") == 4
    assert "state" in kinds and kinds[-1] == "workflow_complete"
    assert lines[-1].startswith("completed in ")


def test_follow_a_file_that_is_already_finished(tmp_path: Path) -> None:
    """On a finished recording, --follow prints everything and exits at once with 0."""
    store = tmp_path / "recordings"
    go = tmp_path / "go"
    go.touch()
    env = {**os.environ, "FLOWTAPE_STORE": str(store)}
    writer = subprocess.run([sys.executable, "-c", WRITER, str(store), str(go)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=TIMEOUT,
                            check=True)
    path = writer.stdout.splitlines()[0]
    proc = subprocess.run([sys.executable, "-m", "replayer", "replay", path, "--follow",
                           "--kind", "node_complete"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert sum("node_complete step" in line for line in lines) == 4
    assert lines[-1].startswith("completed in ")

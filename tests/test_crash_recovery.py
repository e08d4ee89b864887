"""A recording process killed with SIGKILL loses at most its last flush interval.

SPEC §3: the writer flushes when the oldest buffered event is
``flush_interval`` (0.25 s) old — checked with every event on the recording
thread (a busy workflow) and by a background timer (an idle one) — and, once
two events came more than an interval apart, flushes each event as it comes
(a workflow blocked in a C call that holds the GIL starves the timer). So
after SIGKILL every event emitted more than 0.25 s before the kill must be on
disk, and the reader must call the recording ``incomplete``.

Each test runs a real child process that records events and prints the
``seq`` and monotonic time of each one as it goes (CLOCK_MONOTONIC is shared
by all processes of the machine), kills it with SIGKILL, and checks the file.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from storage import LogReader

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
FLUSH_INTERVAL = 0.25
#: Allowance for scheduling: the gap between two events of the busy loop, the GIL
#: switch interval (5 ms) the background flush may wait under a CPU-bound workflow, and
#: a loaded CI machine (the flush itself is due exactly FLUSH_INTERVAL after the event).
SLACK = 0.15

#: The recording child. argv: mode, path. Prints "E <seq> <time>" after each event (after each
#: step's node_complete in "busy-nodes") and "S <seconds>" before each long pause, flushing
#: stdout every line. Before a pause it records an error (error events are flushed at once)
#: and then one event, which so sits alone in the buffer: only the background flush can
#: write it, FLUSH_INTERVAL after it happened.
CHILD = r"""
import sys, time
from recorder import node, record_workflow

mode, path = sys.argv[1], sys.argv[2]
say = sys.stdout.write

def spin(seconds):
    # CPU-bound Python code: holds the GIL except at forced switches.
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n

@node
def flush_now():
    raise RuntimeError("an error event is flushed at once")

def emit(i):
    seq = rec.event("tick", {"i": i})
    say(f"E {seq} {time.monotonic()}\n"); sys.stdout.flush()

@node
def work(i):
    return spin(0.005)

with record_workflow("crash", path=path) as rec:
    say(f"E 0 {time.monotonic()}\n"); sys.stdout.flush()
    i = 0
    while True:
        i += 1
        if mode == "busy":                # an event every ~5 ms of CPU work
            spin(0.005)
            emit(i)
        elif mode == "busy-nodes":        # a @node step (two events) every ~5 ms
            work(i)
            say(f"E {rec.metadata.event_count - 1} {time.monotonic()}\n"); sys.stdout.flush()
        elif i % 6:                       # a burst of events ...
            time.sleep(0.02) if mode == "idle" else spin(0.002)
            emit(i)
        else:                             # ... then a pause recording nothing
            try:
                flush_now()
            except RuntimeError:
                pass
            emit(i)
            say("S 0.6\n"); sys.stdout.flush()
            time.sleep(0.6) if mode == "idle" else spin(0.6)
"""


class Child:
    """The recording child process and its progress lines."""

    def __init__(self, mode: str, path: Path, script: str = CHILD) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", script, mode, str(path)], cwd=REPO, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.emitted: dict[int, float] = {}  # seq -> time the child had emitted it by
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def next_line(self, deadline: float) -> str:
        """The next progress line; fails the test if the child dies or stalls."""
        try:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            pytest.fail("the recording child stalled")
        if line is None:
            self.proc.wait(timeout=5)
            pytest.fail(f"the recording child died: {self.proc.stderr.read()}")  # type: ignore[union-attr]
        if line.startswith("E "):
            _, seq, at = line.split()
            self.emitted[int(seq)] = float(at)
        return line

    def kill(self) -> float:
        """SIGKILL the child; returns the time of the kill. Collects the lines still in the pipe."""
        killed_at = time.monotonic()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=5)
        self._reader.join(timeout=5)
        while (line := self.lines.get_nowait()) is not None:
            if line.startswith("E "):
                _, seq, at = line.split()
                self.emitted[int(seq)] = float(at)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        return killed_at

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def _check_after_kill(path: Path, emitted: dict[int, float], killed_at: float) -> None:
    """Everything emitted more than the flush interval before the kill is readable."""
    with LogReader.open(path) as reader:
        assert reader.status == "incomplete"
        assert reader.footer is None
        seqs = [e.seq for e in reader.iter_events()]
        assert reader.header.workflow == "crash"
    assert seqs == list(range(len(seqs))), "readable events are not a dense prefix"
    due = sorted(s for s, at in emitted.items() if at < killed_at - FLUSH_INTERVAL - SLACK)
    assert due, "the child emitted nothing long enough before the kill to check"
    missing = sorted(set(due) - set(seqs))
    assert not missing, (
        f"{len(missing)} events emitted over {FLUSH_INTERVAL}s before SIGKILL were lost: "
        f"seqs {missing[:10]}…, emitted {killed_at - emitted[missing[0]]:.3f}s before the kill; "
        f"{len(seqs)} of {len(emitted)} events readable")


@pytest.mark.parametrize("mode", ["busy", "busy-nodes"])
def test_busy_workflow_killed_mid_stream(tmp_path: Path, mode: str) -> None:
    """A CPU-busy workflow emitting steadily (events, or @node steps) loses only its last
    flush interval to SIGKILL."""
    path = tmp_path / f"{mode}.jsonl.zst"
    child = Child(mode, path)
    try:
        deadline = time.monotonic() + 15
        child.next_line(deadline)
        started = time.monotonic()
        while time.monotonic() - started < 1.0:
            child.next_line(deadline)
        killed_at = child.kill()
    finally:
        child.close()
    _check_after_kill(path, child.emitted, killed_at)
    # The busy loop really was emitting steadily (~200 events a second), in many frames.
    assert len([s for s, at in child.emitted.items() if at < killed_at - 0.5]) > 20


def _seconds_until_readable(path: Path, seq: int, since: float, limit: float) -> float:
    """How long after ``since`` event ``seq`` could be read from the growing file (polling)."""
    while True:
        with LogReader.open(path) as reader:
            if reader.event_count > seq:
                return time.monotonic() - since
        if time.monotonic() - since > limit:
            return float("inf")
        time.sleep(0.002)


@pytest.mark.parametrize("mode", ["idle", "busy-gaps"])
def test_workflow_killed_while_recording_nothing(tmp_path: Path, mode: str) -> None:
    """Events before a pause (sleeping, or computing on the CPU) reach the disk during it."""
    path = tmp_path / f"{mode}.jsonl.zst"
    child = Child(mode, path)
    latencies: list[float] = []
    try:
        deadline = time.monotonic() + 15
        while len(latencies) < 3:
            if child.next_line(deadline).startswith("S "):
                # The child has just begun a 0.6 s pause; its last event is alone in
                # the buffer and no later event will push it out.
                last = max(child.emitted)
                latencies.append(_seconds_until_readable(path, last, child.emitted[last], 0.55))
        time.sleep(max(0.0, child.emitted[last] + FLUSH_INTERVAL + 0.05 - time.monotonic()))
        killed_at = child.kill()  # during the third pause
    finally:
        child.close()
    assert max(latencies) <= FLUSH_INTERVAL + SLACK, (
        f"events reached the disk {[round(x, 3) for x in latencies]}s after they happened; "
        f"the flush interval is {FLUSH_INTERVAL}s")
    assert killed_at - child.emitted[last] < 0.6  # the kill did land in the pause
    _check_after_kill(path, child.emitted, killed_at)


#: A child whose steps alternate with long C calls holding the GIL (``sum(range(n))``), so
#: neither the flusher thread nor a next event can push the buffer out meanwhile. Prints
#: "E <seq> <time>" once a step's node_complete is recorded, "C <time>" as a call starts.
C_CALL_CHILD = r"""
import sys, time
from recorder import node, record_workflow

say = sys.stdout.write

@node
def step(i):
    return i

# Size the call to hold the GIL for about two seconds on this machine, however fast. The
# fastest of a few timings: a burst of load while timing would make the call too short.
def timed(k):
    t = time.perf_counter()
    sum(range(k))
    return time.perf_counter() - t

best = min(timed(10**6) for _ in range(5))
n = int(2 * 10**6 / max(best, 1e-6))

with record_workflow("crash", path=sys.argv[2]):
    i = 0
    while True:
        step(i)  # workflow_start is seq 0: step i is seqs 2i+1 (start), 2i+2 (complete)
        say(f"E {2 * i + 2} {time.monotonic()}\n"); sys.stdout.flush()
        say(f"C {time.monotonic()}\n"); sys.stdout.flush()
        sum(range(n))  # one C call: holds the GIL for about two seconds
        i += 1
"""


def test_steps_between_long_c_calls_survive_sigkill(tmp_path: Path) -> None:
    """Steps finished over one interval before a SIGKILL during a GIL-holding call are on disk."""
    path = tmp_path / "c-calls.jsonl.zst"
    child = Child("c-calls", path, C_CALL_CHILD)
    try:
        deadline = time.monotonic() + 60
        calls = 0
        while calls < 3:
            line = child.next_line(deadline)
            if line.startswith("C "):
                calls += 1
                call_started = float(line.split()[1])
        # Inside the third call, well past one interval after its last step ended.
        time.sleep(max(0.0, call_started + FLUSH_INTERVAL + SLACK + 0.05 - time.monotonic()))
        last_seq = max(child.emitted)
        killed_at = child.kill()
    finally:
        child.close()
    assert max(child.emitted) == last_seq, "the kill did not land inside the C call"
    _check_after_kill(path, child.emitted, killed_at)
    assert last_seq in set(_readable_seqs(path))


def _readable_seqs(path: Path) -> list[int]:
    with LogReader.open(path) as reader:
        return [e.seq for e in reader.iter_events()]

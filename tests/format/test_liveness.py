"""A footerless recording is ``running`` while its writer lives, ``incomplete`` once it is gone.

The writer holds an exclusive ``flock`` on its file until it closes it; the
kernel drops it when the process dies (docs/format.md §Reading, step 6).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recorder import record_workflow
from replayer import ExecutionReplayer, Replayer
from storage import LogReader
from storage.format.integrity import check_file

REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
import sys, time
from recorder import record_workflow
with record_workflow("sleeper", path=sys.argv[1], flush_interval=0.01) as rec:
    rec.event("started")
    print("ready", flush=True)
    time.sleep(60)
"""


def test_recording_open_in_this_process_reads_as_running(tmp_path: Path) -> None:
    """Inside `record_workflow` the file has no footer yet, and the reader says running."""
    path = tmp_path / "live.jsonl.zst"
    with record_workflow("live", path=str(path)) as rec:
        rec.event("x")
        with LogReader.open(path) as reader:
            assert reader.footer is None
            assert reader.status == "running"
            assert reader.writer_alive
        assert check_file(str(path)).verdict == "running"
    with LogReader.open(path) as reader:
        assert reader.status == "completed" and not reader.writer_alive


def test_replayer_summary_of_a_live_recording_is_running(tmp_path: Path) -> None:
    """Replayer.summary.status is running while the writer holds the file, then the footer's."""
    path = tmp_path / "live.jsonl.zst"
    with record_workflow("live", path=str(path), flush_interval=0) as rec:
        rec.event("x")
        with Replayer.open(path) as r:
            assert r.summary.status == "running"
            assert r.summary.event_count == len(r) == 2
        with ExecutionReplayer.load(path) as published:
            assert published.metadata.status == "running"
            assert published.metadata.success is None  # not known until it ends
    with Replayer.open(path) as r:
        assert r.summary.status == "completed"


@pytest.mark.slow
def test_killed_writer_leaves_an_incomplete_recording(tmp_path: Path) -> None:
    """SIGKILL releases the lock: the same file turns from running to incomplete."""
    path = tmp_path / "killed.jsonl.zst"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], env=env,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(0.1)  # the event's frame reaches the disk (flush_interval 0.01 s)
        with LogReader.open(path) as reader:
            assert reader.status == "running"
        with Replayer.open(path) as r:
            assert r.summary.status == "running"
        report = check_file(str(path))
        assert report.verdict == "running" and report.ok and not report.problems
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.stdout is not None
        child.stdout.close()
    with LogReader.open(path) as reader:
        assert reader.status == "incomplete"
        assert [e.kind for e in reader.iter_events()][:2] == ["workflow_start", "custom"]
    with Replayer.open(path) as r:
        assert r.summary.status == "incomplete"
    assert check_file(str(path)).verdict == "incomplete"

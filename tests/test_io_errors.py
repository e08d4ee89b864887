"""I/O failures while recording: the workflow goes on, the failure is logged once.

The failures are real, and work when the tests run as root (where permission
bits do not stop anything): a path under a regular file (ENOTDIR), a store
that is a file, a file-size limit (RLIMIT_FSIZE, EFBIG) set in a child
process, and — where the machine lets a child mount a private tmpfs — a full
disk (ENOSPC). ``strict=True`` turns each into a RecordingWriteError.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from recorder import RecordingWriteError, node, record_workflow
from storage import FlowtapeError

Read = Callable[..., Any]
ROOT = Path(__file__).resolve().parent.parent


@node
def double(x: int) -> int:
    return 2 * x


def flowtape_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "flowtape" and r.levelno >= logging.ERROR]


# --- in-process: the file cannot be created ----------------------------------------------------
def test_unwritable_path_degrades_and_logs_once(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """A path under a regular file cannot be created: nothing raises, one error is logged."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with record_workflow("etl", path=str(blocker / "run.jsonl.zst")) as rec:
        assert double(21) == 42
        rec.event("e", {"n": 1})
        rec.snapshot({"a": 1})
        with rec.team("t") as team, team.member("m"):
            team.message("m", "m", "hi")
        for i in range(300):  # enough to cross a flush
            rec.checkpoint("c", i)
    errors = flowtape_errors(caplog)
    assert len(errors) == 1
    assert "not-a-dir" in errors[0].getMessage()
    assert blocker.read_text() == "x"
    assert rec.summary().degraded  # the recording knows it is degraded


def test_unwritable_path_does_not_change_the_workflow_outcome(tmp_path: Path) -> None:
    """A failing workflow still raises its own exception when the recording is degraded."""
    blocker = tmp_path / "f"
    blocker.write_text("")
    boom = ValueError("mine")
    with pytest.raises(ValueError) as info, \
            record_workflow("etl", path=str(blocker / "r.jsonl")):
        raise boom
    assert info.value is boom


def test_store_that_is_a_file_degrades(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """store= naming a regular file does not stop the workflow; the failure is logged once."""
    blocker = tmp_path / "store-file"
    blocker.write_text("x")
    with record_workflow("etl", store=str(blocker)) as rec:
        assert double(1) == 2
    assert len(flowtape_errors(caplog)) == 1
    assert rec.summary().degraded


def test_strict_mode_raises_when_the_file_cannot_be_created(tmp_path: Path) -> None:
    """strict=True raises RecordingWriteError (an OSError and a FlowtapeError) at once."""
    blocker = tmp_path / "f"
    blocker.write_text("")
    with pytest.raises(RecordingWriteError) as info, \
            record_workflow("etl", path=str(blocker / "r.jsonl.zst"), strict=True):
        pytest.fail("the workflow body must not run")
    assert isinstance(info.value, OSError)
    assert isinstance(info.value, FlowtapeError)
    assert "r.jsonl.zst" in str(info.value)


def test_strict_store_that_is_a_file_raises(tmp_path: Path) -> None:
    """strict=True also raises RecordingWriteError when the store cannot take the file."""
    blocker = tmp_path / "store-file"
    blocker.write_text("x")
    with pytest.raises(RecordingWriteError), \
            record_workflow("etl", store=str(blocker), strict=True):
        pass


def test_existing_file_at_path_is_not_overwritten(tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """path= naming an existing file degrades (O_EXCL) and leaves the file's bytes alone."""
    target = tmp_path / "keep.jsonl"
    target.write_bytes(b"precious\n")
    with record_workflow("etl", path=str(target)):
        double(1)
    assert target.read_bytes() == b"precious\n"
    assert len(flowtape_errors(caplog)) == 1


# --- in a child process: writes fail part-way ----------------------------------------------------
CHILD = textwrap.dedent('''
    import json, logging, os, resource, signal, sys, time

    cfg = json.loads(sys.argv[1])
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append([record.levelname, record.getMessage()])

    logging.getLogger("flowtape").addHandler(Keep())
    from recorder import node, record_workflow
    from storage import LogReader

    @node
    def step(i, blob):
        return i

    if cfg["limit"]:
        # Writing past the limit then fails with EFBIG instead of killing the process.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (cfg["limit"], resource.RLIM_INFINITY))
    out = {"raised": None, "raised_at": None, "result": None, "done": 0}
    rec = None
    try:
        with record_workflow("etl", path=cfg["path"], strict=cfg["strict"],
                             flush_every=cfg["flush_every"],
                             flush_interval=cfg["flush_interval"]) as rec:
            total = 0
            for i in range(cfg["events"]):
                out["raised_at"] = i
                total += step(i, os.urandom(1000).hex())
                out["done"] = i + 1
            if cfg["wait_for_size"]:
                # Let the idle flusher hit the limit (a wait for a condition, not a timing);
                # the frame it could not finish is cut off again, so watch the writer.
                deadline = time.monotonic() + 60
                while rec._writer.failed is None:
                    assert time.monotonic() < deadline, "the idle flusher never wrote"
                    time.sleep(0.01)
            out["result"] = total
            out["raised_at"] = None
    except BaseException as exc:
        out["raised"] = type(exc).__name__
        out["raised_mro"] = [c.__name__ for c in type(exc).__mro__]
    out["logs"] = records
    out["degraded"] = list(rec.summary().degraded) if rec is not None else None
    out["size"] = os.path.getsize(cfg["path"])
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    try:
        with LogReader.open(cfg["path"], recover=True) as r:
            events = list(r.iter_events())
            out["status"] = r.status
            out["seqs"] = [e.seq for e in events]
            out["kinds"] = [e.kind for e in events]
            out["header_workflow"] = r.header.workflow
            out["tail_garbage"] = r.tail_garbage
            out["footer"] = None if r.footer is None else {
                "event_count": r.footer.event_count, "degraded": r.footer.degraded}
    except Exception as exc:  # reported, so a test about logging is not about reading
        out["read_error"] = repr(exc)
    print(json.dumps(out))
''')


def run_child(tmp_path: Path, *, path: str, limit: int | None, strict: bool = False,
              events: int = 60, flush_every: int = 1, flush_interval: float = 1000.0,
              wait_for_size: bool = False) -> dict[str, Any]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    cfg = {"path": path, "limit": limit, "strict": strict, "events": events,
           "flush_every": flush_every, "flush_interval": flush_interval,
           "wait_for_size": wait_for_size}
    cmd = [sys.executable, str(script), json.dumps(cfg)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1",
                               "PATH": "/usr/bin:/bin"}, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _quote(s: str) -> str:
    return "'" + s.replace("'", "'\"'\"'") + "'"


def test_write_failure_mid_run_degrades_and_logs_once(tmp_path: Path) -> None:
    """When writes start failing (EFBIG) mid-run, the workflow finishes; one error is logged."""
    path = str(tmp_path / "run.jsonl.zst")
    out = run_child(tmp_path, path=path, limit=20_000)
    assert out["raised"] is None
    assert out["result"] == sum(range(60))
    errors = [m for level, m in out["logs"] if level == "ERROR"]
    assert len(errors) == 1, out["logs"]
    assert "run.jsonl.zst" in errors[0]
    assert out["degraded"]
    assert out["size"] <= 20_000
    # Everything written before the failure reads back, in order, from the start; the
    # frame cut short by the limit was removed, and the small footer still fit after it.
    assert out["header_workflow"] == "etl"
    assert out["tail_garbage"] == 0
    assert out["seqs"] == list(range(len(out["seqs"])))
    assert 2 < len(out["seqs"]) < 120
    if out["footer"] is not None:
        assert out["status"] == "completed"
        assert out["footer"]["event_count"] == len(out["seqs"])
        assert any("could not be written" in n for n in out["footer"]["degraded"])
    else:
        assert out["status"] == "incomplete"


def test_write_failure_in_the_idle_flusher_is_logged_once(tmp_path: Path) -> None:
    """A write that fails on the background flusher's thread is still reported, once."""
    path = str(tmp_path / "run.jsonl.zst")
    out = run_child(tmp_path, path=path, limit=3_000, events=3, flush_every=10_000,
                    flush_interval=0.02, wait_for_size=True)
    assert out["raised"] is None
    assert out["result"] == 3
    errors = [m for level, m in out["logs"] if level == "ERROR"]
    assert len(errors) == 1, out["logs"]
    assert out["degraded"]


def test_strict_mode_raises_on_a_failed_write(tmp_path: Path) -> None:
    """With strict=True the failed write raises RecordingWriteError out of the workflow."""
    path = str(tmp_path / "run.jsonl.zst")
    out = run_child(tmp_path, path=path, limit=20_000, strict=True)
    assert out["raised"] == "RecordingWriteError"
    assert {"OSError", "FlowtapeError"} <= set(out["raised_mro"])
    assert out["raised_at"] is not None and 0 < out["raised_at"] < 60


def test_strict_mode_raises_when_the_footer_cannot_be_written(tmp_path: Path) -> None:
    """With strict=True a run whose last write fails raises at exit instead of passing silently."""
    path = str(tmp_path / "run.jsonl.zst")
    out = run_child(tmp_path, path=path, limit=3_000, strict=True, events=3,
                    flush_every=10_000, flush_interval=1000.0)
    assert out["raised"] == "RecordingWriteError"
    assert out["raised_at"] is None  # the workflow body completed


@cache
def private_tmpfs_works() -> bool:
    """True when a child may mount a private tmpfs (a real file system to fill up)."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k none /mnt && umount /mnt"],
        capture_output=True, check=False)
    return probe.returncode == 0


def on_private_tmpfs(mnt: Path, size: str) -> list[str]:
    """A command prefix running the rest in a private mount namespace with a ``size`` tmpfs
    mounted at ``mnt`` (`sh -c CMD` with the command appended as $0 and arguments)."""
    return ["unshare", "-m", "sh", "-c",
            f"mount -t tmpfs -o size={size} none {_quote(str(mnt))} && exec \"$0\" \"$@\""]


def test_disk_full_degrades_and_logs_once(tmp_path: Path) -> None:
    """On a full disk (ENOSPC, a 64 KiB tmpfs in a private mount namespace) the run goes on."""
    if not private_tmpfs_works():
        pytest.skip("this machine does not let a child mount a private tmpfs")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    wrap = on_private_tmpfs(mnt, "64k")
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    cfg = {"path": str(mnt / "run.jsonl.zst"), "limit": None, "strict": False, "events": 200,
           "flush_every": 1, "flush_interval": 1000.0, "wait_for_size": False}
    proc = subprocess.run([*wrap, sys.executable, str(script), json.dumps(cfg)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
                          env={"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1",
                               "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["raised"] is None
    assert out["result"] == sum(range(200))
    errors = [m for level, m in out["logs"] if level == "ERROR"]
    assert len(errors) == 1, out["logs"]
    assert "No space left" in errors[0]
    assert out["status"] in ("incomplete", "completed")  # the footer fits once a frame is cut
    assert out["seqs"] == list(range(len(out["seqs"])))

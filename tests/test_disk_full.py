"""A full disk while recording: the run goes on, and what reaches the disk says so.

The disk fills for real, in a child process: a file-size limit (RLIMIT_FSIZE,
so writes fail with EFBIG, partly written first) that the child can lift
again — space coming back — and, where the machine lets a child mount a
private tmpfs, a truly full file system (ENOSPC) with a filler file the
child deletes. Checked: no file descriptor leaks from failed header writes,
no empty file is left behind, the footer is written at close once space has
returned (with the degradation noted and ``event_count`` equal to the events
in the file), and no partial frame sits before it (issues 10.2, 10.3).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from test_io_errors import on_private_tmpfs, private_tmpfs_works

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

PRELUDE = textwrap.dedent('''
    import json, logging, os, resource, signal, sys

    cfg = json.loads(sys.argv[1])
    logs = []

    class Keep(logging.Handler):
        def emit(self, record):
            logs.append([record.levelname, record.getMessage()])

    logging.getLogger("flowtape").addHandler(Keep())
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death past the limit
    UNLIMITED = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)

    def limit(n):
        resource.setrlimit(resource.RLIMIT_FSIZE, (n, resource.RLIM_INFINITY))

    def fds():
        return len(os.listdir("/proc/self/fd"))

    from recorder import node, record_workflow
    from storage import LogReader

    @node
    def step(i, blob):
        return i

    def read(path):
        with LogReader.open(path) as r:
            events = list(r.iter_events())
            return {"status": r.status, "seqs": [e.seq for e in events],
                    "footer": None if r.footer is None else {
                        "event_count": r.footer.event_count, "degraded": r.footer.degraded,
                        "status": r.footer.status},
                    "tail_garbage": r.tail_garbage}
''')

HEADER_FAILS = PRELUDE + textwrap.dedent('''
    # Every header write fails: the file cannot get even its first frame.
    out = {"before": fds(), "raised": None, "results": 0}
    limit(0)
    for i in range(cfg["runs"]):
        with record_workflow("etl", path=os.path.join(cfg["dir"], f"run-{i}.jsonl.zst")):
            out["results"] += step(i, "x")
    resource.setrlimit(resource.RLIMIT_FSIZE, UNLIMITED)
    out["after"] = fds()
    with open(os.path.join(cfg["dir"], "mine.txt"), "w") as f:  # the workflow's own open()
        f.write("still works")
    out["left"] = sorted(os.listdir(cfg["dir"]))
    out["errors"] = [m for level, m in logs if level == "ERROR"]
    print(json.dumps(out))
''')

SPACE_RETURNS = PRELUDE + textwrap.dedent('''
    # Writes start failing part-way (part of a frame written), then space comes back.
    path = cfg["path"]
    with record_workflow("etl", path=path, flush_every=1, flush_interval=1000.0) as rec:
        step(0, "x")
        limit(os.path.getsize(path) + 3000)
        total = 0
        for i in range(1, 40):
            total += step(i, os.urandom(500).hex())
        resource.setrlimit(resource.RLIMIT_FSIZE, UNLIMITED)  # space is back before the end
    out = read(path)
    out["total"] = total
    out["errors"] = [m for level, m in logs if level == "ERROR"]
    out["recorded_count"] = rec.summary().event_count
    print(json.dumps(out))
''')

TMPFS_FULL = PRELUDE + textwrap.dedent('''
    # A real full file system: a filler takes the space, then is deleted.
    mnt = cfg["mnt"]
    filler = os.path.join(mnt, "filler")

    def fill():
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            while True:
                os.write(fd, bytes(4096))
        except OSError:
            pass
        os.close(fd)

    fill()  # full from the start: the recording cannot even write its header
    with record_workflow("etl", path=os.path.join(mnt, "at-start.jsonl.zst")):
        step(0, "x")
    at_start_left = os.path.exists(os.path.join(mnt, "at-start.jsonl.zst"))
    os.unlink(filler)

    path = os.path.join(mnt, "mid-run.jsonl.zst")
    with record_workflow("etl", path=path, flush_every=1, flush_interval=1000.0):
        step(0, "x")
        fill()
        for i in range(1, 30):
            step(i, os.urandom(300).hex())
        os.unlink(filler)
    out = read(path)
    out["at_start_left"] = at_start_left
    out["errors"] = [m for level, m in logs if level == "ERROR"]
    print(json.dumps(out))
''')


def run_child(script: str, cfg: dict[str, Any], tmp_path: Path,
              wrap: list[str] | None = None) -> dict[str, Any]:
    child = tmp_path / "child.py"
    child.write_text(script)
    proc = subprocess.run([*(wrap or []), sys.executable, str(child), json.dumps(cfg)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
                          env={"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1",
                               "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_failed_header_writes_leak_no_descriptor_and_leave_no_file(tmp_path: Path) -> None:
    """300 runs whose header cannot be written: no fd leaks, no files left, one error each."""
    out = run_child(HEADER_FAILS, {"dir": str(tmp_path), "runs": 300}, tmp_path)
    assert out["results"] == sum(range(300))
    assert out["after"] == out["before"]
    assert out["left"] == ["child.py", "mine.txt"]  # no empty recording files
    assert len(out["errors"]) == 300  # one per run, each naming its file
    assert "run-299.jsonl.zst" in out["errors"][-1]


def test_footer_is_written_once_space_returns(tmp_path: Path) -> None:
    """Writes fail mid-run; at close space is back: footer with degraded and a true event count."""
    out = run_child(SPACE_RETURNS, {"path": str(tmp_path / "run.jsonl.zst")}, tmp_path)
    assert out["total"] == sum(range(1, 40))
    assert len(out["errors"]) == 1
    footer = out["footer"]
    assert footer is not None, out
    assert out["status"] == "completed"
    assert out["tail_garbage"] == 0
    assert footer["event_count"] == len(out["seqs"]) < out["recorded_count"]
    assert out["seqs"] == list(range(len(out["seqs"])))
    assert any("could not be written" in note for note in footer["degraded"]), footer


def test_full_tmpfs_at_start_and_mid_run(tmp_path: Path) -> None:
    """ENOSPC for real: no 0-byte file at start; mid-run, the footer lands once space is freed."""
    if not private_tmpfs_works():
        pytest.skip("this machine does not let a child mount a private tmpfs")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    wrap = on_private_tmpfs(mnt, "128k")
    out = run_child(TMPFS_FULL, {"mnt": str(mnt)}, tmp_path, wrap)
    assert out["at_start_left"] is False
    assert out["footer"] is not None, out
    assert out["footer"]["event_count"] == len(out["seqs"])
    assert out["seqs"] == list(range(len(out["seqs"])))
    assert out["footer"]["degraded"]
    assert any("No space left" in m for m in out["errors"])


IN_A_STORE = PRELUDE + textwrap.dedent('''
    # A degraded run recorded into a store: the store still catalogues it at the end.
    from storage import open_store
    store = cfg["store"]
    with record_workflow("etl", store=store, flush_every=1, flush_interval=1000.0) as rec:
        step(0, "x")
        limit(os.path.getsize(rec.path) + 2000)
        for i in range(1, 30):
            step(i, os.urandom(400).hex())
        resource.setrlimit(resource.RLIMIT_FSIZE, UNLIMITED)
    info = open_store(store).get(rec.recording_id)
    print(json.dumps({"status": info.status, "degraded": rec.summary().degraded,
                      "warnings": [m for level, m in logs if level == "WARNING"]}))
''')


def test_a_degraded_run_is_still_catalogued(tmp_path: Path) -> None:
    """The store gets the finished recording (and the notes, when it takes them); no warning."""
    store = tmp_path / "store"
    store.mkdir()
    out = run_child(IN_A_STORE, {"store": str(store)}, tmp_path)
    assert out["degraded"]
    assert out["status"] == "completed"
    assert out["warnings"] == []

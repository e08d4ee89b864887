"""Recordings with chosen outcomes, for the store tests.

Real runs have real (unpredictable) durations and start times; queries,
retention and statistics are easier to check on recordings whose start,
duration, status, tags and error are chosen. `add_recording` writes one with
the public `storage.LogWriter` — header, a few events, footer and trailer,
exactly as the recorder does — at the path the store gives and tells the
store it finished, as the recorder would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import msgspec

from storage import Event, Footer, Header, LogReader, LogWriter, Store, new_recording_id

BASE = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.UTC)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def add_recording(
    store: Store,
    *,
    workflow: str = "wf",
    status: str = "completed",
    started: dt.datetime | None = None,
    duration_s: float = 1.0,
    tags: tuple[str, ...] | list[str] = (),
    error_type: str | None = None,
    events: int = 3,
    pad: int = 0,
    codec: str = "zstd",
    rid: str | None = None,
) -> str:
    """Write a finished recording into ``store`` (with the id ``rid``, if given); returns
    its id."""
    started = started or BASE
    rid = rid or new_recording_id(int(started.timestamp() * 1e9))
    header = Header(recording_id=rid, workflow=workflow,
                    started_at=started.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    tags=list(tags), host=socket.gethostname(), pid=os.getpid())
    path = store.path_for(rid, codec)
    writer = LogWriter(path, header, codec=codec)
    with writer.lock:
        for i in range(events):
            data: dict[str, Any] = {"name": "tick", "i": i}
            if pad:
                data["pad"] = os.urandom(pad).hex()  # incompressible: sizes follow ``pad``
            writer.append(Event(i, i * 1000, "custom", data=data))
        error = {"type": error_type, "message": "it broke"} if error_type else None
        writer.close(Footer(status=status, event_count=events,
                            duration_ns=int(duration_s * 1e9), error=error))
    store.finish(rid, path)
    return rid


def write_without_footer(store: Store, *, workflow: str = "wf", events: int = 3,
                         pid: int | None = None) -> str:
    """A run whose writer closed its file without a footer and never called ``finish``.

    Catalogued ``running`` by ``begin``, as the recorder does; then the
    events are written and the file is closed with no footer, as when the
    footer could not be written. ``pid`` goes into the header (default: this
    process, which is alive but holds no lock on the file). Returns the id.
    """
    rid = new_recording_id()
    header = Header(recording_id=rid, workflow=workflow, started_at=dt.datetime.now(
        dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), host=socket.gethostname(),
                    pid=os.getpid() if pid is None else pid)
    path = store.path_for(rid, "zstd")
    writer = LogWriter(path, header, flush_every=1)
    store.begin(header, path)
    with writer.lock:
        for i in range(events):
            writer.append(Event(i, i * 1000, "custom", data={"name": "tick", "i": i}))
        writer.close(Footer(status="completed", event_count=events, duration_ns=1000))
    cut_footer(path)
    return rid


def cut_footer(path: str) -> None:
    """Truncate a finished recording after its last event frame (no footer, no trailer)."""
    with LogReader.open(path) as reader:
        last = reader.frames[-1]
    os.truncate(path, last.offset + last.length)


#: Malformed recordings a store must report and skip (issue 10.8): name -> (header fields,
#: footer fields or None for a footer-less file, what the report says is wrong).
MALFORMED: dict[str, tuple[dict[str, Any], dict[str, Any] | None, str]] = {
    "started_at": ({"started_at": "yesterday"}, {},
                   "the header's started_at 'yesterday' is not an RFC 3339 time"),
    "pid": ({"pid": 2**40}, None, "the header's pid 1099511627776 is not a process id"),
    "deep": ({"meta": {"deep": msgspec.Raw(b"[" * 5000 + b"]" * 5000)}}, {},
             "the header line is not JSON"),
    "traversal": ({"recording_id": "../../etc/passwd"}, {},
                  "the header's recording_id '../../etc/passwd' is not a recording id"),
    "nul": ({"recording_id": "01jnul\x00id"}, {},
            "the header's recording_id '01jnul\\x00id' is not a recording id"),
    "duration": ({}, {"duration_ns": 2**63},
                 "the footer's duration_ns 9223372036854775808 is out of range"),
}


def write_malformed(directory: str, kind: str) -> str:
    """Write the `MALFORMED` recording ``kind`` into ``directory`` under a well-formed file
    name (the name says nothing of what is inside); returns its path."""
    fields, footer, _ = MALFORMED[kind]
    name_id = new_recording_id()
    header = Header(**{"recording_id": name_id, "workflow": f"bad-{kind}",
                       "started_at": BASE.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                       "host": socket.gethostname(), **fields})
    path = os.path.join(directory, f"{name_id}.jsonl.zst")
    writer = LogWriter(path, header)
    with writer.lock:
        writer.append(Event(0, 0, "custom", data={"name": "tick"}))
        writer.close(Footer(**{"status": "completed", "event_count": 1, "duration_ns": 5,
                               **(footer or {})}))
    if footer is None:
        cut_footer(path)
    return path


def subprocess_env() -> dict[str, str]:
    """The environment for a child Python that imports flowtape from this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return env


def python_args(script: str, *args: object) -> list[str]:
    """argv running ``script`` (dedented) in a child Python with ``args``."""
    return [sys.executable, "-c", textwrap.dedent(script), *map(str, args)]


# A recorder that writes a few events (each flushed at once), says "ready <id>",
# and then waits to be killed -- a run that crashes mid-way.
VICTIM = """
    import sys, time
    from recorder import record_workflow

    store, keep = sys.argv[1], sys.argv[2]
    with record_workflow("victim", store=store, keep=keep, tags=["crash"],
                         flush_every=1) as rec:
        for i in range(5):
            rec.event("tick", {"i": i})
        print("ready", rec.recording_id, flush=True)
        time.sleep(120)
"""


@contextlib.contextmanager
def running_victim(store: str, keep: str = "always") -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A child process mid-recording into ``store``: (process, recording id).

    The child is killed (if still alive) and reaped on the way out.
    """
    proc = subprocess.Popen(python_args(VICTIM, store, keep), stdout=subprocess.PIPE,
                            env=subprocess_env(), text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert line[:1] == ["ready"], f"the recording child did not start: {line}"
        yield proc, line[1]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL ``proc`` and reap it (so its pid is gone, not a zombie)."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

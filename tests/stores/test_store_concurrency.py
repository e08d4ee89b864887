"""Several processes recording into one store at once (SPEC §7): nothing lost, catalog right."""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from pathlib import Path

import pytest
from store_recordings import python_args, subprocess_env

from storage import FileStore, LogReader, RecordingQuery

WORKERS = 4
RUNS = 10

# Worker W waits for a common start time, then records RUNS runs of workflow wf-(W % 2),
# tagged worker-W and even/odd; runs 4 and 9 fail.
WORKER = """
    import sys, time
    from recorder import node, record_workflow

    root, worker, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])

    @node
    def step(i):
        return i * 2

    while time.time() < start_at:
        time.sleep(0.001)
    for i in range(10):
        tags = [f"worker-{worker}", "even" if i % 2 == 0 else "odd"]
        try:
            with record_workflow(f"wf-{worker % 2}", store=root, tags=tags) as rec:
                step(i)
                rec.snapshot({"i": i, "worker": worker})
                if i % 5 == 4:
                    raise RuntimeError("planned failure")
        except RuntimeError:
            pass
"""


@pytest.mark.slow
def test_four_processes_record_into_one_store(tmp_path: Path) -> None:
    """4 processes x 10 runs at once: 40 catalogued, all readable, queries correct."""
    root = tmp_path / "shared"  # created by the workers, racing to create the catalog too
    before = dt.datetime.now(dt.UTC)
    start_at = time.time() + 1.5
    procs = [subprocess.Popen(python_args(WORKER, root, w, start_at), env=subprocess_env(),
                              stderr=subprocess.PIPE, text=True) for w in range(WORKERS)]
    errors = []
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        if proc.returncode != 0 or "Traceback" in err or "WARNING" in err.upper():
            errors.append(err)
    assert not errors, errors
    after = dt.datetime.now(dt.UTC)

    store = FileStore(root)
    infos = store.list()
    assert len(infos) == WORKERS * RUNS
    assert len({i.recording_id for i in infos}) == WORKERS * RUNS
    for info in infos:
        with LogReader.open(info.path) as reader:
            assert reader.status == info.status
            assert reader.event_count == info.event_count == 5
            assert [e.seq for e in reader.iter_events()] == list(range(reader.event_count))

    def count(**q: object) -> int:
        return len(store.list(RecordingQuery(**q)))  # type: ignore[arg-type]

    assert count(workflow_name="wf-0") == count(workflow_name="wf-1") == 20
    assert count(success=True) == 32 and count(success=False) == 8
    assert count(status="failed") == 8
    assert count(workflow_name="wf-1", success=False) == 4
    assert count(tags=["worker-2"]) == 10
    assert count(tags=["worker-3", "even"]) == 5
    assert count(tags=["worker-0", "worker-1"], tags_mode="any") == 20
    assert count(start_date=before, end_date=after) == 40
    assert count(end_date=before) == 0
    middle = sorted(i.started_at for i in infos)[19]
    assert count(start_date=middle) == 21 and count(end_date=middle) == 20
    assert store.stats().workflow_counts == {"wf-0": 20, "wf-1": 20}
    assert store.verify().ok

"""Store benchmark: `list` with a filter and a sort over 10 000 catalogued recordings (SPEC §10).

Run it::

    .venv/bin/python benchmarks/store_bench.py            # 10 000 recordings
    .venv/bin/python benchmarks/store_bench.py --count 2000 --rebuild

The first run writes 10 000 small real recordings (header, three events,
footer and trailer, through `storage.LogWriter`, as the recorder writes
them: ten workflows, about one run in eight failed, a few tags each, starts
spread over 90 days) into ``benchmarks/.data/store-<count>/`` and builds the
catalog with `FileStore.reindex` — the same code `flowtape reindex` runs.
Later runs reuse that directory (it is git-ignored); ``--rebuild`` makes it
again.

Then, in one process:

* ``store.list(query)`` for a few filtered and sorted queries, each repeated
  (a new `FileStore` object per call, as a fresh command makes one); the
  first call of the process (catalog connection opened) is shown apart;
* the naive baseline: open every file and read its header and footer with
  `LogReader` (the pre-catalog store's way), filter with
  `RecordingQuery.matches`, sort — and check both give the same answer.

It prints a table, the ratio, and PASS/FAIL for the ≤ 100 ms budget (judged
on the median of the main query). The exit code is 0 either way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import socket
import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from storage import (
    Event,
    FileStore,
    Footer,
    Header,
    LogReader,
    LogWriter,
    RecordingInfo,
    RecordingQuery,
    new_recording_id,
)
from storage.stores.rows import row_from_log

BUDGET_MS = 100.0
DATA = Path(__file__).resolve().parent / ".data"
WORKFLOWS = [f"wf-{i}" for i in range(10)]
TAGS = ["nightly", "prod", "staging", "adhoc", "gpu", "release"]
ERRORS = ["KeyError", "TimeoutError", "ValueError", "HTTPError"]
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

MAIN = RecordingQuery(workflow_name="wf-3", success=True, sort_by="duration_ns",
                      sort_order="desc")
QUERIES = {
    "workflow + success, by duration": MAIN,
    "tag, newest first, limit 50": RecordingQuery(tags=["prod"], limit=50),
    "failed in a week, by start": RecordingQuery(
        success=False, start_date=START + dt.timedelta(days=30),
        end_date=START + dt.timedelta(days=37), sort_order="asc"),
    "everything, newest first": RecordingQuery(),
}


def build(root: Path, count: int, console: Console) -> None:
    """Write ``count`` small recordings into ``root`` and catalogue them."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    rng = random.Random(42)
    host, pid = socket.gethostname(), os.getpid()
    t0 = time.perf_counter()
    for n in range(count):
        started = START + dt.timedelta(seconds=rng.uniform(0, 90 * 86_400))
        rid = new_recording_id(int(started.timestamp() * 1e9))
        status = "failed" if rng.random() < 0.125 else "completed"
        header = Header(recording_id=rid, workflow=rng.choice(WORKFLOWS),
                        started_at=started.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        tags=rng.sample(TAGS, rng.randint(0, 3)), host=host, pid=pid)
        writer = LogWriter(root / f"{rid}.jsonl.zst", header, flush_interval=1e9)
        with writer.lock:
            for i in range(3):
                writer.append(Event(i, i * 1000, "custom", data={"name": "tick", "n": n}))
            error = {"type": rng.choice(ERRORS), "message": "x"} if status == "failed" else None
            writer.close(Footer(status=status, event_count=3, error=error,
                                duration_ns=int(rng.lognormvariate(0, 1.5) * 1e9)))
    written = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = FileStore(root).reindex()
    indexed = time.perf_counter() - t0
    (root / ".complete").write_text(str(count))
    console.print(f"wrote {count} recordings in {written:.1f} s; "
                  f"reindex catalogued {result.indexed} in {indexed:.1f} s")


def naive_list(root: Path, query: RecordingQuery) -> list[RecordingInfo]:
    """The baseline: read every file's header and footer, filter and sort in Python."""
    infos = []
    for name in os.listdir(root):
        if not name.endswith(".jsonl.zst"):
            continue
        path = str(root / name)
        with LogReader.open(path, recover=True) as r:
            row = row_from_log(path, r.header, r.footer, r.event_count, r.size, path=path)
            infos.append(row.info(path))
    return query.apply(infos)


def timed(fn: object, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    console = Console()
    root = DATA / f"store-{args.count}"
    marker = root / ".complete"
    if args.rebuild or not marker.exists() or marker.read_text() != str(args.count):
        build(root, args.count, console)
    else:
        console.print(f"reusing {args.count} recordings in {root}")

    t0 = time.perf_counter()
    first = FileStore(root).list(MAIN)
    cold_ms = (time.perf_counter() - t0) * 1e3

    table = Table(title=f"store.list over {args.count} catalogued recordings")
    for col in ("query", "rows", "median ms", "p95 ms"):
        table.add_column(col, justify="right" if col != "query" else "left")
    medians = {}
    for label, query in QUERIES.items():
        rows = len(FileStore(root).list(query))
        times = sorted(timed(lambda q=query: FileStore(root).list(q), args.repeat))
        medians[label] = statistics.median(times)
        table.add_row(label, str(rows), f"{medians[label]:.2f}",
                      f"{times[int(0.95 * (len(times) - 1))]:.2f}")
    t0 = time.perf_counter()
    naive = naive_list(root, MAIN)
    naive_ms = (time.perf_counter() - t0) * 1e3
    table.add_row("naive baseline (main query)", str(len(naive)), f"{naive_ms:.1f}", "")
    console.print(table)

    same = [i.recording_id for i in naive] == [i.recording_id for i in first]
    main_ms = medians["workflow + success, by duration"]
    console.print(f"first list of the process (opens the catalog): {cold_ms:.2f} ms")
    console.print(f"main query: catalog {main_ms:.2f} ms vs naive {naive_ms:.1f} ms "
                  f"-> {naive_ms / main_ms:.0f}x faster; same answer: {same}")
    verdict = "PASS" if main_ms <= BUDGET_MS and same else "FAIL"
    console.print(f"{verdict}: list with a filter and a sort over {args.count} recordings "
                  f"{main_ms:.2f} ms (budget {BUDGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()

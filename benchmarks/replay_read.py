"""The read side with bounded memory: the cases `replay_bench.py` adds for issue 12 (5, 6).

Each runs in a fresh process (``replay_bench.py --child <case> …``), which
restarts its peak-RSS count after its imports (``/proc/self/clear_refs``), so
the figure is what the case cost (without the restart, the whole process's);
the process's whole peak (``VmHWM``, the interpreter and imports included) is
printed beside it:

* **iter_spans** — every span of the recording through ``Replayer.iter_spans``,
  against ``Replayer.spans()`` (the list with ``children``) as the baseline;
* **export chrome** — ``export --format chrome`` written to a file as the
  command writes it (`replayer.export.write_export`); ``dot`` and ``json`` beside
  it, for the record (no budget: the DOT tree is held in columns, ~100 bytes a span);
* **state without state events** — ``get_state_at_event`` at random positions
  of a recording of the same workload without snapshots (the state is the
  folded ``node_complete`` outputs), on one open `Replayer`: first at the last
  event (which folds the whole recording once, making every checkpoint on the
  way: the price of the first question that reaches past those made), then at
  100 random positions, median and max; against the fold from the first event
  (what every question cost before checkpoints) at a few of the same positions.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from replayer import Replayer
from replayer.export import write_export
from storage.analysis.fold import fold_output

BUDGET_SPANS_MB = 100.0
BUDGET_CHROME_MB = 100.0
BUDGET_FOLD_MS = 20.0
FOLD_QUERIES = 100
NAIVE_FOLDS = 5
EXPORTS = ("chrome", "dot", "json")
CASES = ("iter-spans", "spans", *EXPORTS, "fold")


def reset_peak_rss() -> bool:
    """Restart the peak-RSS count at the current RSS (Linux ≥ 4.0: ``clear_refs`` 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # no /proc: the peak, in kB


def peak_kb() -> int:
    """This process's peak RSS (since the last `reset_peak_rss`), in kB."""
    return _status_kb("VmHWM")


def rss_kb() -> int:
    """This process's RSS now, in kB."""
    return _status_kb("VmRSS")


def _reset_peak() -> int:
    """Restart the peak-RSS count here; the RSS now, in kB (0 when it cannot restart)."""
    return rss_kb() if reset_peak_rss() else 0


def _measured(run: Any) -> dict[str, Any]:
    """Wall and CPU seconds of ``run()``, its peak-RSS growth and the process's peak (MB)."""
    base = _reset_peak()
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    out = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
           "result": result, "hwm_mb": peak_kb() / 1024}
    out["growth_mb"] = out["hwm_mb"] - base / 1024 if base else out["hwm_mb"]
    return out


def child(case: str, path: str, argv: list[str]) -> dict[str, Any]:
    """Run one case on the recording at ``path`` in this (fresh) process."""
    if case == "iter-spans":
        def count() -> int:
            with Replayer.open(path) as r:
                return sum(1 for _ in r.iter_spans())
        return _measured(count)
    if case == "spans":
        def build() -> int:
            with Replayer.open(path) as r:
                return len(r.spans())
        return _measured(build)
    if case in EXPORTS:
        def write() -> int:
            with Replayer.open(path) as r, open(argv[0], "w", encoding="utf-8") as f:
                write_export(r, case, f)
            return os.path.getsize(argv[0])
        return _measured(write)
    if case == "fold":
        return _fold(path, int(argv[0]))
    raise SystemExit(f"unknown case {case!r}")


def _naive_fold(r: Replayer, seq: int) -> dict[str, Any]:
    """The state as it was folded before checkpoints: from the first event, every time."""
    folded: dict[str, Any] = {}
    for e in r.iter_events():
        if e.seq > seq:
            break
        fold_output(folded, e)
    return folded


def _fold(path: str, seed: int) -> dict[str, Any]:
    base = _reset_peak()
    with Replayer.open(path) as r:
        assert not r.has_state_events, "the fold case wants a recording without state events"
        n = len(r)
        seqs = [r.reader.seq_at(p) for p in random.Random(seed).sample(range(n), FOLD_QUERIES)]
        seqs.insert(0, r.reader.seq_at(n - 1))  # first the last: every checkpoint is made
        times: list[float] = []
        for seq in seqs:
            start = time.process_time()
            got = r.get_state_at_event(seq)
            times.append((time.process_time() - start) * 1e3)
        grown = peak_kb() - base
        naive: list[float] = []
        for seq in seqs[1:1 + NAIVE_FOLDS]:
            start = time.process_time()
            want = _naive_fold(r, seq)
            naive.append((time.process_time() - start) * 1e3)
            assert r.get_state_at_event(seq) == want, seq
        assert got is not None
    return {"first_ms": times[0], "rest_ms": times[1:], "naive_ms": naive,
            "growth_mb": grown / 1024}


def report(run: Any, path: str, stateless: str, seed: int, row: Any) -> list[tuple[str, bool]]:
    """Run the cases (``run(case, path, *args)`` starts a child), add their rows with
    ``row(what, figure, wall, baseline, ratio, budget)`` and give the budget checks."""
    spans, iterated = run("spans", path), run("iter-spans", path)
    exports: dict[str, dict[str, Any]] = {}
    out = path + ".export"
    try:
        for fmt in EXPORTS:
            exports[fmt] = run(fmt, path, out)
    finally:
        if os.path.exists(out):
            os.unlink(out)
    chrome = exports["chrome"]
    fold = run("fold", stateless, str(seed))

    def mb(case: dict[str, Any]) -> str:
        return f"{case['growth_mb']:.0f} MB (peak {case['hwm_mb']:.0f})"

    row(f"iter_spans(): {iterated['result']:,} spans", f"{iterated['cpu_s']:.2f} s",
        f"{iterated['wall_s']:.2f} s", f"{spans['cpu_s']:.2f} s",
        f"{spans['cpu_s'] / iterated['cpu_s']:.1f}x", "")
    row("  peak RSS growth (whole process)", mb(iterated), "", mb(spans), "",
        f"≤ {BUDGET_SPANS_MB:.0f} MB")
    for fmt, case in exports.items():
        row(f"export --format {fmt}: {case['result'] / 1e6:.0f} MB written",
            f"{case['cpu_s']:.2f} s", f"{case['wall_s']:.2f} s")
        row("  peak RSS growth (whole process)", mb(case), "", "", "",
            f"≤ {BUDGET_CHROME_MB:.0f} MB" if fmt == "chrome" else "")
    rest, naive = fold["rest_ms"], fold["naive_ms"]
    row(f"state, no state events: {len(rest)} random seqs, median", f"{statistics.median(rest):.2f}"
        " ms", "", f"{statistics.median(naive):.0f} ms",
        f"{statistics.median(naive) / statistics.median(rest):,.0f}x", f"≤ {BUDGET_FOLD_MS:.0f} ms")
    row("  max", f"{max(rest):.2f} ms", "", f"{max(naive):.0f} ms")
    row("  first, at the last event (makes every checkpoint)", f"{fold['first_ms']:.0f} ms")
    growth = [c["growth_mb"] for c in (iterated, chrome)]
    return [
        (f"iter_spans: {growth[0]:.1f} MB peak RSS growth, {iterated['cpu_s']:.2f} s "
         f"(spans(): {spans['growth_mb']:.1f} MB, {spans['cpu_s']:.2f} s)",
         growth[0] <= BUDGET_SPANS_MB),
        (f"export --format chrome: {growth[1]:.1f} MB peak RSS growth, {chrome['cpu_s']:.2f} s",
         growth[1] <= BUDGET_CHROME_MB),
        (f"get_state_at_event without state events: median {statistics.median(rest):.2f} ms, "
         f"max {max(rest):.2f} ms (the full fold: median {statistics.median(naive):.0f} ms)",
         max(rest) <= BUDGET_FOLD_MS),
    ]


def alone(run: Any, path: str, stateless: str, seed: int, console: Console) -> int:
    """``replay_bench.py --read-side``: only these cases, in a table of their own."""
    table = Table(title="flowtape read side (times are CPU time unless marked wall)")
    for col in ("what", "flowtape", "flowtape wall", "baseline", "speed-up", "budget"):
        table.add_column(col, justify="left" if col == "what" else "right", no_wrap=True)
    checks = report(run, path, stateless, seed, table.add_row)
    console.print(table)
    for text, ok in checks:
        console.print(("[bold green]PASS[/] " if ok else "[bold red]FAIL[/] ") + text)
    return 0

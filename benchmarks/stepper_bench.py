"""Memory of the debugger's moves on a 1M-event recording (SPEC §10: ≤ 100 MB while stepping).

The stepper (`flowtape replay --step`) answers every move from the events near the
cursor (`replayer/_queries/stepping.py`) instead of building every span. This script
drives a `Stepper` through a command script on the replay benchmark's cached recording
(`replay_bench.ensure_recording`: a flat run of fetch/transform/store nodes with a state
patch after each step) — `n` over spans, `r`, `unt` out of the loop that is the whole run,
`c` over half a million events with a conditional breakpoint and a display, searches,
`lane`, `w`/`u`/`a`, `l`/`ll`, `why` — and prints the time of each command and the growth
of the process's RSS over the interpreter and imports. The baseline, measured in the same
run in its own process, is what the moves would hold if they built the span index once
(``Replayer.spans()``: one `Span` per node run).

Run::

    .venv/bin/python benchmarks/stepper_bench.py              # 1M events
    .venv/bin/python benchmarks/stepper_bench.py --events 200000
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from replay_bench import ensure_recording
from replay_read import peak_kb, reset_peak_rss, rss_kb

from replayer import Replayer, Stepper

#: SPEC §10's budget for stepping a 1M-event recording.
BUDGET_MB = 100.0


def script(n: int) -> list[str]:
    """The commands, with seqs placed relative to a recording of ``n`` events."""
    mid = n // 2
    return ["s 3", "n", "rn", "r", "rr", f"j {mid}", "w", "u", "a", "rv", "d", "n", "rn",
            "unt", f"j {mid}", "b _store, seq % 100000 == 7", "display step", "c", "rc",
            "undisplay", "cl", "b node_error, attempt > 1", "c", f"j {mid}",
            "/done", "?\"score\"", "lane MainThread", "s 10", "rs 5", "lane -", "l", "l",
            "ll", "state totals", "delta", "why totals.rows", "p data", f"unt {mid + 50}"]


def child_stepper(path: str) -> dict[str, Any]:
    gc.collect()
    reset = reset_peak_rss()
    base_peak, base_now = peak_kb(), rss_kb()
    times: list[tuple[str, float]] = []
    with open(os.devnull, "w") as sink, Replayer.open(path) as r:
        stepper = Stepper(r, Console(file=sink, width=120, color_system=None),
                          interactive=False)
        stepper.preloop()
        for command in script(len(r)):
            start = time.perf_counter()
            stepper.onecmd(command)
            times.append((command, time.perf_counter() - start))
    return {"times": times, "peak_reset": reset, "base_mb": base_now / 1024,
            "rss_delta_mb": (peak_kb() - base_peak) / 1024,
            "rss_now_delta_mb": (rss_kb() - base_now) / 1024}


def child_spans(path: str) -> dict[str, Any]:
    gc.collect()
    reset = reset_peak_rss()
    base_peak = peak_kb()
    start = time.perf_counter()
    with Replayer.open(path) as r:
        spans = r.spans()
        count = len(spans)
        seconds = time.perf_counter() - start
        grown = (peak_kb() - base_peak) / 1024
    return {"spans": count, "seconds": seconds, "rss_delta_mb": grown, "peak_reset": reset}


def _child(what: str, path: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", what, path],
                          capture_output=True, text=True, check=False, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"child {what} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        what, path = args.child
        out = child_stepper(path) if what == "stepper" else child_spans(path)
        print(json.dumps(out))
        return 0
    console = Console()
    path = str(ensure_recording(args.events, args.rebuild, console))
    console.print("stepping with the debugger's commands …")
    step = _child("stepper", path)
    console.print("baseline: building every span once …")
    spans = _child("spans", path)
    table = Table("command", "ms", title=f"stepper on {args.events:,} events")
    for command, seconds in step["times"]:
        table.add_row(command, f"{seconds * 1000:,.1f}")
    console.print(table)
    grown = max(step["rss_delta_mb"], step["rss_now_delta_mb"])
    ok = grown <= BUDGET_MB
    console.print(f"RSS growth while stepping: {grown:.1f} MB (peak {step['rss_delta_mb']:.1f}, "
                  f"at the end {step['rss_now_delta_mb']:.1f}; interpreter and imports "
                  f"{step['base_mb']:.0f} MB left out; peak reset: {step['peak_reset']})")
    console.print(f"baseline, the span index: {spans['spans']:,} spans in "
                  f"{spans['seconds']:.1f} s, {spans['rss_delta_mb']:.1f} MB RSS growth; "
                  f"ratio stepping / baseline {grown / max(spans['rss_delta_mb'], 0.1):.2f}")
    console.print(f"budget ≤ {BUDGET_MB:.0f} MB: {'met' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

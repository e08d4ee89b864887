"""Viewer benchmark: the HTML report and `flowtape serve` against the budgets of SPEC §10.

Run it (Debian's /usr/bin/chromium and the dev extra's playwright are needed)::

    .venv/bin/python benchmarks/viewer_bench.py               # 1k, 100k and 1M events
    .venv/bin/python benchmarks/viewer_bench.py --no-serve    # only the reports
    .venv/bin/python benchmarks/viewer_bench.py --rebuild     # record the runs again

The recordings are replay_bench's workload (four nested nodes, a state patch
and a progress event per step; ten events a step), made once with the
public recorder and cached under ``benchmarks/.data/``.

* **report**, for 1k and 100k events: the HTML file's size in bytes per event
  (budget ≤ 30), against the plain ``json`` export's (the naive way to ship
  a run) and the recording's own; and the time to first paint in headless
  Chromium from ``file://`` — until the page's ``flowtape:interactive`` mark
  (timeline, tree, list and inspector drawn, keys live), and Chromium's own
  first-contentful-paint — budget ≤ 2 s at 100k, against Chromium merely
  loading the ``json`` export as a page. Median of three loads.
* **serve**, for 1M events: ``flowtape serve`` runs in its own process; the
  time until the recording's page is interactive (first events shown, keys
  live; budget ≤ 1 s) and until its spans arrive, against the time flowtape
  needs only to produce the whole ``json`` export (what a page that loads
  everything must wait for at the very least); the server's peak RSS
  (VmHWM, budget ≤ 200 MB), against its RSS before the page was opened.

The script prints a table and one PASS/FAIL line per budget; the exit code
is 0 either way: the script reports, CI decides.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replay_bench import ensure_recording  # the shared, cached workload

from replayer import Replayer
from replayer.export.json import iter_json
from replayer.viewer import write_html

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
LOADS = 3

BUDGET_BYTES_PER_EVENT = 30.0
BUDGET_PAINT_S = 2.0
BUDGET_INTERACTIVE_S = 1.0
BUDGET_RSS_MB = 200.0

SERVE = """
import sys
from replayer.cli import build_parser, load_commands
from replayer.terminal.console import make_console
parser = build_parser(load_commands(["replayer.cli.serve"]))
args = parser.parse_args(sys.argv[1:])
sys.exit(args._command.run(args, make_console()))
"""


def _marks(page: Any) -> dict[str, float]:
    return dict(page.evaluate("""() => {
        const out = {};
        for (const e of performance.getEntries()) {
            if (e.name.startsWith("flowtape:") && !(e.name in out)) out[e.name] = e.startTime;
            if (e.name === "first-contentful-paint") out.fcp = e.startTime;
        }
        const nav = performance.getEntriesByType("navigation")[0];
        if (nav) out.load = nav.loadEventEnd;
        return out;
    }"""))


def report(browser: Any, path: Path, out: Path) -> dict[str, Any]:
    """Sizes and first-paint times of the report of ``path``, and of the json export."""
    json_path = out.with_suffix(".json")
    with Replayer.open(path) as r:
        events = len(r)
        t0 = time.perf_counter()
        with out.open("w", encoding="utf-8") as f:
            write_html(r, f)
        export_s = time.perf_counter() - t0
        with json_path.open("w", encoding="utf-8") as f:
            for piece in iter_json(r):
                f.write(piece)
    paints, fcps, raw = [], [], []
    for _ in range(LOADS):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(out.as_uri())
        page.wait_for_function("() => document.body.dataset.seq !== undefined", timeout=120_000)
        m = _marks(page)
        paints.append(m["flowtape:interactive"] / 1e3)
        fcps.append(m.get("fcp", float("nan")) / 1e3)  # a load too quick may record none
        page.close()
        page = browser.new_page()
        page.goto(json_path.as_uri(), wait_until="load", timeout=120_000)
        raw.append(_marks(page)["load"] / 1e3)
        page.close()
    return {"events": events, "html": out.stat().st_size, "json": json_path.stat().st_size,
            "recording": path.stat().st_size, "export_s": export_s,
            "paint_s": statistics.median(paints), "fcp_s": statistics.median(fcps),
            "raw_s": statistics.median(raw)}


def _status(pid: int) -> dict[str, float]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    return out


def _get(port: int, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("GET", path)
    body = conn.getresponse().read()
    conn.close()
    return body


def serve(browser: Any, path: Path, console: Console) -> dict[str, Any]:
    """Time to an interactive page and the server's memory, for a 1M-event recording."""
    from storage import open_store

    with Replayer.open(path) as r:
        rid, events = r.recording_id, len(r)
    with tempfile.TemporaryDirectory() as store:
        open_store(store).finish(rid, str(path))  # catalogued where it lies
        proc = subprocess.Popen([sys.executable, "-c", SERVE, "serve", "--store", store,
                                 "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
            _get(port, "/api/list")
            idle = _status(proc.pid)["VmRSS"]
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/r/{rid}")
            page.wait_for_function("() => document.body.dataset.seq !== undefined",
                                   timeout=120_000)
            interactive = _marks(page)["flowtape:interactive"] / 1e3
            page.keyboard.press("End")
            page.wait_for_function(f"() => document.body.dataset.seq === '{events - 1}'")
            page.wait_for_function("() => performance.getEntriesByName('flowtape:spans').length",
                                   timeout=600_000)
            spans = _marks(page)["flowtape:spans"] / 1e3
            bars = page.locator("svg.timeline rect.bar").count()
            page.close()
            memory = _status(proc.pid)
            console.print(f"  serve: {bars} bars drawn for the whole run at the fitted zoom")
        finally:
            proc.terminate()
            proc.wait()
    with Replayer.open(path) as r:
        t0 = time.perf_counter()
        size = sum(len(piece) for piece in iter_json(r))
        whole_s = time.perf_counter() - t0
    return {"events": events, "interactive_s": interactive, "spans_s": spans,
            "whole_json_s": whole_s, "whole_json_mb": size / 1e6, "idle_mb": idle,
            "peak_mb": memory["VmHWM"], "rss_mb": memory["VmRSS"]}


def _verdict(console: Console, ok: bool, text: str) -> None:
    console.print(f"{'PASS' if ok else 'FAIL'}  {text}", highlight=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rebuild", action="store_true", help="record the runs again")
    parser.add_argument("--no-serve", action="store_true", help="skip the 1M-event serve run")
    args = parser.parse_args(argv)
    console = Console()
    if not os.path.exists(CHROMIUM):
        console.print(f"{CHROMIUM} is missing: apt-get install chromium")
        return 0
    from playwright.sync_api import sync_playwright

    sizes = [1_000, 100_000]
    paths = {n: ensure_recording(n, args.rebuild, console) for n in sizes}
    big = None if args.no_serve else ensure_recording(1_000_000, args.rebuild, console)
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        reports = {n: report(browser, paths[n], Path(tmp) / f"run-{n}.html") for n in sizes}
        served = serve(browser, big, console) if big is not None else None
        browser.close()

    table = Table(title="HTML report (file://, headless Chromium)")
    for col in ("events", "html B/event", "json B/event", "recording B/event", "export s",
                "first paint s", "FCP s", "raw json load s", "paint / raw"):
        table.add_column(col, justify="right")
    for n, m in reports.items():
        table.add_row(f"{n:,}", f"{m['html'] / n:.1f}", f"{m['json'] / n:.1f}",
                      f"{m['recording'] / n:.1f}", f"{m['export_s']:.2f}", f"{m['paint_s']:.2f}",
                      f"{m['fcp_s']:.2f}", f"{m['raw_s']:.2f}", f"{m['paint_s'] / m['raw_s']:.2f}")
    console.print(table)
    top = reports[sizes[-1]]
    _verdict(console, top["html"] / top["events"] <= BUDGET_BYTES_PER_EVENT,
             f"report size {top['html'] / top['events']:.1f} B/event ≤ {BUDGET_BYTES_PER_EVENT}"
             f" ({top['json'] / top['html']:.1f}x smaller than the json export)")
    _verdict(console, top["paint_s"] <= BUDGET_PAINT_S,
             f"first paint at {top['events']:,} events {top['paint_s']:.2f} s ≤ {BUDGET_PAINT_S} s")
    if served is not None:
        s = served
        console.print(json.dumps({k: round(v, 3) if isinstance(v, float) else v
                                  for k, v in s.items()}))
        _verdict(console, s["interactive_s"] <= BUDGET_INTERACTIVE_S,
                 f"serve: {s['events']:,}-event page interactive in {s['interactive_s']:.2f} s ≤ "
                 f"{BUDGET_INTERACTIVE_S} s (spans at {s['spans_s']:.1f} s; producing the whole "
                 f"json export alone takes {s['whole_json_s']:.1f} s, "
                 f"{s['whole_json_s'] / s['interactive_s']:.0f}x longer)")
        _verdict(console, s["peak_mb"] <= BUDGET_RSS_MB,
                 f"serve: peak RSS {s['peak_mb']:.0f} MB ≤ {BUDGET_RSS_MB:.0f} MB "
                 f"(idle {s['idle_mb']:.0f} MB, {s['peak_mb'] / s['idle_mb']:.1f}x idle)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`flowtape rerun ID`: run a recorded workflow again, its ``@node`` calls served (SPEC §12).

The recorded ``entry`` is called with the recorded ``inputs`` while each
``@node`` call returns what the recording says it returned — no model, HTTP
service or broker behind it — and the report says where the new run differs.
Exit status: 0 identical, or changed without regressing (a fix that now
completes); 1 diverged (a call the recording cannot answer) or regressed (the
run ended worse, or with another error); 2 a usage or read error.

The re-execution runs the user's code, with `recorder`, so it runs in a
process of its own (``python -m recorder.reexec.rerun``): the replayer never
imports the recorder (SPEC §2). The workflow's output goes to stderr, so
stdout holds the report alone (``--json`` included).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from typing import Any

from rich.console import Console
from rich.text import Text

from storage import FlowtapeError, RegressionPolicy

from .._diff import diff
from .._replayer import Replayer
from .._text import printable
from ..terminal.diffreport import print_report

NAME = "rerun"
HELP = ("run a recorded workflow again with its @node calls served from the recording; "
        "report where it differs (exit 1 if it diverged or regressed)")
CHILD = [sys.executable, "-m", "recorder.reexec.rerun"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recording", metavar="ID", help="a recording id, unique id prefix, "
                        "`latest`, or a file")
    parser.add_argument("--entry", metavar="MODULE:FUNCTION",
                        help="what to call (default: the recording's entry)")
    parser.add_argument("--inputs", metavar="JSON",
                        help="call it with these inputs (default: the recorded ones); an "
                        "object is passed as keyword arguments")
    parser.add_argument("--live", metavar="NODE", action="append", default=[],
                        help="run this node (a name or glob) for real; repeatable")
    parser.add_argument("--live-from", metavar="SEQ", type=int, default=None,
                        help="serve what was recorded before event SEQ, run the rest for real")
    parser.add_argument("--override", metavar="NODE=JSON", action="append", default=[],
                        help="serve this value for NODE (NODE#N: its N-th execution); "
                        "repeatable")
    parser.add_argument("--on-divergence", choices=("raise", "live"), default="raise",
                        help="a call the recording cannot answer: stop there (raise, the "
                        "default) or run it for real and go on (live)")
    parser.add_argument("--json", action="store_true",
                        help="print the report as JSON (its `diff` has the compare --json "
                        "shape)")


def _request(args: argparse.Namespace, path: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "recording": path, "store": args.store, "entry": args.entry, "live": args.live,
        "live_from": args.live_from, "on_divergence": args.on_divergence, "overrides": {}}
    if args.inputs is not None:
        try:
            request["inputs"] = json.loads(args.inputs)
        except ValueError as exc:
            raise ValueError(f"--inputs is not JSON ({exc}): {args.inputs}") from None
    for item in args.override:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--override {item!r} is not NODE=JSON (e.g. 'decide=\"no\"')")
        try:
            request["overrides"][name] = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"--override {name}: the value is not JSON ({exc}): "
                             f"{text}") from None
    return request


def _rerun(request: dict[str, Any]) -> dict[str, Any]:
    """Run the child process; its result (``report`` and ``raised``), or raise its error."""
    with tempfile.TemporaryDirectory(prefix="flowtape-rerun-") as tmp:
        result_file = os.path.join(tmp, "result.json")
        try:
            out: int = sys.stderr.fileno()
        except (AttributeError, OSError, ValueError):  # stderr is not a file (captured)
            out = subprocess.PIPE
        proc = subprocess.run([*CHILD, result_file], input=json.dumps(request).encode(),
                              stdout=out, check=False)
        if proc.stdout:
            sys.stderr.write(proc.stdout.decode(errors="replace"))
        try:
            with open(result_file, "rb") as f:
                result: dict[str, Any] = json.load(f)
        except (OSError, ValueError):
            raise FlowtapeError(f"the re-execution process ended (exit {proc.returncode}) "
                                "without a result; run with --debug, or see its output "
                                "above") from None
    if result.get("error"):
        raise FlowtapeError(str(result["error"]))
    return result


def run(args: argparse.Namespace, console: Console) -> int:
    with Replayer.open(args.recording, args.store) as r:  # resolves ids; read errors: exit 2
        path = r.path
    result = _rerun(_request(args, path))
    report: dict[str, Any] = result["report"]
    if args.json:
        console.out(json.dumps(report, indent=2), highlight=False)
    else:
        _print(report, result.get("raised"), console)
    return 1 if report["verdict"] in ("diverged", "regressed") else 0


def _print(report: dict[str, Any], raised: str | None, console: Console) -> None:
    style = {"identical": "green", "changed": "green", "regressed": "red",
             "diverged": "red"}[report["verdict"]]
    sources = ", ".join(f"{n} {k}" for k, n in sorted(report["sources"].items()))
    console.print(Text.assemble(
        (report["verdict"].upper(), f"bold {style}"),
        f"  re-execution of {report['original']['recording_id']} recorded as "
        f"{report['recording']['recording_id']}: run {report['status']}; calls answered: "
        f"{sources or 'none'}"))
    if report.get("fork_seq") is not None:
        console.print(Text(f"forked at seq {report['fork_seq']} of the recording"))
    if raised:
        console.print(Text(f"the workflow raised {printable(raised, one_line=True)}"))
    for d in report["divergences"]:
        console.print(Text(printable(d["message"]), style="red"))
    if report["unused"]:
        console.print(Text(f"recorded executions never asked for ({len(report['unused'])}):"))
        for u in report["unused"]:
            where = " > ".join(u["path"]) or "top level"
            console.print(Text(printable(f"  seq {u['seq']:<6} {u['node']}#{u['occurrence']} "
                                         f"({where})", one_line=True)))
    for note in report["notes"]:
        console.print(Text(f"note: {printable(note, one_line=True)}", style="yellow"))
    # The panel's verdict follows the re-execution's: a run that changed without ending
    # worse (a fix) is not called a regression there either.
    policy = (RegressionPolicy.only("status") if report["verdict"] in ("identical", "changed")
              else RegressionPolicy())
    print_report(diff(report["original"]["path"], report["recording"]["path"],
                      compare_timing=False, policy=policy), console)

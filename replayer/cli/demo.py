"""`flowtape demo`: record the example workflow in a subprocess, then replay it.

The recording is made by ``examples/research_pipeline.py`` of the source
checkout, in its own process — the replayer never imports the recorder
(SPEC §2) — which prints the new recording's path as its last line. The
example is not part of an installed wheel; without a checkout the command
says so.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.text import Text

from storage import FlowtapeError

from .._replayer import Replayer
from .._text import printable
from . import replay as replay_command

NAME = "demo"
HELP = "record the example workflow into the store and replay it"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--step", action="store_true",
                        help="step through the new recording instead of printing it")
    parser.add_argument("--show-data", action="store_true", help="print each event's data")


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "research_pipeline.py"


def record(store: str) -> str:
    """Run the demo workflow in a subprocess; returns the new recording's path."""
    if not EXAMPLE.is_file():
        raise FlowtapeError(
            f"the demo workflow {EXAMPLE} is not here (it ships with the source, not the "
            "wheel); clone the repository and run `make demo` or `flowtape demo` there")
    cmd = [sys.executable, str(EXAMPLE), "--store", store, "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        why = (proc.stderr.strip().splitlines() or ["it printed no recording path"])[-1]
        raise FlowtapeError(f"the demo workflow failed (exit {proc.returncode}): {why}")
    return lines[-1].strip()


def run(args: argparse.Namespace, console: Console) -> int:
    path = record(args.store)
    console.print(Text.assemble("Recorded the demo workflow to ",
                                (printable(path, one_line=True), "bold"), "; here it is again:"))
    replay = argparse.Namespace(
        recording=path, store=args.store, step=args.step, follow=False,
        show_data=args.show_data, show_state=False, from_seq=None, kind=[], node=None,
        limit=None, recover=False)
    with Replayer.open(path, args.store) as r:
        if args.step:
            return replay_command.step(r, replay, console)
        replay_command.timeline(r, replay, console)
    console.print(Text(f"Step through it with: flowtape replay {r.recording_id} --step",
                       style="dim"))
    return 0

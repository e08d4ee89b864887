"""`flowtape verify`: decode every frame of a recording and cross-check it; exit 1 on damage.

Without a recording it checks the whole store (``--store``) instead: the
catalog against the recordings (`Store.verify`, docs/stores.md §reindex and
verify), and with ``--deep`` every frame of every recording.
"""

from __future__ import annotations

import argparse
import os

import msgspec
from rich.console import Console
from rich.table import Table
from rich.text import Text

from storage import CorruptRecordingError, VerifyResult, open_store
from storage.format.integrity import IntegrityReport, check_file, frame_total

from .._text import plural, printable
from ..terminal.console import print_json, progress
from .reindex import PROBLEM, render_groups, store_progress

NAME = "verify"
HELP = ("check a recording's frames, seq, footer and trailer, or (with no recording) the "
        "store's catalog against its files; exit 1 if damaged")

#: Recordings below this many check before a bar would be worth drawing (``--deep``: frames).
STORE_THRESHOLD = 1_000
DEEP_THRESHOLD = 20


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recording", metavar="ID_OR_PATH", nargs="?",
                        help="a recording file, or an id, unique id prefix or `latest`; "
                        "without one, the whole store is checked")
    parser.add_argument("--recover", action="store_true",
                        help="list every damaged frame that recovering readers skip")
    parser.add_argument("--deep", action="store_true",
                        help="checking the whole store: also decode every frame of every "
                        "recording (one recording is always checked that way)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def resolve_path(arg: str, store: str) -> str:
    """The file an argument names: the path itself, or the store's file for that id."""
    if os.path.isfile(arg):
        return arg
    try:
        with open_store(store).open(arg, recover=True) as reader:
            return reader.path
    except CorruptRecordingError as exc:
        return exc.path  # the header is damaged: the check reports it


def run(args: argparse.Namespace, console: Console) -> int:
    if args.recording is None:
        return run_store(args, console)
    path = resolve_path(args.recording, args.store)
    try:
        total = frame_total(path)
    except CorruptRecordingError:
        total = 0
    with progress(total, "verifying", threshold=64) as advance:
        report = check_file(path, advance)
    if args.json:
        print_json(console, {"ok": report.ok, "verdict": report.verdict,
                             **msgspec.to_builtins(report)})
    else:
        render(report, console, list_skipped=args.recover)
    return 0 if report.ok else 1


def render(report: IntegrityReport, console: Console, *, list_skipped: bool) -> None:
    """The human report: what was checked, what is wrong, the verdict."""
    console.print(Text.assemble(("verify ", "bold"), printable(report.path, one_line=True)))
    for line in report.checks:  # checks and problems may quote the recording's own text
        console.print(Text.assemble(("  ✓ ", "green"), printable(line, one_line=True)))
    for line in report.problems:
        console.print(Text.assemble(("  ✗ ", "bold red"), printable(line, one_line=True)))
    if report.skipped and list_skipped:
        table = Table("frame", "byte offset", "bytes", "reason", box=None, pad_edge=False,
                      header_style="bold")
        for s in report.skipped:
            table.add_row(str(s.frame), str(s.offset), str(s.length),
                          Text(printable(s.reason, one_line=True)))
        console.print(Text("  damaged frames, skipped by --recover reading:", style="bold"))
        console.print(table)
    elif report.skipped:
        console.print(f"  {plural(len(report.skipped), 'damaged frame')}; --recover lists them")
    if report.verdict == "running":
        console.print(Text("OK so far: still being written", style="bold green"))
    elif report.verdict == "incomplete":
        console.print(Text("INCOMPLETE: the writer died before the footer; every event "
                           "listed above is readable", style="bold yellow"))
    elif report.ok:
        console.print(Text("OK", style="bold green"))
    else:
        n = len(report.problems)
        console.print(Text(f"DAMAGED: {plural(n, 'problem')}", style="bold red"))


def run_store(args: argparse.Namespace, console: Console) -> int:
    """`flowtape verify` without a recording: the catalog against the files; exit 1 unless ok."""
    if args.recover:
        raise ValueError("--recover lists the damaged frames of one recording: give its id "
                         "or path (use --deep to check every recording in the store)")
    threshold = DEEP_THRESHOLD if args.deep else STORE_THRESHOLD
    with store_progress("verifying", threshold=threshold) as report:
        result = open_store(args.store).verify(deep=args.deep, progress=report)
    if args.json:
        print_json(console, {"ok": result.ok, "store": str(args.store), "deep": args.deep,
                             **msgspec.to_builtins(result)})
    else:
        render_store(result, console, store=str(args.store), deep=args.deep)
    return 0 if result.ok else 1


def render_store(result: VerifyResult, console: Console, *, store: str, deep: bool) -> None:
    """The human report of a store check: what was checked, found, fixed; the verdict."""
    console.print(Text.assemble(("verify store ", "bold"), store))
    how = "every frame decoded" if deep else "files present and sizes match; --deep decodes"
    console.print(Text.assemble(("  ✓ ", "green"),
                                f"{plural(result.checked, 'catalogued recording')} checked "
                                f"({how})"))
    n = render_groups(console, [
        ("fixed", "catalog rows corrected (writers that died, files whose size changed)",
         result.fixed, "yellow"),
        ("running", "still being written (what is written so far is sound)", result.running,
         "green"),
        ("duplicate", "files holding a recording the store already has", result.duplicates,
         "yellow"),
        ("incomplete", "the writer died before the footer; every event in them is readable "
         "(`flowtape verify ID` says more)", result.incomplete, PROBLEM),
        ("missing", "the recording vanished; its catalog row was dropped", result.missing,
         PROBLEM),
        ("uncatalogued", "recordings the catalog does not know (run `flowtape reindex`)",
         result.uncatalogued, PROBLEM),
        ("corrupt", "recordings that fail to read (`flowtape verify ID` shows where)",
         result.corrupt, PROBLEM),
        ("unreadable", "files in the store that are not readable recordings (left alone)",
         result.unreadable, PROBLEM),
    ])
    if result.ok:
        console.print(Text("OK", style="bold green"))
    else:
        console.print(Text(f"DAMAGED: {plural(n, 'problem')}", style="bold red"))

"""`flowtape compare A B`: how run B differs from run A; exit 1 on a regression (SPEC §6).

Exit status: 0 no regression, 1 regression; a recording that cannot be
found or read, or a bad option, is raised (`FlowtapeError` / ValueError)
and the command line turns it into one line on stderr and status 2.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from storage import DiffOptions

from .._diff import diff
from ..terminal.diffreport import print_report

NAME = "compare"
#: The options' defaults, shown in --help (one definition: `storage.DiffOptions`).
_DEFAULTS = DiffOptions()
HELP = "compare two runs: what changed, what got slower (exit 1 on a regression)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A", help="the baseline: a recording id, unique id "
                        "prefix, `latest`, or a file")
    parser.add_argument("b", metavar="B", help="the run to check against A (same forms)")
    parser.add_argument("--ignore", metavar="PATTERN", action="append", default=[],
                        help="a value path glob not to compare, e.g. '*.timestamp', "
                        "'state.cache.*' or 'fetch_*:outputs.headers' (repeatable)")
    parser.add_argument("--tolerance", metavar="ABS", type=float, default=0.0,
                        help="numbers differing by at most ABS are equal (default 0)")
    parser.add_argument("--relative-tolerance", metavar="REL", type=float, default=0.0,
                        help="numbers differing by at most REL x the larger are equal "
                        "(default 0)")
    parser.add_argument("--timing-tolerance", metavar="X", type=float,
                        default=_DEFAULTS.timing_tolerance,
                        help="a node is slower when B takes more than X times A's time "
                        f"(default {_DEFAULTS.timing_tolerance})")
    parser.add_argument("--min-timing-ms", metavar="N", type=float,
                        default=_DEFAULTS.min_timing_ns / 1e6,
                        help=f"... and more than N ms longer (default "
                        f"{_DEFAULTS.min_timing_ns / 1e6:g})")
    parser.add_argument("--no-timing", action="store_true",
                        help="do not compare timing at all")
    parser.add_argument("--json", action="store_true",
                        help="print the diff as JSON (the documented shape, docs/diff.md)")


def run(args: argparse.Namespace, console: Console) -> int:
    if args.min_timing_ms < 0:
        raise ValueError(f"--min-timing-ms must be >= 0, not {args.min_timing_ms}")
    options = DiffOptions(
        ignore=args.ignore, numeric_tolerance=args.tolerance,
        relative_tolerance=args.relative_tolerance, timing_tolerance=args.timing_tolerance,
        min_timing_ns=round(args.min_timing_ms * 1e6), compare_timing=not args.no_timing)
    result = diff(args.a, args.b, options, store=getattr(args, "store", None))
    if args.json:
        # Written as is: rich would wrap or colour it, and this is for machines.
        console.out(result.to_json(), highlight=False)
    else:
        print_report(result, console)
    return 1 if result.regression else 0

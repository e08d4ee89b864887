"""`flowtape export`'s options for the interop exports: Parquet (a store) and OTLP (SPEC §14).

``--format parquet`` exports many recordings: the ID is optional, and the
query filters of `flowtape list` (``--workflow``, ``--status``, ``--since``, …)
choose them. ``--format otlp`` writes one recording's spans to a file or
stdout, or with ``--endpoint URL`` pushes them to an OpenTelemetry collector;
payloads go out only with ``--include-payloads``. `add_options` adds these
options to the export command's parser, `check_one_recording` refuses them
where they mean nothing, `run_parquet` and `run_otlp_push` run the two
commands, and `writer` writes the text formats (otlp with its options).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import IO

import msgspec
from rich.console import Console
from rich.text import Text

from storage import open_store
from storage._words import plural

from .._replayer import Replayer
from .._text import printable
from ..export import write_export
from ..export.otlp import iter_otlp_json
from ..export.otlp_http import push_otlp
from ..export.parquet import ParquetExport, export_parquet
from ..terminal.console import print_json
from . import list as list_command
from .reindex import store_progress

__all__ = ["add_options", "check_one_recording", "run_otlp_push", "run_parquet", "writer"]

#: Recordings below this many export before a progress bar would be worth drawing.
PARQUET_PROGRESS_THRESHOLD = 50


def add_options(parser: argparse.ArgumentParser) -> None:
    """The OTLP options, and `flowtape list`'s query filters for ``--format parquet``."""
    parser.add_argument("--endpoint", metavar="URL",
                        help="otlp: send the spans to this OTLP/HTTP collector instead of "
                        "writing them (http://host:4318; /v1/traces is added when the URL "
                        "has no path)")
    parser.add_argument("--include-payloads", action="store_true",
                        help="otlp: add the recorded inputs, outputs, messages and errors "
                        "(as recorded: masked) to the spans; without it only names, "
                        "timings, statuses, error types, models and token counts go out")
    group = parser.add_argument_group(
        "choosing recordings (--format parquet)",
        "a parquet export writes every recording of the store these select (like `flowtape "
        "list`) that the output does not hold yet")
    list_command.configure(group)  # type: ignore[arg-type]  # a group takes the same calls
    # `list --json` prints recordings; here it prints what the export did.
    group.conflict_handler = "resolve"
    group.add_argument("--json", action="store_true",
                       help="parquet: print what was exported as one JSON object")


def _filters_given(args: argparse.Namespace) -> list[str]:
    """The query options given on the command line (those not at their defaults)."""
    scratch = argparse.ArgumentParser(add_help=False)
    list_command.configure(scratch)
    defaults = vars(scratch.parse_args([]))
    return [f"--{dest.replace('_', '-')}" for dest, default in defaults.items()
            if dest != "json" and getattr(args, dest, default) != default]


def check_one_recording(args: argparse.Namespace, fmt: str) -> None:
    """Refuse what only a parquet or otlp export means, for a format of one recording.

    Raises ValueError (exit 2 with one line) naming the option.
    """
    given = _filters_given(args)
    if given:
        raise ValueError(f"query filters ({', '.join(given)}) choose recordings for "
                         f"--format parquet only; --format {fmt} exports the one recording "
                         "the ID names")
    if args.json:
        raise ValueError(f"--json prints what a parquet export did; --format {fmt} writes "
                         "its own format")
    if fmt != "otlp" and (args.endpoint or args.include_payloads):
        option = "--endpoint" if args.endpoint else "--include-payloads"
        raise ValueError(f"{option} applies to --format otlp only")
    if args.id is None:
        raise ValueError(f"export needs a recording ID (or `latest`) for --format {fmt}; "
                         "only --format parquet exports a whole store")


def writer(args: argparse.Namespace) -> Callable[[Replayer, str, IO[str]], None]:
    """``write(replayer, fmt, file)`` for the text formats, otlp with its options."""
    def write(replayer: Replayer, fmt: str, file: IO[str]) -> None:
        if fmt != "otlp":
            write_export(replayer, fmt, file)
            return
        for piece in iter_otlp_json(replayer, include_payloads=args.include_payloads):
            file.write(piece)

    return write


def run_otlp_push(replayer: Replayer, args: argparse.Namespace, console: Console) -> int:
    """Send the recording's spans to ``--endpoint``; say how many and the trace id."""
    sent = push_otlp(replayer, args.endpoint, include_payloads=args.include_payloads)
    console.print(Text(f"sent {plural(sent.spans, 'span')} of {replayer.recording_id} to "
                       f"{printable(sent.url, one_line=True)} in "
                       f"{plural(sent.requests, 'request')} (trace {sent.trace_id})"),
                  highlight=False, soft_wrap=True)
    return 0


def run_parquet(args: argparse.Namespace, console: Console) -> int:
    """`flowtape export --format parquet`: exit 0, or 2 when a recording could not be read."""
    if not args.output or args.output == "-":
        raise ValueError("--format parquet writes a directory: give it with -o DIR_OR_URL "
                         "(a local directory or an fsspec URL such as s3://bucket/prefix)")
    if args.endpoint or args.include_payloads:
        raise ValueError("--endpoint and --include-payloads apply to --format otlp only")
    store = open_store(args.store)
    query = list_command.query_from_args(args)
    with store_progress("exporting", threshold=PARQUET_PROGRESS_THRESHOLD) as report:
        done = export_parquet(store, args.output, query,
                              ids=[args.id] if args.id is not None else None,
                              recover=bool(args.recover), progress=report)
    if args.json:
        print_json(console, msgspec.to_builtins(done))
    else:
        for line in _report(done):
            console.print(Text(line), highlight=False, soft_wrap=True)
    if done.failed:
        listed = "; ".join(f"{rid}: {why}" for rid, why in done.failed)
        raise ValueError(f"{plural(len(done.failed), 'recording')} could not be read and "
                         f"{'was' if len(done.failed) == 1 else 'were'} not exported "
                         f"({listed}); see `flowtape verify`, or export again with --recover "
                         "to take what can be read (the next export tries them again)")
    return 0


def _report(done: ParquetExport) -> list[str]:
    where = printable(done.output, one_line=True)
    lines = []
    if done.removed:
        lines.append(f"removed {plural(len(done.removed), 'file')} an interrupted export "
                     f"left in {where}")
    if done.recordings:
        lines.append(f"exported {plural(len(done.recordings), 'recording')} "
                     f"({done.events:,} events, {done.spans:,} spans) to {where} in "
                     f"{plural(len(done.files), 'file')}"
                     + (f"; {done.already} already there" if done.already else ""))
    elif not done.failed:
        lines.append(f"nothing new to export to {where}"
                     + (f" ({done.already} already there)" if done.already else ""))
    if done.running:
        lines.append(f"{plural(len(done.running), 'recording')} still being written "
                     f"{'was' if len(done.running) == 1 else 'were'} left for a later export")
    return lines

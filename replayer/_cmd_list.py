"""`flowtape list`: the recordings in a store, filtered and sorted by the store's query."""

from __future__ import annotations

import argparse
import datetime as dt

import msgspec
from rich.console import Console
from rich.table import Table
from rich.text import Text

from storage import RecordingInfo, RecordingQuery, open_store

from ._terminal import print_json
from ._timeline import fmt_ns, fmt_size, status_style

NAME = "list"
HELP = "list recordings in the store (newest first)"

_SORT_KEYS = tuple(RecordingInfo.__struct_fields__)


def _date(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; write it like 2025-01-31 or 2025-01-31T12:00") from None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workflow", metavar="NAME", help="only this workflow")
    parser.add_argument("--status", metavar="STATUS",
                        help="only this status: completed, failed, timed_out, cancelled, "
                        "incomplete")
    ok = parser.add_mutually_exclusive_group()
    ok.add_argument("--success", dest="success", action="store_const", const=True,
                    help="only runs that succeeded")
    ok.add_argument("--failed", dest="success", action="store_const", const=False,
                    help="only runs that did not succeed")
    parser.add_argument("--tags", metavar="TAG[,TAG]", action="append", default=[],
                        help="only runs with all these tags (repeatable, or comma-separated)")
    parser.add_argument("--any-tag", action="store_true",
                        help="with --tags: runs with any of the tags, not all")
    parser.add_argument("--error-type", metavar="TYPE", help="only runs that failed with it")
    parser.add_argument("--since", type=_date, metavar="DATE", help="started at or after")
    parser.add_argument("--until", type=_date, metavar="DATE", help="started at or before")
    parser.add_argument("--min-duration", type=float, metavar="SECONDS")
    parser.add_argument("--max-duration", type=float, metavar="SECONDS")
    parser.add_argument("--sort-by", choices=_SORT_KEYS, default="started_at", metavar="FIELD",
                        help=f"sort by one of: {', '.join(_SORT_KEYS)} (default started_at)")
    parser.add_argument("--sort-order", choices=("asc", "desc"), default="desc")
    parser.add_argument("--limit", type=int, metavar="N", help="at most N recordings")
    parser.add_argument("--offset", type=int, default=0, metavar="N", help="skip the first N")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON array of objects with the RecordingInfo fields")


def query_from_args(args: argparse.Namespace) -> RecordingQuery:
    """The `RecordingQuery` the options describe (ValueError for impossible values)."""
    tags = [t.strip() for group in args.tags for t in group.split(",") if t.strip()]
    if args.limit is not None and args.limit < 0:
        raise ValueError(f"--limit must be 0 or more, not {args.limit}")
    if args.offset < 0:
        raise ValueError(f"--offset must be 0 or more, not {args.offset}")
    return RecordingQuery(
        workflow_name=args.workflow, success=args.success, status=args.status,
        tags=tags or None, tags_mode="any" if args.any_tag else "all",
        start_date=args.since, end_date=args.until, min_duration=args.min_duration,
        max_duration=args.max_duration, error_type=args.error_type, sort_by=args.sort_by,
        sort_order=args.sort_order, limit=args.limit, offset=args.offset)


def run(args: argparse.Namespace, console: Console) -> int:
    infos = open_store(args.store).list(query_from_args(args))
    if args.json:
        print_json(console, [msgspec.to_builtins(i) for i in infos])
        return 0
    if not infos:
        console.print(f"No recordings in {args.store} match.", markup=False)
        return 0
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column, justify in (("id", "left"), ("workflow", "left"), ("status", "left"),
                            ("started", "left"), ("duration", "right"), ("events", "right"),
                            ("nodes", "right"), ("size", "right"), ("tags", "left")):
        table.add_column(column, justify=justify, no_wrap=column == "id")  # type: ignore[arg-type]
    for i in infos:
        started = i.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        duration = fmt_ns(i.duration_ns) if i.status != "incomplete" else "-"
        status = Text(i.status, style=status_style(i.status))
        if i.degraded:  # the recorder could not record it all: `list --json` says what
            status.append(", degraded", style="yellow")
        table.add_row(Text(i.recording_id), Text(i.workflow), status, started, duration,
                      str(i.event_count), str(i.node_count), fmt_size(i.size),
                      Text(", ".join(i.tags)))
    console.print(table)
    return 0

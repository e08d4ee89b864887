"""`flowtape list`: the recordings in a store, filtered and sorted by the store's query."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable

import msgspec
from rich.console import Console
from rich.table import Table
from rich.text import Text

from storage import RecordingInfo, RecordingQuery, open_store

from .._dates import parse_when
from .._text import fmt_ns, fmt_size, printable
from ..terminal.console import print_json
from ..terminal.timeline import status_style

NAME = "list"
HELP = "list recordings in the store (newest first)"

_SORT_KEYS = tuple(RecordingInfo.__struct_fields__)


def _bound(*, end: bool) -> Callable[[str], dt.datetime]:
    def parse(text: str) -> dt.datetime:
        try:
            return parse_when(text, end=end)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


#: What ``--failed`` selects: every run that did not complete, the unfinished included.
FAILED_STATUSES = ("failed", "timed_out", "cancelled", "incomplete")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workflow", metavar="NAME", help="only this workflow")
    parser.add_argument("--status", metavar="STATUS",
                        help="only this status: completed, failed, timed_out, cancelled, "
                        "incomplete")
    ok = parser.add_mutually_exclusive_group()
    ok.add_argument("--success", dest="success", action="store_const", const=True,
                    help="only runs that succeeded")
    ok.add_argument("--failed", dest="success", action="store_const", const=False,
                    help="only runs that did not complete: failed, timed_out, cancelled, "
                    "and incomplete (never finished)")
    parser.add_argument("--tags", metavar="TAG[,TAG]", action="append", default=[],
                        help="only runs with all these tags (repeatable, or comma-separated)")
    parser.add_argument("--any-tag", action="store_true",
                        help="with --tags: runs with any of the tags, not all")
    parser.add_argument("--error-type", metavar="TYPE", help="only runs that failed with it")
    parser.add_argument("--start", "--since", dest="start", type=_bound(end=False),
                        metavar="WHEN", help="started at or after WHEN: an RFC 3339 time, a "
                        "date, today, yesterday, now, or a span back from now (30m, 2h, 7d)")
    parser.add_argument("--end", "--until", dest="end", type=_bound(end=True), metavar="WHEN",
                        help="started at or before WHEN (a date, today or yesterday: up to "
                        "the end of that day)")
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
    success, status = args.success, args.status
    if success is False:  # --failed: the runs that never finished too (SPEC §8)
        if status is not None and status not in FAILED_STATUSES:
            raise ValueError(f"--failed lists {', '.join(FAILED_STATUSES)} runs; --status "
                             f"{status} is none of them: give one of the two")
        success, status = None, [status] if status else list(FAILED_STATUSES)
    return RecordingQuery(
        workflow_name=args.workflow, success=success, status=status,
        tags=tags or None, tags_mode="any" if args.any_tag else "all",
        start_date=args.start, end_date=args.end, min_duration=args.min_duration,
        max_duration=args.max_duration, error_type=args.error_type, sort_by=args.sort_by,
        sort_order=args.sort_order, limit=args.limit, offset=args.offset)


def run(args: argparse.Namespace, console: Console) -> int:
    store = open_store(args.store)
    infos = store.list(query_from_args(args))
    if args.json:
        print_json(console, [msgspec.to_builtins(i) for i in infos])
        return 0
    if not infos:
        console.print(f"No recordings in {args.store} match.", markup=False)
        return 0
    handles = store.handles(i.recording_id for i in infos)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column, justify in (("id", "left"), ("handle", "left"), ("workflow", "left"),
                            ("status", "left"), ("started", "left"), ("duration", "right"),
                            ("events", "right"), ("nodes", "right"), ("size", "right"),
                            ("tags", "left")):
        table.add_column(column, justify=justify, no_wrap=column == "id")  # type: ignore[arg-type]
    for i in infos:
        started = i.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        # Unfinished (running, or its writer gone): no duration to show yet.
        duration = fmt_ns(i.duration_ns) if i.status not in ("running", "incomplete") else "-"
        status = Text(printable(i.status, one_line=True), style=status_style(i.status))
        if i.degraded:  # the recorder could not record it all: `list --json` says what
            status.append(", degraded", style="yellow")
        table.add_row(Text(i.recording_id), Text(handles[i.recording_id], style="bold"),
                      Text(printable(i.workflow, one_line=True)), status, started, duration,
                      str(i.event_count), str(i.node_count), fmt_size(i.size),
                      Text(printable(", ".join(i.tags), one_line=True)))
    console.print(table)
    return 0

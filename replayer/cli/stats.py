"""`flowtape stats`: what a store holds — outcomes, sizes, durations, workflows, errors.

Everything comes from one `Store.stats` call (a handful of catalog queries,
docs/stores.md §Statistics); this module only lays it out. Durations are
over finished runs: ``running`` and ``incomplete`` ones have none yet.
"""

from __future__ import annotations

import argparse
import datetime as dt

from rich.console import Console
from rich.table import Table
from rich.text import Text

from storage import RecordingQuery, StoreStats, open_store

from .._text import fmt_ns, fmt_size, plural, printable
from ..terminal.console import print_json
from ..terminal.timeline import status_style

NAME = "stats"
HELP = "summarise a store: outcomes, success rate, sizes, durations, workflows, errors"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workflow", metavar="NAME", help="only recordings of this workflow")
    parser.add_argument("--json", action="store_true",
                        help="print the statistics as one JSON object")


def run(args: argparse.Namespace, console: Console) -> int:
    query = RecordingQuery(workflow_name=args.workflow) if args.workflow else None
    stats = open_store(args.store).stats(query)
    if args.json:
        print_json(console, stats.to_dict())
        return 0
    if not stats.total:
        what = f"of workflow {args.workflow!r} " if args.workflow else ""
        console.print(f"No recordings {what}in {args.store}.", markup=False)
        return 0
    render(stats, console, title=_title(args))
    return 0


def _title(args: argparse.Namespace) -> Text:
    title = Text.assemble(("Recordings in ", "bold"), (str(args.store), "bold"))
    if args.workflow:
        title.append(f" (workflow {args.workflow})")
    return title


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _section(console: Console, title: str, table: Table) -> None:
    console.print()
    console.print(Text(title, style="bold"))
    console.print(table)


def _table(*columns: tuple[str, str]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name, justify in columns:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    return table


def render(stats: StoreStats, console: Console, *, title: Text) -> None:
    """The human summary: an overview, then statuses, workflows and error types."""
    console.print(title)
    finished = stats.successes + stats.failures
    lines: list[tuple[str, str | Text]] = [
        ("recordings", f"{stats.total} ({plural(stats.total_events, 'event')})")]
    rate = stats.success_rate
    if rate is None:
        lines.append(("success rate", "- (no run has finished)"))
    else:
        rate_style = "green" if stats.failures == 0 else "red" if rate < 0.5 else "yellow"
        lines.append(("success rate", Text.assemble(
            (f"{rate:.1%}", rate_style),
            f" ({stats.successes} of {finished} finished "
            f"{'run' if finished == 1 else 'runs'} completed)")))
    if stats.running or stats.incomplete:
        lines.append(("unfinished", Text.assemble(
            (f"{stats.running} running", status_style("running")), ", ",
            (f"{stats.incomplete} incomplete", status_style("incomplete")),
            " (crashed or killed)" if stats.incomplete else "")))
    lines.append(("size", f"{fmt_size(stats.total_size)} in all, "
                  f"{fmt_size(stats.average_size)} on average, "
                  f"{fmt_size(stats.largest_size)} the largest"))
    if stats.mean_duration_ns is None:
        lines.append(("duration", "- (no run has finished)"))
    else:
        lines.append(("duration", (
            f"{fmt_ns(stats.total_duration_ns)} in all, mean {fmt_ns(stats.mean_duration_ns)}, "
            f"p50 {fmt_ns(stats.p50_duration_ns)}, p90 {fmt_ns(stats.p90_duration_ns)}, "
            f"p99 {fmt_ns(stats.p99_duration_ns)}, max {fmt_ns(stats.max_duration_ns)}")))
    lines.append(("oldest", _when(stats.oldest)))
    lines.append(("newest", _when(stats.newest)))
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        console.print(Text.assemble("  ", (label.ljust(width), "bold"), "  ", value))

    statuses = _table(("status", "left"), ("runs", "right"), ("share", "right"))
    for status, count in stats.by_status.items():
        statuses.add_row(Text(printable(status, one_line=True), style=status_style(status)),
                         str(count),
                         f"{count / stats.total:.1%}")
    _section(console, "By status", statuses)

    workflows = _table(("workflow", "left"), ("runs", "right"), ("failed", "right"))
    for workflow, count in stats.workflow_counts.items():
        failed = stats.workflow_failures.get(workflow, 0)
        workflows.add_row(Text(printable(workflow, one_line=True)), str(count),
                          Text(str(failed), style="red" if failed else ""))
    _section(console, "By workflow", workflows)

    if stats.top_errors:
        errors = _table(("error type", "left"), ("runs", "right"))
        for error_type, count in stats.top_errors:
            errors.add_row(Text(printable(error_type, one_line=True), style="red"), str(count))
        _section(console, "Most common errors", errors)

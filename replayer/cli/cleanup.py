"""`flowtape cleanup`: apply a retention policy to a store, or show what it would delete.

The rules are the store's (`RetentionPolicy`, docs/stores.md §Retention):
running recordings, runs that did not complete (unless ``--delete-failed``)
and recordings carrying a ``--keep-tag`` are protected and never counted.
With no limit at all nothing could go, so that is refused as a mistake
rather than reported as a clean store. Exit 0, or 1 when a chosen recording
could not be deleted.
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table
from rich.text import Text

from storage import RetentionPolicy, RetentionResult, open_store

from .._text import fmt_size, plural, printable
from ..terminal.console import print_json
from ..terminal.timeline import status_style

NAME = "cleanup"
HELP = "delete old recordings by age, count or size (--dry-run shows what would go)"


def configure(parser: argparse.ArgumentParser) -> None:
    limits = parser.add_argument_group("limits (at least one)")
    limits.add_argument("--max-age-days", type=float, metavar="N",
                        help="delete recordings started more than N days ago")
    limits.add_argument("--max-count", type=int, metavar="N",
                        help="keep only the newest N recordings")
    limits.add_argument("--max-size-gb", type=float, metavar="X",
                        help="keep the newest recordings up to X GB (10^9 bytes) in all")
    parser.add_argument("--delete-failed", action="store_true",
                        help="let runs that did not complete go too (kept by default)")
    parser.add_argument("--keep-tag", metavar="TAG", action="append", default=[],
                        help="never delete recordings with this tag (repeatable)")
    parser.add_argument("--dry-run", action="store_true",
                        help="only show what would be deleted")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def policy_from_args(args: argparse.Namespace) -> RetentionPolicy:
    """The `RetentionPolicy` the options describe (ValueError without a limit or below 0)."""
    limits = {"--max-age-days": args.max_age_days, "--max-count": args.max_count,
              "--max-size-gb": args.max_size_gb}
    if all(value is None for value in limits.values()):
        raise ValueError("cleanup needs a limit: give --max-age-days, --max-count or "
                         "--max-size-gb (add --dry-run to see what would go first)")
    for option, value in limits.items():
        if value is not None and value < 0:
            raise ValueError(f"{option} must be 0 or more, not {value:g}")
    return RetentionPolicy(max_age_days=args.max_age_days, max_count=args.max_count,
                           max_size_gb=args.max_size_gb, keep_failed=not args.delete_failed,
                           tags_to_keep=tuple(args.keep_tag))


def run(args: argparse.Namespace, console: Console) -> int:
    policy = policy_from_args(args)
    result = open_store(args.store).apply_retention(policy, dry_run=args.dry_run)
    if args.json:
        print_json(console, result.to_dict())
    else:
        render(result, console)
    return 1 if result.errors else 0


def describe_policy(policy: RetentionPolicy) -> str:
    """The policy in one line: ``max_count=5; protected: failed runs, tag 'release'``."""
    limits = [f"{name}={value:g}" for name in ("max_age_days", "max_count", "max_size_gb")
              if (value := getattr(policy, name)) is not None]
    protected = ["running runs"]
    if policy.keep_failed:
        protected.append("runs that did not complete")
    protected += [f"tag {tag!r}" for tag in policy.tags_to_keep]
    return f"{', '.join(limits)}; protected: {', '.join(protected)}"


def render(result: RetentionResult, console: Console) -> None:
    """What went (or would go) and why, what it frees, what is protected, what failed."""
    n = len(result.deleted)
    if result.dry_run:
        console.print(Text("Dry run: nothing was deleted.", style="bold yellow"))
    console.print(Text.assemble(("policy ", "bold"), describe_policy(result.policy)))
    if n:
        verb = "would be deleted" if result.dry_run else "deleted"
        console.print(Text(f"{plural(n, 'recording')} {verb}:", style="bold"))
        table = Table(box=None, header_style="bold", pad_edge=False)
        for column, justify in (("id", "left"), ("workflow", "left"), ("status", "left"),
                                ("started", "left"), ("size", "right"), ("reason", "left")):
            table.add_column(column, justify=justify, no_wrap=column == "id")  # type: ignore[arg-type]
        for item in result.deleted:
            table.add_row(Text(item.recording_id), Text(printable(item.workflow, one_line=True)),
                          Text(printable(item.status, one_line=True),
                               style=status_style(item.status)),
                          item.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
                          fmt_size(item.size), Text(printable(item.reason, one_line=True)))
        console.print(table)
    else:
        console.print("Nothing to delete: every recording is within the limits or protected.")
    freed = "Would free" if result.dry_run else "Freed"
    console.print(
        f"{freed} {fmt_size(result.bytes_freed)} of {fmt_size(result.total_size_bytes)}; "
        f"{n} of {plural(result.total_recordings, 'recording')} "
        f"{'would go' if result.dry_run else 'gone'}; {result.protected} protected",
        markup=False)
    if result.errors:
        console.print(Text(f"{plural(len(result.errors), 'recording')} could not be deleted:",
                           style="bold red"))
        for recording_id, reason in result.errors:
            console.print(Text.assemble(("  ✗ ", "bold red"), recording_id, ": ",
                                        printable(reason, one_line=True)))

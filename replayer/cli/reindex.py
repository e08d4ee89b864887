"""`flowtape reindex`: rebuild a store's catalog from its recordings.

`Store.reindex` reads every recording's header and footer again (no events;
docs/stores.md §reindex and verify); this module draws its progress on
stderr and reports what it found. `store_progress` adapts the store's
``progress(done, total)`` callback to `replayer.terminal.console.progress`, for `verify` too.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator, Sequence

import msgspec
from rich.console import Console
from rich.text import Text

from storage import ReindexResult, open_store

from .._text import plural, printable
from ..terminal.console import print_json, progress

NAME = "reindex"
HELP = "rebuild the store's catalog from the recordings themselves"

#: Recordings below this many finish before a bar would be worth drawing.
REINDEX_THRESHOLD = 200


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print what was found as JSON")


@contextlib.contextmanager
def store_progress(description: str, *, threshold: int, console: Console | None = None
                   ) -> Iterator[Callable[[int, int], None]]:
    """Yield a ``progress(done, total)`` callback for a store that draws a bar on stderr.

    The store learns the total only once it has listed its recordings, so
    the bar opens at the first call (if the job is big enough and stderr is
    a terminal) and closes when the ``with`` block ends. ``console``: where
    to draw it (default: stderr).
    """
    with contextlib.ExitStack() as stack:
        advance: Callable[[int], None] | None = None
        shown = 0

        def report(done: int, total: int) -> None:
            nonlocal advance, shown
            if advance is None:
                advance = stack.enter_context(
                    progress(total, description, threshold=threshold, console=console))
            if done > shown:
                advance(done - shown)
                shown = done

        yield report


def run(args: argparse.Namespace, console: Console) -> int:
    with store_progress("indexing", threshold=REINDEX_THRESHOLD) as report:
        result = open_store(args.store).reindex(progress=report)
    if args.json:
        print_json(console, msgspec.to_builtins(result))
    else:
        render(result, console, store=str(args.store))
    return 0


#: The style of a group that is a problem (marked ✗ rather than •).
PROBLEM = "bold red"

Group = tuple[str, str, Sequence[str | tuple[str, str]], str]
"""(label, what it means, its items: ids or paths, or (id or path, reason); style)."""


def render(result: ReindexResult, console: Console, *, store: str) -> None:
    """How many recordings are catalogued now, and each group that needs a word."""
    console.print(Text.assemble(("reindex ", "bold"), store))
    console.print(Text.assemble(("  ✓ ", "green"),
                                f"{plural(result.indexed, 'recording')} indexed"))
    render_groups(console, [
        ("uploaded", "spooled recordings uploaded first", result.uploaded, "green"),
        ("adopted", "kept under their final name (their writer died before deciding)",
         result.adopted, "green"),
        ("running", "still being written", result.running, "yellow"),
        ("incomplete", "no footer and their writer is gone (crashed or killed)",
         result.incomplete, "yellow"),
        ("dropped", "catalog rows whose recording no longer exists, removed",
         result.dropped, "yellow"),
        ("duplicate", "files holding a recording another file holds too, not indexed",
         result.duplicates, "yellow"),
        ("unreadable", "not readable recordings, left alone and not indexed",
         result.unreadable, PROBLEM),
    ])


def render_groups(console: Console, groups: Sequence[Group]) -> int:
    """Print each non-empty group as a headline and one line per item; returns the number
    of items in groups styled `PROBLEM`."""
    problems = 0
    for label, meaning, items, style in groups:
        if not items:
            continue
        mark = "  ✗ " if style == PROBLEM else "  • "
        console.print(Text.assemble((mark, style), (f"{len(items)} {label}", "bold"),
                                    f": {meaning}"))
        for item in items:  # ids, paths and reasons may quote recorded text: shown, not run
            line = item if isinstance(item, str) else ": ".join(item)
            console.print(Text("      " + printable(line, one_line=True)))
        problems += len(items) if style == PROBLEM else 0
    return problems

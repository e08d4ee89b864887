"""The terminal side every `flowtape` command shares: consoles, JSON output, progress bars.

(How things are worded — durations, previews, recorded text made safe — is
`replayer._text`, which the exports and the viewer share too.)

Tables and reports go to stdout through one rich `Console`; progress bars go
to stderr, and only when stderr is a terminal, so piped output stays clean.
When stdout is not a terminal, table lines are neither wrapped nor cut (a
pipe into ``grep`` should see whole lines, and ids whole); prose — reports
laid out in label/value rows — wraps to `prose_width`: the terminal's width,
else ``$COLUMNS``, else 80.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.highlighter import JSONHighlighter
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from .._text import json_text

__all__ = ["PROGRESS_THRESHOLD", "json_renderable", "make_console", "print_json", "progress",
           "prose_width"]

#: Work smaller than this (events or frames) finishes before a bar would be worth drawing.
PROGRESS_THRESHOLD = 20_000
#: Width assumed for output into a pipe or file (rich would assume 80 and squeeze tables).
_PIPE_WIDTH = 200
#: Width of prose into a pipe or file when $COLUMNS does not say.
_PROSE_PIPE_WIDTH = 80
_JSON_HIGHLIGHTER = JSONHighlighter()


class _Console(Console):
    """A rich Console that lets a closed pipe surface as `BrokenPipeError`.

    rich's own handling exits with status 1, which `flowtape compare` uses for
    "regression"; `cli.main` turns the error into 141, as shells expect.
    """

    #: True when the width was raised to `_PIPE_WIDTH` for tables in a pipe.
    widened_for_pipe = False

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def make_console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr); no wrapping or cutting when it is not a terminal."""
    console = _Console(stderr=stderr, highlight=False)
    if not console.is_terminal:
        console.soft_wrap = True
        if "COLUMNS" not in os.environ:
            console.width = _PIPE_WIDTH  # tables keep their natural width in a pipe
            console.widened_for_pipe = True
    return console


def prose_width(console: Console) -> int:
    """The width to wrap prose to: the console's, unless it was widened for tables in a pipe."""
    if isinstance(console, _Console) and console.widened_for_pipe:
        return _PROSE_PIPE_WIDTH
    return console.width


def json_renderable(value: Any, *, indent: int = 2) -> Text:
    """`json_text` as rich text, coloured like `rich.json.JSON` on a terminal.

    Not `rich.json.JSON` itself: it parses the text again and writes the
    control characters back raw.
    """
    return _JSON_HIGHLIGHTER(Text(json_text(value, indent=indent)))


def print_json(console: Console, value: Any) -> None:
    """``value`` as indented JSON (coloured on a terminal, plain in a pipe)."""
    if console.is_terminal:
        console.print(json_renderable(value), soft_wrap=True)
    else:
        console.out(json_text(value, indent=2), highlight=False)


@contextmanager
def progress(total: int, description: str, *, threshold: int = PROGRESS_THRESHOLD,
             console: Console | None = None) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; draws a transient bar on stderr for big jobs on a terminal."""
    bar_console = console if console is not None else Console(stderr=True)
    if total < threshold or not bar_console.is_terminal:
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=bar_console, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)

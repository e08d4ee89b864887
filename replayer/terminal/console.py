"""The terminal side every `flowtape` command shares: consoles, JSON output, progress bars.

Tables and reports go to stdout through one rich `Console`; progress bars go
to stderr, and only when stderr is a terminal, so piped output stays clean.
When stdout is not a terminal, table lines are neither wrapped nor cut (a
pipe into ``grep`` should see whole lines, and ids whole); prose — reports
laid out in label/value rows — wraps to `prose_width`: the terminal's width,
else ``$COLUMNS``, else 80.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.highlighter import JSONHighlighter
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

__all__ = ["PROGRESS_THRESHOLD", "json_renderable", "json_text", "make_console", "plural",
           "print_json", "printable", "progress", "prose_width"]

#: Work smaller than this (events or frames) finishes before a bar would be worth drawing.
PROGRESS_THRESHOLD = 20_000
#: Control characters (C0 but tab and newline, DEL, C1) as their visible escapes.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))
             if c not in (0x09, 0x0A)}
_CONTROLS_ONE_LINE = {**_CONTROLS, 0x09: "\\t", 0x0A: "\\n"}
#: What `json.dumps` leaves raw (DEL and C1; it escapes C0 itself), as JSON escapes.
_JSON_CONTROLS = {c: f"\\u{c:04x}" for c in (0x7F, *range(0x80, 0xA0))}
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


def printable(text: str, *, one_line: bool = False) -> str:
    """``text`` from a recording made safe for a terminal: control characters shown, not run.

    A recorded name, payload or error message may hold escape sequences
    (``\\x1b]0;title``, ``\\x1b[2J``); they are rendered as the visible text
    ``\\x1b`` so nothing recorded can retitle, clear or recolour a terminal.
    With ``one_line`` newlines and tabs are escaped too (table cells, timeline rows).
    """
    table = _CONTROLS_ONE_LINE if one_line else _CONTROLS
    return text.translate(table)


def plural(n: int, word: str) -> str:
    """``1 frame``, ``2 frames``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def json_text(value: Any, *, indent: int | None = None) -> str:
    """``value`` as JSON that is safe on a terminal: every control character escaped.

    `json.dumps` escapes C0 controls but leaves DEL and the C1 range (``U+009B``
    is CSI to many terminals) raw; they become ``\\u00XX`` too. Non-ASCII text
    stays readable, and the result is still JSON for the same value.
    """
    text = json.dumps(value, ensure_ascii=False, indent=indent, default=str)
    return text.translate(_JSON_CONTROLS)


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

"""The rich report of a run diff (`print_report`; the diff itself is `replayer.diff`).

`print_report` draws a `RecordingDiff`: a headline verdict, the
first divergence with both sides, a side-by-side table of what changed
(A in red, B in green), the state differences, a timing table sorted by
slowdown (each row naming the span on both sides), and the run-level figures.
Values are shown in windows as wide as the console allows, around where the
two sides first differ (`storage.analysis.difftext.show_pair`), so a long string
that changed only at its end does not look equal; a value the recording
does not know (a ``$truncated`` stand-in) says so.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from storage import (
    Change,
    RecordingDiff,
    is_truncated,
)
from storage.analysis.difftext import show_pair
from storage.analysis.valuediff import ABSENT

from .._text import fmt_ns, plural
from .timeline import status_style

__all__ = ["print_report"]

#: Rows of each table before "… N more" (the JSON report has everything).
MAX_ROWS = 50
#: Columns a table spends on borders and padding, per column (rich's default box).
_COLUMN_COST = 3
#: The narrowest value window: on a narrow console the table wraps it over lines instead.
_MIN_VALUE_WIDTH = 24
_NOTE = "from char {at}"


def print_report(d: RecordingDiff, console: Console, *, max_rows: int = MAX_ROWS) -> None:
    """Draw the diff on ``console``: verdict, divergence, changes, state, timing, metadata."""
    console.print(_headline(d))
    if d.first_divergence is not None:
        console.print(_divergence(d, console.width))
    if any(s.op != "equal" for s in d.steps):
        console.print(_steps_table(d, max_rows, console.width))
    for title, changes in (("Final state", d.state_changes.at_end),
                           ("State after the first divergence",
                            d.state_changes.at_first_divergence)):
        if changes:
            console.print(_changes_table(title, changes, max_rows, console.width))
    if d.timing_regressions:
        console.print(_timing_table(d, max_rows))
    console.print(_metadata_table(d))


# --- the parts ---------------------------------------------------------------------------
def _headline(d: RecordingDiff) -> Panel:
    a, b = d.a_recording, d.b_recording
    lines: list[Text] = []
    if d.regression:
        lines.append(Text("✗ REGRESSION", style="bold red"))
        lines += [Text(f"  • {r}", style="red") for r in d.regression_reasons()]
        border = "red"
    elif d.identical:
        lines.append(Text.assemble(("✓ identical", "bold green"),
                                   ("  same steps, values, final state and status", "green")))
        if d.timing_regressions:
            lines.append(Text("  some nodes got slower (not counted by the policy)", "yellow"))
        border = "green"
    else:
        lines.append(Text.assemble(("≈ no regression", "bold yellow"),
                                   ("  there are differences, but the regression policy does "
                                    "not count them", "yellow")))
        border = "yellow"
    for label, ref, status in (("A ", a, d.metadata.status.a), ("B ", b, d.metadata.status.b)):
        lines.append(Text.assemble((label, "bold"), f"{ref.workflow} {ref.recording_id} ",
                                   (status, status_style(status)), f"  {ref.path}"))
    counts = Counter(s.op for s in d.steps)
    lines.append(Text(f"{plural(len(d.steps), 'step')}: {counts['equal']} equal, "
                      f"{counts['changed']} changed, {counts['only_in_a']} only in A, "
                      f"{counts['only_in_b']} only in B"
                      + (f"; moved: {', '.join(d.moved)}" if d.moved else ""), style="dim"))
    return Panel(Group(*lines), title="flowtape compare", border_style=border, expand=False)


def _divergence(d: RecordingDiff, console_width: int) -> Table:
    fd = d.first_divergence
    assert fd is not None
    step = d.steps[fd.position]
    what = {"changed": "changed", "only_in_a": "only in A", "only_in_b": "only in B"}.get(
        step.op, step.op)
    table = Table(title=f"First divergence: step {fd.position} ({what})",
                  title_justify="left", show_header=True)
    table.add_column("", overflow="fold")
    table.add_column("A", style="red", overflow="fold")
    table.add_column("B", style="green", overflow="fold")
    na = fd.a.node if fd.a is not None else "—"
    nb = fd.b.node if fd.b is not None else "—"
    table.add_row("node", na, nb)
    table.add_row("start seq", str(fd.a.seq) if fd.a else "—", str(fd.b.seq) if fd.b else "—")
    table.add_row("status", Text(fd.a.status, status_style(fd.a.status)) if fd.a else Text("—"),
                  Text(fd.b.status, status_style(fd.b.status)) if fd.b else Text("—"))
    shown = step.changes[:10]
    width = _value_width(console_width, [_path_width(shown)])
    for c in shown:
        table.add_row(*_change_cells(c, width))
    if len(step.changes) > 10:
        table.add_row("…", f"{len(step.changes) - 10} more", "")
    return table


def _steps_table(d: RecordingDiff, max_rows: int, console_width: int) -> Table:
    table = Table(title="Steps that differ (A | B)", title_justify="left")
    table.add_column("step", justify="right")
    table.add_column("op")
    table.add_column("node", overflow="fold")
    table.add_column("A seq", justify="right")
    table.add_column("B seq", justify="right")
    table.add_column("path", overflow="fold")
    table.add_column("A", style="red", overflow="fold")
    table.add_column("B", style="green", overflow="fold")
    rows = 0
    differing = [(i, s) for i, s in enumerate(d.steps) if s.op != "equal"]
    shown = differing[:max_rows]
    fixed = [max((len(str(i)) for i, _ in shown), default=4), 7,
             max((len(s.node) for _, s in shown), default=4), 5, 5,
             _path_width([c for _, s in shown for c in s.changes])]
    width = _value_width(console_width, fixed)
    for n, (i, s) in enumerate(differing):
        if rows >= max_rows:
            table.add_row("…", f"{len(differing) - n} more steps", "", "", "", "",
                          "use --json for all", "")
            break
        op = {"changed": Text("changed", "yellow"), "only_in_a": Text("only A", "red"),
              "only_in_b": Text("only B", "green")}[s.op]
        seqs = (str(s.a) if s.a is not None else "—", str(s.b) if s.b is not None else "—")
        if not s.changes:
            table.add_row(str(i), op, s.node, *seqs, "", "", "")
            rows += 1
            continue
        for k, c in enumerate(s.changes):
            head = (str(i), op, s.node, *seqs) if k == 0 else ("", "", "", "", "")
            table.add_row(*head, *_change_cells(c, width))
            rows += 1
    return table


def _changes_table(title: str, changes: list[Change], max_rows: int,
                   console_width: int) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("path", overflow="fold")
    table.add_column("A", style="red", overflow="fold")
    table.add_column("B", style="green", overflow="fold")
    width = _value_width(console_width, [_path_width(changes[:max_rows])])
    for c in changes[:max_rows]:
        table.add_row(*_change_cells(c, width))
    if len(changes) > max_rows:
        table.add_row("…", f"{len(changes) - max_rows} more", "")
    return table


def _timing_table(d: RecordingDiff, max_rows: int) -> Table:
    table = Table(title="Timing regressions (slowest ratio first)", title_justify="left")
    table.add_column("node", overflow="fold")
    table.add_column("attempt", justify="right")
    table.add_column("A seq", justify="right")
    table.add_column("B seq", justify="right")
    table.add_column("A", justify="right")
    table.add_column("B", justify="right")
    table.add_column("slowdown", justify="right", style="bold red")
    rows = sorted(d.timing_regressions, key=lambda t: -t.ratio)
    for t in rows[:max_rows]:
        table.add_row(t.node, str(t.attempt), str(t.a_seq), str(t.b_seq), fmt_ns(t.a_ns),
                      fmt_ns(t.b_ns), f"{t.ratio:.1f}x")
    if len(rows) > max_rows:
        table.add_row("…", "", "", "", f"{len(rows) - max_rows} more", "", "")
    return table


def _metadata_table(d: RecordingDiff) -> Table:
    m = d.metadata
    table = Table(title="Runs", title_justify="left")
    table.add_column("")
    table.add_column("A", justify="right")
    table.add_column("B", justify="right")
    worse = d.status_worse
    table.add_row("status", Text(m.status.a, status_style(m.status.a)),
                  Text(m.status.b, status_style(m.status.b) + (" reverse" if worse else "")))
    table.add_row("duration", fmt_ns(m.duration_ns.a), fmt_ns(m.duration_ns.b))
    table.add_row("events", f"{m.event_count.a:,}", f"{m.event_count.b:,}")
    table.add_row("node executions", f"{m.node_count.a:,}", f"{m.node_count.b:,}")
    return table


def _value_width(console_width: int, other_columns: list[int]) -> int:
    """How wide each of the two value columns may be, beside the other columns' widths."""
    columns = len(other_columns) + 2
    used = sum(other_columns) + columns * _COLUMN_COST + 1
    return max(_MIN_VALUE_WIDTH, (console_width - used) // 2)


def _path_width(changes: list[Change]) -> int:
    """The width the path column takes: the longest path, or the note under a cut value."""
    return max([len(_NOTE.format(at=10**6)), *(len(c.path) for c in changes)])


def _change_cells(c: Change, width: int) -> tuple[Text, Text, Text]:
    """The path (with where a cut value first differs) and both values, each in ``width``."""
    pair = show_pair(c.a, c.b, width)
    path = Text(c.path)
    if pair.at is not None:  # where the values first differ, as pytest's diff says it
        path.append("\n" + _NOTE.format(at=pair.at), style="dim")
    return path, _shown(c.a, pair.a), _shown(c.b, pair.b)


def _shown(value: Any, text: str) -> Text:
    """A value's text; what is not a value (absent, unknown) in dim italics."""
    if value is ABSENT or is_truncated(value):
        return Text(text, style="dim italic")
    return Text(text)


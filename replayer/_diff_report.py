"""`diff` on the read side, and its rich report.

The engine is `storage.diff_recordings` (it lives in storage so that the
recorder's re-execution and the pytest plugin can use it too); here it
accepts what a replayer user holds — `Replayer` objects, paths, ids or id
prefixes — and `print_report` draws the result: a headline verdict, the
first divergence with both sides, a side-by-side table of what changed
(A in red, B in green), the state differences, a timing table sorted by
slowdown, and the run-level figures.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from contextlib import ExitStack
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from storage import (
    Change,
    LogReader,
    RecordingDiff,
    RegressionPolicy,
    Store,
    diff_recordings,
    format_value,
)

from ._replayer import Replayer
from ._timeline import fmt_ns, status_style

__all__ = ["diff", "print_report"]

Source = Replayer | LogReader | str | os.PathLike[str]

#: Rows of each table before "… N more" (the JSON report has everything).
MAX_ROWS = 50
_VALUE_WIDTH = 60


def diff(a: Source, b: Source, *, store: str | Store | None = None, ignore: Iterable[str] = (),
         numeric_tolerance: float = 0.0, relative_tolerance: float = 0.0,
         timing_tolerance: float = 1.5, min_timing_ns: int = 5_000_000,
         compare_timing: bool = True, policy: RegressionPolicy | None = None) -> RecordingDiff:
    """Compare run B against run A; returns a `RecordingDiff` (SPEC §6).

    ``a`` and ``b`` are `Replayer` objects, files, or ids / unique id
    prefixes / ``latest`` in ``store`` (default ``$FLOWTAPE_STORE`` or
    ``./recordings``). The options are those of `storage.diff_recordings`.

    ::

        d = diff("01HX3", "latest", ignore=["*.request_id"], compare_timing=False)
        if d.regression:
            print_report(d, Console())

    Raises `RecordingNotFoundError`, `AmbiguousIdError`, the read errors, and
    ValueError for a bad option.
    """
    with ExitStack() as stack:
        readers: list[LogReader] = []
        for src in (a, b):
            if isinstance(src, Replayer):
                readers.append(src.reader)
            elif isinstance(src, LogReader):
                readers.append(src)
            else:
                readers.append(stack.enter_context(Replayer.open(src, store)).reader)
        return diff_recordings(readers[0], readers[1], ignore=ignore,
                               numeric_tolerance=numeric_tolerance,
                               relative_tolerance=relative_tolerance,
                               timing_tolerance=timing_tolerance, min_timing_ns=min_timing_ns,
                               compare_timing=compare_timing, policy=policy)


def print_report(d: RecordingDiff, console: Console, *, max_rows: int = MAX_ROWS) -> None:
    """Draw the diff on ``console``: verdict, divergence, changes, state, timing, metadata."""
    console.print(_headline(d))
    if d.first_divergence is not None:
        console.print(_divergence(d))
    if any(s.op != "equal" for s in d.steps):
        console.print(_steps_table(d, max_rows))
    for title, changes in (("Final state", d.state_changes.at_end),
                           ("State after the first divergence",
                            d.state_changes.at_first_divergence)):
        if changes:
            console.print(_changes_table(title, changes, max_rows))
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
    lines.append(Text(f"{len(d.steps)} steps: {counts['equal']} equal, {counts['changed']} "
                      f"changed, {counts['only_in_a']} only in A, {counts['only_in_b']} only in B"
                      + (f"; moved: {', '.join(d.moved)}" if d.moved else ""), style="dim"))
    return Panel(Group(*lines), title="flowtape compare", border_style=border, expand=False)


def _divergence(d: RecordingDiff) -> Table:
    fd = d.first_divergence
    assert fd is not None
    step = d.steps[fd.position]
    what = {"changed": "changed", "only_in_a": "only in A", "only_in_b": "only in B"}.get(
        step.op, step.op)
    table = Table(title=f"First divergence: step {fd.position} ({what})",
                  title_justify="left", show_header=True)
    table.add_column("")
    table.add_column("A", style="red")
    table.add_column("B", style="green")
    na = fd.a.node if fd.a is not None else "—"
    nb = fd.b.node if fd.b is not None else "—"
    table.add_row("node", na, nb)
    table.add_row("start seq", str(fd.a.seq) if fd.a else "—", str(fd.b.seq) if fd.b else "—")
    table.add_row("status", Text(fd.a.status, status_style(fd.a.status)) if fd.a else Text("—"),
                  Text(fd.b.status, status_style(fd.b.status)) if fd.b else Text("—"))
    for c in step.changes[:10]:
        table.add_row(c.path, _value(c.a), _value(c.b))
    if len(step.changes) > 10:
        table.add_row("…", f"{len(step.changes) - 10} more", "")
    return table


def _steps_table(d: RecordingDiff, max_rows: int) -> Table:
    table = Table(title="Steps that differ (A | B)", title_justify="left")
    table.add_column("step", justify="right")
    table.add_column("op")
    table.add_column("node")
    table.add_column("A seq", justify="right")
    table.add_column("B seq", justify="right")
    table.add_column("path")
    table.add_column("A", style="red")
    table.add_column("B", style="green")
    rows = 0
    differing = [(i, s) for i, s in enumerate(d.steps) if s.op != "equal"]
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
            table.add_row(*head, c.path, _value(c.a), _value(c.b))
            rows += 1
    return table


def _changes_table(title: str, changes: list[Change], max_rows: int) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("path")
    table.add_column("A", style="red")
    table.add_column("B", style="green")
    for c in changes[:max_rows]:
        table.add_row(c.path, _value(c.a), _value(c.b))
    if len(changes) > max_rows:
        table.add_row("…", f"{len(changes) - max_rows} more", "")
    return table


def _timing_table(d: RecordingDiff, max_rows: int) -> Table:
    table = Table(title="Timing regressions (slowest ratio first)", title_justify="left")
    table.add_column("node")
    table.add_column("A", justify="right")
    table.add_column("B", justify="right")
    table.add_column("slowdown", justify="right", style="bold red")
    rows = sorted(d.timing_regressions, key=lambda t: -t.ratio)
    for t in rows[:max_rows]:
        table.add_row(t.node, fmt_ns(t.a_ns), fmt_ns(t.b_ns), f"{t.ratio:.1f}x")
    if len(rows) > max_rows:
        table.add_row("…", f"{len(rows) - max_rows} more", "", "")
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


def _value(v: Any) -> Text:
    text = format_value(v, _VALUE_WIDTH)
    return Text(text, style="dim italic") if text == "(absent)" else Text(text)


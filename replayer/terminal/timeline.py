"""How one event reads on a terminal: the lines of `flowtape replay` and of the stepper.

An event line is ``seq  +offset  [lane]  <indent>kind node  [attempt n]  [(start s)]
[took d]  [detail]``: the lane column only when the run has more than one lane; the
indentation is the event's depth in the span tree (one level per enclosing
span, from the ``parent`` links), end events carry the span's duration, and
colour follows the outcome (errors red, completes green, starts cyan). The
same helpers render `replay`, `replay --follow` and the stepper's ``list``,
so the three agree on what an event looks like. Recorded text (kinds, names,
payloads) goes through `printable` on its way into a line, so an escape
sequence in a recording shows as ``\\x1b`` and never acts on the terminal.
"""

from __future__ import annotations

from rich.text import Text

from storage import END_KINDS, START_KINDS, Event, Span
from storage.analysis.paths import format_path, pointer_parts

from .._text import error_summary, fmt_ns, fmt_offset, preview, printable

__all__ = ["MAX_LANE_WIDTH", "Nesting", "describe", "event_line", "kind_style", "lane_width",
           "status_style"]


def kind_style(event: Event) -> str:
    """The rich style of an event's kind: red for errors, green for completes, …"""
    kind = event.kind
    if kind.endswith("_error") or (kind == "team_complete" and isinstance(event.data, dict)
                                   and event.data.get("success") is False):
        return "bold red"
    if kind.endswith(("_complete", "_exit")):
        return "green"
    if kind in START_KINDS:
        return "cyan"
    if kind == "state":
        return "magenta"
    if kind == "team_message":
        return "yellow"
    return "blue"


def status_style(status: str) -> str:
    """The rich style of a recording or span status."""
    return {"completed": "green", "failed": "bold red", "incomplete": "yellow",
            "running": "yellow", "timed_out": "red", "cancelled": "red"}.get(status, "")


def describe(event: Event, width: int = 60) -> str:
    """A short text about the event's payload (inputs, outputs, error, message, change …)."""
    data = event.data
    kind = event.kind
    if kind.endswith("_error"):
        return preview(error_summary(data) or data, width)
    if kind == "state":
        if event.state is not None:
            return "keyframe " + preview(event.state, max(1, width - 9))
        ops = event.patch or []
        if not ops:
            return "no change"
        parts = [("-" if op.get("op") == "remove" else "")
                 + (format_path(pointer_parts(op.get("path", ""))) or "(root)")
                 for op in ops if isinstance(op, dict)]
        return preview("changed " + ", ".join(parts), width)
    if not isinstance(data, dict):
        return "" if data is None else preview(data, width)
    if kind == "team_message":
        text = f"{data.get('from')} → {data.get('to')}: {preview(data.get('message'), width)}"
        return preview(text, width)
    if kind in ("custom", "checkpoint"):
        name = data.get("name", "")
        rest = data.get("value")
        return preview(f"{name} {preview(rest, width)}" if rest is not None else name, width)
    for key in ("inputs", "outputs"):
        if key in data and len(data) == 1:
            return preview(f"{key}={preview(data[key], width)}", width)
    return preview(data, width)


class Nesting:
    """Depths and start times of spans, to indent event lines and time end events.

    Fed event by event (`observe`, for a timeline or a followed file) or
    built from a whole recording's spans (`from_spans`, for a window that
    starts in the middle).
    """

    def __init__(self) -> None:
        self._starts: dict[int, tuple[int, int]] = {}  # start seq -> (depth, ts)

    @classmethod
    def from_spans(cls, spans: list[Span]) -> Nesting:
        self = cls()
        for s in spans:  # start order: a parent always comes before its children
            parent = self._starts.get(s.parent) if s.parent is not None else None
            depth = parent[0] + 1 if parent is not None else 0
            self._starts[s.start_seq] = (depth, s.start_ns)
        return self

    def depth(self, event: Event) -> int:
        """Indentation level: 0 for the workflow's own events, +1 per enclosing span."""
        if event.parent is None:
            return 0
        parent = self._starts.get(event.parent)
        return parent[0] + 1 if parent is not None else 1

    def observe(self, event: Event) -> None:
        """Remember a start event, for the depth and duration of what follows."""
        if event.kind in START_KINDS:
            self._starts[event.seq] = (self.depth(event), event.ts)

    def duration(self, event: Event) -> int | None:
        """How long the span an end event closes took, or None."""
        if event.span is None:
            return None
        start = self._starts.get(event.span)
        return event.ts - start[1] if start is not None else None


def event_line(event: Event, *, depth: int = 0, duration: int | None = None,
               detail: str = "", marker: str | None = None, seq_width: int = 5,
               lane_width: int = 0) -> Text:
    """One timeline line: seq, offset, the lane column (``lane_width`` > 0: a run with more
    than one lane), indented kind and node, the attempt when above 1, the start seq of an
    end event, the duration and a detail."""
    style = kind_style(event)
    line = Text()
    if marker is not None:
        line.append(f"{marker:<3}", style="bold" if marker.strip() else "")
    line.append(f"{event.seq:>{seq_width}}", style="dim")
    line.append(f" {fmt_offset(event.ts):>10}  ", style="dim")
    if lane_width:
        lane = printable(event.lane or "-", one_line=True)
        line.append(f"{lane[:lane_width]:<{lane_width}}  ", style="blue")
    line.append("  " * depth)
    line.append(printable(event.kind, one_line=True), style=style)
    if event.node is not None:
        line.append(" ")
        line.append(printable(event.node, one_line=True), style="bold")
    if event.attempt is not None and event.attempt > 1:
        line.append(f"  attempt {event.attempt}", style="yellow")
    if event.kind in END_KINDS and event.span is not None:
        line.append(f"  (start {event.span})", style="dim")
    if duration is not None:
        line.append(f"  {fmt_ns(duration)}", style="dim" if "red" not in style else style)
    if detail:
        line.append("  ")
        line.append(detail, style="red" if "red" in style else "")
    return line


#: The widest lane column; longer lane names are cut.
MAX_LANE_WIDTH = 16


def lane_width(lanes: list[str]) -> int:
    """The lane column's width for a run with these lanes: 0 (no column) for one lane."""
    return 0 if len(lanes) < 2 else min(MAX_LANE_WIDTH, max(len(n) for n in lanes))

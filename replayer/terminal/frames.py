"""The stepper's frame commands: where, up, down, args, retval, p and pp.

The frames are the spans open at the cursor (`Replayer.frames_at`), the
workflow first and the innermost last; ``u``/``d`` select one (every move
selects the innermost again), and ``a``, ``retval`` and ``p inputs.…`` /
``p outputs.…`` read the selected one's start and end events, as pdb's
``up`` changes what ``args`` and ``p`` see. ``p`` also reads ``state.…`` (the
state after the cursor's event) and ``data.…`` (its payload); a path without
one of these four heads is a state path.
"""

from __future__ import annotations

import re
from typing import IO, Any

from rich.console import Console
from rich.text import Text

from storage import Event
from storage.analysis.paths import MISSING, format_path, lookup, parse_path
from storage.analysis.spans import SPAN_KIND

from .._replayer import Replayer
from .._text import printable
from .._text import show_value as _show
from .console import json_renderable
from .looking import Looking
from .shell import UsageError

__all__ = ["Frames", "span_word"]

_HEAD = re.compile(r"(state|data|inputs|outputs)(?=$|[.\[])")


def span_word(start: Event) -> str:
    """``node``, ``team``, ``member``, ``recursion`` or ``workflow`` for a start event."""
    return SPAN_KIND.get(start.kind, start.kind)


class Frames(Looking):
    """Commands about the frames at the cursor (see the module)."""

    def __init__(self, replayer: Replayer, console: Console, *, stdin: IO[str] | None = None,
                 interactive: bool | None = None) -> None:
        super().__init__(replayer, console, stdin=stdin, interactive=interactive)
        self._selected: int | None = None  # index into the frames; None: the innermost

    # --- helpers --------------------------------------------------------------------------
    def _frames(self) -> list[Event]:
        """The start events of the frames at the cursor, the workflow first."""
        return [self.r.get_event(s) for s in self.r.frames_at(self._cursor_seq())]

    def _selection(self) -> tuple[list[Event], int]:
        """The frames and the selected one's index; `Refused` when no span is open."""
        self._need_events()
        frames = self._frames()
        if not frames:
            raise UsageError(f"no span is open at seq {self._cursor_seq()}")
        index = len(frames) - 1 if self._selected is None else min(self._selected,
                                                                    len(frames) - 1)
        return frames, index

    def _frame_line(self, start: Event, depth: int, selected: bool) -> Text:
        at = self._cursor_seq()
        line = Text("> " if selected else "  ")
        line.append("  " * depth + span_word(start) + " ")
        line.append(printable(start.node or "", one_line=True), style="bold")
        line.append(f"  (seq {start.seq}", style="dim")
        if start.attempt is not None and start.attempt > 1:
            line.append(f", attempt {start.attempt}", style="dim")
        if self._lane_width() and start.lane is not None:
            line.append(f", lane {printable(start.lane, one_line=True)}", style="dim")
        cursor = self.r.current
        if at == start.seq:
            line.append(", starts here", style="dim")
        elif cursor is not None and cursor.span == start.seq:
            line.append(", fails here" if cursor.kind.endswith("_error") else ", ends here",
                        style="dim")
        line.append(")", style="dim")
        return line

    def _end(self, start: Event) -> Event | None:
        """The selected frame's end event, once the cursor is at or past it."""
        end = self.r.span_end(start.seq)
        return None if end is None or end > self._cursor_seq() else self.r.get_event(end)

    def _not_ended(self, start: Event) -> str:
        end = self.r.span_end(start.seq)
        what = f"{span_word(start)} {start.node} (seq {start.seq})"
        if end is None:
            return f"{what} never ended"
        return f"{what} has not ended at seq {self._cursor_seq()} (it ends at seq {end})"

    # --- where am I ---------------------------------------------------------------------------
    def do_where(self, arg: str) -> bool:
        """w(here)
        Show the frames (the spans open at the cursor), the workflow first.
        > marks the selected frame (u and d move it)."""
        self._need_events()
        frames = self._frames()
        if not frames:
            self.message(f"No span is open at seq {self._cursor_seq()}.")
            return False
        _, index = self._selection()
        for depth, start in enumerate(frames):
            self.message(self._frame_line(start, depth, depth == index))
        return False

    do_w = do_where

    def _select(self, arg: str, outward: bool) -> None:
        frames, index = self._selection()
        n = self._count(arg)
        if index == (0 if outward else len(frames) - 1):
            self.error(f"already at the {'outermost' if outward else 'innermost'} frame")
            return
        target = max(0, index - n) if outward else min(len(frames) - 1, index + n)
        self._selected = target
        self.message(self._frame_line(frames[target], target, True))

    def do_up(self, arg: str) -> bool:
        """u(p) [count]
        Select the frame count levels out (towards the workflow)."""
        self._select(arg, outward=True)
        return False

    do_u = do_up

    def do_down(self, arg: str) -> bool:
        """d(own) [count]
        Select the frame count levels in (towards the cursor's event)."""
        self._select(arg, outward=False)
        return False

    do_d = do_down

    # --- what the frame got and gave ------------------------------------------------------------
    def do_args(self, arg: str) -> bool:
        """a(rgs)
        Show the selected frame's recorded inputs.
        For a team or member: what its start event recorded."""
        frames, index = self._selection()
        start = frames[index]
        data = start.data
        values = data.get("inputs", data) if isinstance(data, dict) else data
        if not values:
            self.message(f"{span_word(start)} {start.node} (seq {start.seq}) recorded no inputs.")
            return False
        if isinstance(values, dict):
            for key, value in values.items():
                self.message(f"{key} = {_show(value)}")
        else:
            self.message(f"inputs = {_show(values)}")
        return False

    do_a = do_args

    def do_retval(self, arg: str) -> bool:
        """retval | rv
        Show the selected frame's recorded output or error.
        Only once it has ended at or before the cursor."""
        frames, index = self._selection()
        start = frames[index]
        end = self._end(start)
        if end is None:
            self.message(self._not_ended(start) + ".")
            return False
        data = end.data if isinstance(end.data, dict) else {}
        where = f"{span_word(start)} {start.node} ended at seq {end.seq}"
        if isinstance(data.get("error"), dict):
            err = data["error"]
            self.message(f"{where} with an error:")
            self.message(Text(printable(f"{err.get('type', 'Error')}: {err.get('message', '')}"),
                              style="red"))
        elif "outputs" in data:
            self.message(f"{where}:")
            self.message(f"outputs = {_show(data['outputs'])}")
        else:
            self.message(f"{where}:" if data else f"{where}; it recorded no output.")
            if data:
                self.message(_show(data))
        return False

    do_rv = do_retval

    # --- values -----------------------------------------------------------------------------------
    def _read(self, arg: str) -> tuple[str, Any]:
        """The label and value of a `p` path (see the module); MISSING where it leads nowhere."""
        if not arg:
            raise UsageError("p needs a path: state.…, data.…, inputs.… or outputs.…")
        self._need_events()
        m = _HEAD.match(arg)
        if m is None or m.group(1) == "state":
            parts = self._parse_path(arg)
            return "state." + format_path(parts) if parts else "state", \
                self._value(parts, self._cursor_seq())
        head, rest = m.group(1), arg[m.end():].removeprefix(".")
        try:
            parts = parse_path(rest) if rest else []
        except ValueError:
            raise UsageError(f"{arg!r} is not a path (write it like {head}.items[0])") from None
        label = head + ("." + format_path(parts) if parts and isinstance(parts[0], str)
                        else format_path(parts))
        if head == "data":
            event = self.r.current
            assert event is not None
            return label, lookup(event.data, parts)
        frames, index = self._selection()
        start = frames[index]
        if head == "inputs":
            data = start.data if isinstance(start.data, dict) else {}
            return label, lookup(data.get("inputs", MISSING), parts)
        end = self._end(start)
        if end is None:
            raise UsageError(self._not_ended(start) + ": no outputs yet")
        data = end.data if isinstance(end.data, dict) else {}
        return label, lookup(data.get("outputs", MISSING), parts)

    def do_p(self, arg: str) -> bool:
        """p PATH
        Print a value at a path.
        state.PATH: the state after the cursor's event; data.PATH: its payload;
        inputs.PATH / outputs.PATH: the selected frame's. A bare PATH is a state path."""
        label, value = self._read(arg)
        if value is MISSING:
            self.error(f"no {label} here (seq {self._cursor_seq()})")
            return False
        self.message(f"{label} = {_show(value)}")
        return False

    def do_pp(self, arg: str) -> bool:
        """pp PATH
        Pretty-print a value, as p reads it."""
        label, value = self._read(arg)
        if value is MISSING:
            self.error(f"no {label} here (seq {self._cursor_seq()})")
            return False
        self.message(f"{label} =")
        self.message(json_renderable(value))
        return False

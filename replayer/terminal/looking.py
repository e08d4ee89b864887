"""The stepper's commands that look at the cursor: state, delta, data, why, list, longlist.

They ask the `Replayer` (the state after an event, what an event changed,
the event that last set a value, the depth of an event) and only print the
answers. `Looking` is the base of the frame commands (`replayer.terminal.frames`),
the moves (`replayer.terminal.moving`) and the breakpoints
(`replayer.terminal.stepper.Stepper`).
"""

from __future__ import annotations

from typing import IO, Any

from rich.console import Console
from rich.text import Text

from storage import END_KINDS, Event, FlowtapeError
from storage.analysis.paths import (
    MISSING,
    Unknown,
    format_path,
    lookup,
    parse_state_path,
    pointer_parts,
)

from .._replayer import Replayer
from .._text import printable
from .._text import show_value as _show
from ..errors import StateUnknownError
from .console import json_renderable
from .shell import Refused, Shell, UsageError
from .timeline import describe, event_line, lane_width

__all__ = ["Looking"]


class Looking(Shell):
    """Commands that show the recording at the cursor of ``replayer`` (see the module)."""

    help_footer = ("Paths are state paths (cart.items[0] or state.cart.items[0]). "
                   "h COMMAND tells more.")

    def __init__(self, replayer: Replayer, console: Console, *, stdin: IO[str] | None = None,
                 interactive: bool | None = None) -> None:
        super().__init__(console, stdin=stdin, interactive=interactive)
        self.r = replayer
        self._seq_width = max(3, len(str(max(0, len(replayer) - 1))))
        self._lanes: int | None = None
        self._list_next: int | None = None  # where a repeated `l` goes on (None: around the cursor)

    # --- helpers --------------------------------------------------------------------
    def _need_events(self) -> None:
        if len(self.r) == 0:
            raise Refused("the recording has no events")

    def _cursor_seq(self) -> int:
        event = self.r.current
        assert event is not None  # the stepper keeps the cursor on an event
        return event.seq

    def _lane_width(self) -> int:
        """The lane column's width: 0 unless the run has more than one lane."""
        if self._lanes is None:
            self._lanes = lane_width(self.r.catalog().lanes)
        return self._lanes

    def _value(self, parts: list[str | int], seq: int | None) -> Any:
        """The value at ``parts`` after event ``seq`` (None: before the first event)."""
        return self.r.value_at(parts, seq)

    def _line(self, event: Event, marker: str | None = None, *, indent: bool = False) -> Text:
        duration = None
        if event.kind in END_KINDS and event.span is not None:
            try:
                duration = event.ts - self.r.get_event(event.span).ts
            except FlowtapeError:
                duration = None
        depth = self.r.depth_of(event) if indent else 0
        lanes = self._lane_width()
        bare = event_line(event, depth=depth, duration=duration, marker=marker,
                          seq_width=self._seq_width, lane_width=lanes)
        width = self.console.width - bare.cell_len - 3  # the detail fills the line
        detail = describe(event, width) if width >= 8 else ""
        return event_line(event, depth=depth, duration=duration, detail=detail,
                          marker=marker, seq_width=self._seq_width, lane_width=lanes)

    def _parse_path(self, arg: str) -> list[str | int]:
        try:
            return parse_state_path(arg)
        except ValueError as exc:
            raise UsageError(str(exc)) from None

    def _stops_at(self, event: Event) -> bool:
        """Whether a breakpoint stops at ``event`` (`list` marks it); none here."""
        return False

    # --- looking -----------------------------------------------------------------------
    def do_state(self, arg: str) -> bool:
        """state [PATH]
        Show the state after the cursor's event, or one value in it.
        PATH is a state path: cart.items[0], with or without a leading state."""
        self._need_events()
        seq = self._cursor_seq()
        parts = self._parse_path(arg) if arg else []
        value = self._value(parts, seq)
        if value is None and not parts:
            self.message(f"No state recorded yet at seq {seq}.")
            return False
        label = format_path(parts) or "state"
        if value is MISSING:
            self.error(f"no {label} in the state at seq {seq}")
            return False
        self._print_value(label, value)
        return False

    def _print_value(self, label: str, value: Any) -> None:
        text = _show(value)
        if len(label) + 3 + len(text) <= self.console.width:
            self.message(f"{label} = {text}")
        else:
            self.message(f"{label} =")
            self.message(json_renderable(value))

    def do_delta(self, arg: str) -> bool:
        """delta
        Show what the latest state event at or before the cursor changed.
        In a run without state events: the latest node_complete (its outputs)."""
        self._need_events()
        r = self.r
        at = self._cursor_seq()
        event = r.last_state_event(at)
        if event is None:
            self.message(f"No state event at or before seq {at}.")
            return False
        if event.seq != at:
            self.message(f"seq {at} is not a state event; the latest one before it is:")
            self.message(self._line(event, " "))
        head = f"seq {event.seq} ({event.kind})"
        position = r.position_of(event.seq)
        prev = r[position - 1].seq if position > 0 else None
        try:
            ops = r.state_delta(event.seq)
        except StateUnknownError as exc:
            # A truncated state is unknown as a whole: no patch can be told to or from it.
            now_all, was_all = self._value([], event.seq), self._value([], prev)
            if isinstance(now_all, Unknown):
                self.message(f"{head} changed the state to one the recording does not hold:")
                self.message(f"  state: {now_all}")
            elif isinstance(was_all, Unknown):
                self.message(f"{head} set the state; the state before it is unknown "
                             f"(truncated, {was_all.size_note}):")
                self.message(f"  state = {_show(now_all)}")
            else:  # events that may have changed it were lost to damage
                self.message(f"{head}: what it changed is not known ({exc.unknown})")
            return False
        if not ops:
            self.message(f"{head} did not change the state.")
            return False
        self._print_ops(head, ops, prev, event.seq)
        return False

    def _print_ops(self, head: str, ops: list[dict[str, Any]], prev: int | None,
                   seq: int) -> None:
        r = self.r
        before = r.get_state_at_event(prev) if prev is not None else None
        after = r.get_state_at_event(seq)
        self.message(f"{head} changed:")
        shown: set[tuple[str | int, ...]] = set()
        for op in ops:
            parts = pointer_parts(op.get("path", ""), before, after)
            was, now = lookup(before, parts), lookup(after, parts)
            removed = op.get("op") == "remove"
            for side in (was, now):  # a patch into a truncated value is a change of all of it
                if isinstance(side, Unknown) and len(side.where) < len(parts):
                    parts, removed = list(side.where), False
                    was, now = lookup(before, parts), lookup(after, parts)
            if tuple(parts) in shown:
                continue
            shown.add(tuple(parts))
            path = format_path(parts) or "state"
            if removed or now is MISSING:
                self.message(f"  {path}: removed (was {_show(was)})")
            elif was is MISSING:
                self.message(f"  {path}: added {_show(now)}")
            else:
                self.message(f"  {path}: {_show(was)} -> {_show(now)}")

    def do_data(self, arg: str) -> bool:
        """data
        Show the whole payload of the event at the cursor.
        Errors come with their traceback."""
        self._need_events()
        event = self.r.current
        assert event is not None
        if event.kind == "state":
            self.message(f"seq {event.seq} is a state event: state shows the state after it, "
                         "delta what it changed.")
            return False
        if event.data is None:
            self.message(f"seq {event.seq} ({event.kind}) carries no data.")
            return False
        data = event.data
        traceback = None
        if isinstance(data, dict) and isinstance(data.get("error"), dict) \
                and isinstance(data["error"].get("traceback"), str):
            traceback = data["error"]["traceback"]
            data = {**data, "error": {k: v for k, v in data["error"].items() if k != "traceback"}}
        self.message(json_renderable(data))
        if traceback:
            self.message(Text(printable(traceback.rstrip("\n")), style="dim"))
        return False

    def do_list(self, arg: str) -> bool:
        """l(ist) [SEQ]
        List 11 events around the cursor, or around SEQ.
        l again lists the next 11 (as in pdb).
        -> marks the cursor, B an event a breakpoint stops at."""
        self._need_events()
        r = self.r
        if arg:
            try:
                center = r.position_of(int(arg))
            except ValueError:
                raise UsageError(f"{arg!r} is not an event seq") from None
            lo = max(0, center - 5)
        elif self._list_next is not None:
            lo = self._list_next
            if lo >= len(r):
                self.error(f"no events after seq {r[-1].seq}")
                return False
        else:
            lo = max(0, r.position - 5)
        hi = min(len(r), lo + 11)
        if arg or self._list_next is None:
            lo = max(0, hi - 11)
        self._list_rows(range(lo, hi))
        self._list_next = hi
        return False

    do_l = do_list

    def do_longlist(self, arg: str) -> bool:
        """ll | longlist
        List the innermost span open at the cursor.
        From its start event to its end event (at most 200 events)."""
        self._need_events()
        r = self.r
        frames = r.frames_at(self._cursor_seq())
        if not frames:
            self.message(f"No span is open at seq {self._cursor_seq()}.")
            return False
        start = frames[-1]
        end = r.span_end(start)
        lo = r.position_of(start)
        hi = r.position_of(end) + 1 if end is not None else len(r)
        shown = min(hi, lo + self.longlist_limit)
        self._list_rows(range(lo, shown))
        if shown < hi:
            self.message(f"… {hi - shown} more events to seq {r[hi - 1].seq} "
                         f"(l {r[shown].seq} lists on from there)")
        return False

    do_ll = do_longlist
    #: The most events `ll` lists.
    longlist_limit = 200

    def _list_rows(self, positions: range) -> None:
        r = self.r
        for i in positions:
            event = r[i]
            mark = ("B" if self._stops_at(event) else "") + ("->" if i == r.position else "")
            self.message(self._line(event, mark, indent=True))

    def do_why(self, arg: str) -> bool:
        """why PATH
        Show the event that last changed a state value, up to the cursor.
        It names the event; `j SEQ` takes you there."""
        self._need_events()
        if not arg:
            raise UsageError("why needs a state path, like cart.items[0]")
        parts = self._parse_path(arg)
        label = format_path(parts) or "state"
        at = self._cursor_seq()
        change = self.r.last_change(parts, at=at)
        if change is None:
            self.message(f"{label} is not in the state at seq {at}: "
                         "nothing before the cursor set it.")
            return False
        event, was, now = change.event, change.before, change.after
        if isinstance(now, Unknown):
            what = "the state" if not now.where else \
                "it" if list(now.where) == parts else format_path(list(now.where))
            self.message(f"{label} is unknown at seq {at}: {what} was "
                         f"truncated at seq {event.seq} ({now.size_note}):")
        elif isinstance(was, Unknown):
            self.message(f"{label} = {_show(now)} was set at seq {event.seq} or earlier: "
                         f"the state before it is unknown (truncated, {was.size_note}):")
        else:
            self.message(f"{label} = {_show(now)} was last set at seq {event.seq} "
                         f"(was {_show(was)}):")
        self.message(self._line(event, " "))
        self.message(f"j {event.seq} takes you there.")
        return False

"""The stepper's moves: s, n, r, unt, c and their reverses, j, / and ?, lane, display.

Where a move lands is the `Replayer`'s answer (`step_target`, `next_target`,
`return_target`, `until_target`, `search`, `next_match`); this module only
parses the command, moves the cursor there and shows the event, then each
displayed value (with its old value where the move changed it). ``lane``
narrows every move to one lane's events; ``c``/``rc`` stop where a
breakpoint's condition holds (`replayer.terminal.breakpoints`) or a displayed
value changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from rich.console import Console
from rich.text import Text

from storage import START_KINDS, Event
from storage.analysis.paths import MISSING, Unknown, format_path, same

from .._replayer import Replayer
from .._text import plural, printable
from .._text import show_value as _show
from ..errors import EventNotFoundError
from .breakpoints import Breakpoint, Breakpoints
from .frames import Frames
from .shell import UsageError

__all__ = ["Moving"]


class Moving(Frames):
    """The commands that move the cursor (see the module)."""

    prefix_commands = {"/": "search", "?": "rsearch"}

    def __init__(self, replayer: Replayer, console: Console, *, stdin: IO[str] | None = None,
                 interactive: bool | None = None) -> None:
        super().__init__(replayer, console, stdin=stdin, interactive=interactive)
        self.breakpoints = Breakpoints()
        self.displays: dict[str, list[str | int]] = {}
        self.lane: str | None = None
        self._last_search: str | None = None

    # --- showing where a move landed -------------------------------------------------------
    def show_current(self, before: int | None = None) -> None:
        """Show the event at the cursor, then each display (with its old value if it changed).
        Every move selects the innermost frame again and starts `l` around the cursor."""
        self._selected = None
        self._list_next = None
        event = self.r.current
        if event is None:
            return
        self.message(self._line(event, ">"))
        for text, parts in self.displays.items():
            now = self._value(parts, event.seq)
            line = Text(f"  display {text} = {_show(now)}", style="yellow")
            if before is not None:
                was = self._value(parts, before)
                if not same(was, now):
                    line.append(f"  (was {_show(was)})", style="bold yellow")
            self.message(line)

    def _go(self, position: int | None, nothing: str) -> None:
        """Move to ``position`` and show it; None: say ``nothing`` and stay."""
        if position is None:
            self.error(nothing)
            return
        before = self._cursor_seq()
        self.r.jump_to_position(position)
        self.show_current(before)

    def _lane_note(self) -> str:
        return f" in lane {self.lane}" if self.lane is not None else ""

    # --- forward and back ------------------------------------------------------------------------
    def _step(self, arg: str, forward: bool) -> None:
        self._need_events()
        n = self._count(arg)
        target = self.r.step_target(self.r.position, n, forward=forward, lane=self.lane)
        self._go(target, f"already at the {'last' if forward else 'first'} event"
                         f"{self._lane_note()} (seq {self._cursor_seq()})")

    def do_step(self, arg: str) -> bool:
        """s(tep) [count]
        Go count events forward (default 1), into spans."""
        self._step(arg, forward=True)
        return False

    do_s = do_step

    def do_reverse_step(self, arg: str) -> bool:
        """rs | reverse-step [count]
        Go count events back (default 1), into spans."""
        self._step(arg, forward=False)
        return False

    do_rs = do_reverse_step

    def _next(self, arg: str, forward: bool) -> None:
        self._need_events()
        position = self.r.position
        for _ in range(self._count(arg)):
            target = self.r.next_target(position, forward=forward, lane=self.lane)
            if target is None:
                break
            position = target
        if position != self.r.position:
            self._go(position, "")
            return
        event = self.r.current
        assert event is not None
        if forward and event.kind in START_KINDS:
            self.error(f"the span that starts at seq {event.seq} never ended")
        else:
            self.error(f"no {'later' if forward else 'earlier'} event in this frame"
                       f"{self._lane_note()} (seq {event.seq})")

    def do_next(self, arg: str) -> bool:
        """n(ext) [count]
        Go forward to the next event of the current frame.
        On a span's start event, step over the whole span to its end event."""
        self._next(arg, forward=True)
        return False

    do_n = do_next

    def do_reverse_next(self, arg: str) -> bool:
        """rn | reverse-next [count]
        Go back to the previous event of the current frame.
        On a span's end event, step back over the whole span to its start event."""
        self._next(arg, forward=False)
        return False

    do_rn = do_reverse_next

    def _return(self, forward: bool) -> None:
        self._need_events()
        target = self.r.return_target(self.r.position, forward=forward, lane=self.lane)
        self._go(target, f"no open span {'ends after' if forward else 'starts before'} seq "
                         f"{self._cursor_seq()}{self._lane_note()}")

    def do_return(self, arg: str) -> bool:
        """r(eturn)
        Go forward to the end event of the innermost span open at the cursor."""
        self._return(forward=True)
        return False

    do_r = do_return

    def do_reverse_return(self, arg: str) -> bool:
        """rr | reverse-return
        Go back to the start event of the innermost span open at the cursor."""
        self._return(forward=False)
        return False

    do_rr = do_reverse_return

    def do_until(self, arg: str) -> bool:
        """unt(il) [SEQ]
        Go forward to the first event past SEQ, or out of the loop.
        Without SEQ: the first event of this frame after the loop, whose nodes
        are those that ran before the cursor and run again after it."""
        self._need_events()
        at = self._cursor_seq()
        seq = None
        if arg:
            try:
                seq = int(arg)
            except ValueError:
                raise UsageError(f"{arg!r} is not an event seq") from None
            if seq < at:
                raise UsageError(f"unt goes forward: SEQ must be at or after the cursor "
                                 f"(seq {at})")
        target = self.r.until_target(self.r.position, seq, lane=self.lane)
        self._go(target, f"no event{self._lane_note()} past "
                         f"{'seq ' + str(seq) if seq is not None else 'this loop'}")
        return False

    do_unt = do_until

    def do_jump(self, arg: str) -> bool:
        """j(ump) SEQ
        Go to the event with this seq; a negative number counts from the end."""
        self._need_events()
        try:
            seq = int(arg)
        except ValueError:
            raise UsageError("jump needs an event seq" if not arg else
                             f"{arg!r} is not an event seq") from None
        before = self._cursor_seq()
        if seq < 0:
            if not self.r.jump_to_position(len(self.r) + seq):
                raise UsageError(f"there {'is' if len(self.r) == 1 else 'are'} only "
                                 f"{plural(len(self.r), 'event')}")
        elif not 0 <= seq <= self.r[-1].seq or not self._jump_seq(seq):
            self.error(f"no event has seq {seq} (seq {self.r[0].seq}..{self.r[-1].seq})")
            return False
        self.show_current(before)
        return False

    def _jump_seq(self, seq: int) -> bool:
        try:
            self.r.jump_to_event(seq)
        except EventNotFoundError:
            return False  # a gap in a damaged recording
        return True

    do_j = do_jump

    # --- continuing to a breakpoint or a displayed change ----------------------------------------
    def _hit(self) -> tuple[Callable[[Event], bool], list[str], list[Breakpoint]]:
        """A predicate for c/rc: a breakpoint stops here, or a displayed value changes."""
        reasons: list[str] = []
        hits: list[Breakpoint] = []
        changing = self.r.changing_kinds
        lane = self.lane

        def hit(event: Event) -> bool:
            if lane is not None and event.lane != lane:
                return False
            reasons.clear()
            hits[:] = self.breakpoints.stopping(self.r, event)
            reasons.extend(f"breakpoint {bp.number} ({bp.where})" for bp in hits)
            if self.displays and event.kind in changing:
                for text, parts in self.displays.items():
                    change = self.r.value_change(parts, event.seq)
                    if change is not None:
                        reasons.append(f"display {text} {_change(change.before, change.after)}")
            return bool(reasons)

        return hit, reasons, hits

    def _continue(self, forward: bool) -> None:
        self._need_events()
        r = self.r
        end = r.step_target(r.position, len(r), forward=forward, lane=self.lane)
        if end is None:  # the last (first) event, of the lane followed
            self.error(f"already at the {'last' if forward else 'first'} event"
                       f"{self._lane_note()} (seq {self._cursor_seq()})")
            return
        before = self._cursor_seq()
        hit, reasons, hits = self._hit()
        found = r.next_match(where=hit) if forward else r.prev_match(where=hit)
        if found is None:
            what = "breakpoint or display change" if self.breakpoints or self.displays \
                else "breakpoint set"
            r.jump_to_position(end)
            self.message(f"No {what} {'after' if forward else 'before'} seq {before}; "
                         f"at the {'last' if forward else 'first'} event{self._lane_note()}.")
        else:
            self.breakpoints.stopped(hits)
            self.message(Text(printable("; ".join(reasons), one_line=True) +
                              f" at seq {found.seq}", style="bold"))
            for bp in hits:
                if bp.temporary:
                    self.message(f"Deleted temporary breakpoint {bp.number}.")
        self.show_current(before)

    def do_continue(self, arg: str) -> bool:
        """c(ontinue) | cont
        Go forward to the next breakpoint hit or displayed change."""
        self._continue(forward=True)
        return False

    do_c = do_cont = do_continue

    def do_reverse_continue(self, arg: str) -> bool:
        """rc | reverse-continue
        Go back to the previous breakpoint hit or displayed change."""
        self._continue(forward=False)
        return False

    do_rc = do_reverse_continue

    # --- searching ----------------------------------------------------------------------------
    def _search(self, arg: str, forward: bool) -> None:
        self._need_events()
        text = arg or self._last_search
        if not text:
            raise UsageError("type the text to look for after / or ?")
        self._last_search = text
        found = self.r.search(self.r.position, text, forward=forward, lane=self.lane)
        if found is None:
            self.error(f"no event{self._lane_note()} contains {text!r}")
            return
        if found.wrapped:
            self.message(f"(search wrapped around to the {'start' if forward else 'end'})")
        self._go(found.position, "")

    def do_search(self, arg: str) -> bool:
        """/TEXT
        Go to the next event whose kind, node or data contains TEXT.
        The search wraps around the end, with a note. Smart case: lower-case TEXT
        matches either case. / alone repeats the last search."""
        self._search(arg, forward=True)
        return False

    def do_rsearch(self, arg: str) -> bool:
        """?TEXT
        Go to the previous event whose kind, node or data contains TEXT.
        The search wraps around the start, with a note. ? alone repeats the
        last search backwards."""
        self._search(arg, forward=False)
        return False

    # --- lanes and displays -------------------------------------------------------------------
    def do_lane(self, arg: str) -> bool:
        """lane [NAME|-]
        Follow one lane (a thread or task), or all again with -.
        Every move then skips the events of other lanes. Without an argument,
        list the lanes."""
        lanes = self.r.catalog().lanes
        if not arg:
            following = f"following lane {self.lane}" if self.lane else "following all lanes"
            self.message(f"Lanes: {', '.join(lanes) or '(none)'}; {following}.")
            return False
        if arg == "-":
            self.lane = None
            self.message("Following all lanes.")
            return False
        if arg not in lanes:
            raise UsageError(f"no lane {arg!r}; the lanes are {', '.join(lanes) or '(none)'}")
        self.lane = arg
        self.message(f"Following lane {arg}: moves skip the events of other lanes.")
        return False

    def do_display(self, arg: str) -> bool:
        """display [PATH] | watch [PATH]
        Show a state value after every move; c/rc stop where it changes.
        Without an argument, list the displays with their values."""
        if not arg:
            if not self.displays:
                self.message("No displays.")
            for text, parts in self.displays.items():
                self.message(f"display {text} = {_show(self._here(parts))}")
            return False
        parts = self._parse_path(arg)
        text = format_path(parts) or "state"
        self.displays[text] = parts
        self.message(f"display {text} = {_show(self._here(parts))}")
        return False

    do_watch = do_display

    def _here(self, parts: list[str | int]) -> Any:
        return self._value(parts, self._cursor_seq()) if len(self.r) else MISSING

    def do_undisplay(self, arg: str) -> bool:
        """undisplay [PATH]
        Stop displaying this path, or every path without an argument."""
        if not arg:
            n = len(self.displays)
            self.displays.clear()
            self.message(f"Removed {plural(n, 'display')}.")
            return False
        text = format_path(self._parse_path(arg)) or "state"
        if self.displays.pop(text, None) is None:
            raise UsageError(f"{text} is not displayed; display lists them")
        self.message(f"Stopped displaying {text}")
        return False

    do_unwatch = do_undisplay


def _change(was: Any, now: Any) -> str:
    """How a displayed value changed, when a truncated state makes one side unknown."""
    if isinstance(now, Unknown) and not isinstance(was, Unknown):
        return "became unknown"
    if isinstance(was, Unknown) and not isinstance(now, Unknown):
        return "is known again"
    return "changed"

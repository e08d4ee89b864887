"""The interactive step-through of `flowtape replay ID --step`, built like pdb on cmd.

`Stepper` is the commands that move (next, back, jump, continue,
reverse-continue, find) and the breakpoints and watches that stop them, over
the commands that look (`replayer.terminal.looking`) and the pdb-style loop
(`replayer.terminal.shell`: usage lines, aliases, an empty line repeating the
last command, one injected rich `Console`, mistakes that print and never
raise).

The stepper keeps no cursor of its own: every move goes through the
`Replayer` (position, jumps, searches), and every question — which spans are
open, who set a value, did a watched value change — is a `Replayer` method,
as pdb leaves tracing to bdb. What the stepper owns is its breakpoints and
watches, per instance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

import msgspec
from rich.console import Console
from rich.text import Text

from storage import EVENT_KINDS, Event
from storage.analysis.paths import MISSING, Unknown, format_path, node_matches, same

from .._replayer import Replayer
from .._text import plural, printable
from .._text import show_value as _show
from ..errors import EventNotFoundError
from .looking import Looking
from .shell import UsageError

__all__ = ["Stepper"]

_canonical = msgspec.json.Encoder(order="sorted")


class _Breakpoint(msgspec.Struct, kw_only=True):
    number: int
    what: str
    by_kind: bool

    def matches(self, event: Event) -> bool:
        if self.by_kind:
            return event.kind == self.what
        return node_matches(event.node, self.what)


class Stepper(Looking):
    """Step through a recording like pdb: ``Stepper(replayer, console).cmdloop()``.

    ``stdin`` defaults to ``sys.stdin``; ``interactive`` (default: whether
    ``stdin`` is a terminal) reads with ``input()`` and the prompt, else
    lines are read as they come and echoed after the prompt.
    """

    def __init__(self, replayer: Replayer, console: Console, *, stdin: IO[str] | None = None,
                 interactive: bool | None = None) -> None:
        super().__init__(replayer, console, stdin=stdin, interactive=interactive)
        self.breakpoints: list[_Breakpoint] = []
        self._next_bp = 1
        self.watches: dict[str, list[str | int]] = {}

    def cmdloop(self, *, intro: bool = True) -> int:
        """Read and run commands until ``q`` or the end of input; returns the exit code (0)."""
        if len(self.r) and self.r.current is None:
            self.r.jump_to_position(len(self.r) - 1)  # the stepper's cursor is on an event
        return super().cmdloop(intro=intro)

    def preloop(self) -> None:
        """Say what is open and show the event at the cursor."""
        r = self.r
        head = r.header
        self.message(Text.assemble(
            (printable(head.workflow, one_line=True), "bold"),
            f" {r.recording_id} · {plural(len(r), 'event')} · ",
            (r.reader.status, "bold"), " · h for help, q to quit"))
        if len(r) == 0:
            self.message("The recording has no events.")
        else:
            self.show_current()

    def show_current(self, before: int | None = None) -> None:
        """Show the event at the cursor, then each watch (with its old value if it changed)."""
        event = self.r.current
        if event is None:
            return
        self.message(self._line(event, ">"))
        for text, parts in self.watches.items():
            now = self._value(parts, event.seq)
            line = Text(f"  watch {text} = {_show(now)}", style="yellow")
            if before is not None:
                was = self._value(parts, before)
                if not same(was, now):
                    line.append(f"  (was {_show(was)})", style="bold yellow")
            self.message(line)

    def _go(self, position: int) -> None:
        """Move the cursor through the replayer and show where it landed."""
        before = self._cursor_seq()
        if not self.r.jump_to_position(position):
            raise UsageError(f"no event at position {position}")
        self.show_current(before)

    # --- moving ----------------------------------------------------------------------
    def do_next(self, arg: str) -> bool:
        """n(ext) [count]
        Step forward count events (default 1)."""
        self._need_events()
        n = self._count(arg)
        last = len(self.r) - 1
        if self.r.position >= last:
            self.error(f"already at the last event (seq {self._cursor_seq()})")
            return False
        self._go(min(self.r.position + n, last))
        return False

    do_n = do_next

    def do_back(self, arg: str) -> bool:
        """b(ack) [count]
        Step backward count events (default 1)."""
        self._need_events()
        n = self._count(arg)
        if self.r.position <= 0:
            self.error(f"already at the first event (seq {self._cursor_seq()})")
            return False
        self._go(max(self.r.position - n, 0))
        return False

    do_b = do_back

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

    def _hit(self) -> tuple[Callable[[Event], bool], list[str]]:
        """A predicate for searches: a breakpoint matches, or a watched value changes."""
        reasons: list[str] = []
        changing = self.r.changing_kinds

        def hit(event: Event) -> bool:
            reasons.clear()
            reasons.extend(f"breakpoint {bp.number} ({bp.what})" for bp in self.breakpoints
                           if bp.matches(event))
            if self.watches and event.kind in changing:
                for text, parts in self.watches.items():
                    change = self.r.value_change(parts, event.seq)
                    if change is not None:
                        reasons.append(f"watch {text} {_change(change.before, change.after)}")
            return bool(reasons)

        return hit, reasons

    def _continue(self, forward: bool) -> None:
        self._need_events()
        r = self.r
        end = len(r) - 1 if forward else 0
        if r.position == end:
            self.error(f"already at the {'last' if forward else 'first'} event "
                       f"(seq {self._cursor_seq()})")
            return
        before = self._cursor_seq()
        hit, reasons = self._hit()
        found = r.next_match(where=hit) if forward else r.prev_match(where=hit)
        if found is None:
            what = "breakpoint or watch change" if self.breakpoints or self.watches \
                else "breakpoint set"
            r.jump_to_position(end)
            self.message(f"No {what} {'after' if forward else 'before'} seq {before}; "
                         f"at the {'last' if forward else 'first'} event.")
        else:
            self.message(Text(printable("; ".join(reasons), one_line=True) +
                              f" at seq {found.seq}", style="bold"))
        self.show_current(before)

    def do_continue(self, arg: str) -> bool:
        """c(ontinue)
        Go forward to the next breakpoint or watched change."""
        self._continue(forward=True)
        return False

    do_c = do_cont = do_continue

    def do_reverse_continue(self, arg: str) -> bool:
        """rc | reverse-continue
        Go back to the previous breakpoint or watched change."""
        self._continue(forward=False)
        return False

    do_rc = do_reverse_continue

    def do_find(self, arg: str) -> bool:
        """find TEXT
        Go to the next event whose node, kind or data contains TEXT.
        The data of a state event is its snapshot or patch."""
        self._need_events()
        if not arg:
            raise UsageError("find needs the text to look for")

        def contains(event: Event) -> bool:
            if arg in event.kind or (event.node is not None and arg in event.node):
                return True
            # A state event's payload is its snapshot or patch.
            return any(value is not None and arg in _canonical.encode(value).decode()
                       for value in (event.data, event.state, event.patch))

        before = self._cursor_seq()
        if self.r.next_match(where=contains) is None:
            self.error(f"no event after seq {before} contains {arg!r}")
            return False
        self.show_current(before)
        return False

    # --- breakpoints and watches ---------------------------------------------------------
    def do_break(self, arg: str) -> bool:
        """break [NODE|KIND]
        Stop c/rc at events of this kind, or about this node; list them.
        NODE may be a glob (fetch_*). Without an argument, list the breakpoints."""
        if not arg:
            if not self.breakpoints:
                self.message("No breakpoints.")
                return False
            self.message(Text("Num  Type  Stops at", style="bold"))
            for bp in self.breakpoints:
                self.message(f"{bp.number:<4} {'kind' if bp.by_kind else 'node'}  {bp.what}")
            return False
        if " " in arg:
            raise UsageError("break takes one node name or event kind")
        by_kind = arg in EVENT_KINDS
        if any(bp.what == arg for bp in self.breakpoints):
            self.error(f"there is already a breakpoint at {arg}")
            return False
        bp = _Breakpoint(number=self._next_bp, what=arg, by_kind=by_kind)
        self._next_bp += 1
        self.breakpoints.append(bp)
        matched = any(bp.matches(e) for e in self.r.iter_events()) if len(self.r) else False
        note = "" if matched else " (no event in this recording matches it)"
        self.message(f"Breakpoint {bp.number} at {'kind' if by_kind else 'node'} {arg}{note}")
        return False

    def do_clear(self, arg: str) -> bool:
        """cl(ear) [N|NODE|KIND]
        Delete a breakpoint (by number or by what it stops at), or all."""
        if not arg:
            n = len(self.breakpoints)
            self.breakpoints.clear()
            self.message(f"Deleted {plural(n, 'breakpoint')}.")
            return False
        gone = [bp for bp in self.breakpoints if str(bp.number) == arg or bp.what == arg]
        if not gone:
            raise UsageError(f"no breakpoint {arg!r}; `break` lists them")
        for bp in gone:
            self.breakpoints.remove(bp)
            self.message(f"Deleted breakpoint {bp.number} at {bp.what}")
        return False

    do_cl = do_clear

    def do_watch(self, arg: str) -> bool:
        """watch [PATH]
        Show a state value after every move; c/rc stop where it changes.
        Without an argument, list the watches with their values."""
        if not arg:
            if not self.watches:
                self.message("No watches.")
            for text, parts in self.watches.items():
                value = self._value(parts, self._cursor_seq()) if len(self.r) else MISSING
                self.message(f"watch {text} = {_show(value)}")
            return False
        parts = self._parse_path(arg)
        text = format_path(parts) or "state"
        self.watches[text] = parts
        value = self._value(parts, self._cursor_seq()) if len(self.r) else MISSING
        self.message(f"Watching {text} = {_show(value)}")
        return False

    def do_unwatch(self, arg: str) -> bool:
        """unwatch [PATH]
        Stop watching this path, or every path without an argument."""
        if not arg:
            n = len(self.watches)
            self.watches.clear()
            self.message(f"Removed {plural(n, 'watch', 'watches')}.")
            return False
        text = format_path(self._parse_path(arg)) or "state"
        if self.watches.pop(text, None) is None:
            raise UsageError(f"{text} is not watched; `watch` lists the watches")
        self.message(f"Stopped watching {text}")
        return False

    def _stops_at(self, event: Event) -> bool:
        return any(bp.matches(event) for bp in self.breakpoints)


def _change(was: Any, now: Any) -> str:
    """How a watched value changed, when a truncated state makes one side unknown."""
    if isinstance(now, Unknown) and not isinstance(was, Unknown):
        return "became unknown"
    if isinstance(was, Unknown) and not isinstance(now, Unknown):
        return "is known again"
    return "changed"

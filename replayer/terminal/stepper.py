"""The interactive step-through of `flowtape replay ID --step`, built like pdb on cmd.

Each command is a ``do_<name>`` method whose docstring's first line is its
usage (``n(ext) [count]``), shown after a bad argument; aliases are
assignments (``do_n = do_next``); an empty line repeats the last command,
while Ctrl-C at the prompt only discards the typed line; unknown input is
reported by `Stepper.default`. Everything goes to the screen
through one injected rich `Console` (`Stepper.message` / `Stepper.error`),
and a user's mistake prints — it never raises out of the loop.

The stepper keeps no cursor of its own: every move goes through the
`Replayer` (position, jumps, searches), as pdb leaves tracing to bdb. What
the stepper owns is its breakpoints and watches, per instance.

Commands come from ``cmdqueue`` first, then from the input stream: on a
terminal with ``input()`` (readline editing and history); otherwise line by
line with each command echoed after the prompt, so piped commands give the
same screen a terminal would.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import IO, Any

import msgspec
from rich.console import Console, RenderableType
from rich.text import Text

from storage import END_KINDS, EVENT_KINDS, Event, FlowtapeError
from storage.analysis.paths import (
    MISSING,
    Unknown,
    format_path,
    lookup,
    node_matches,
    parse_state_path,
    pointer_parts,
    same,
)

from .._replayer import Replayer
from .._text import plural, printable
from .._text import show_value as _show
from ..errors import EventNotFoundError, StateUnknownError
from .console import json_renderable
from .timeline import Nesting, describe, event_line

__all__ = ["Stepper"]

_canonical = msgspec.json.Encoder(order="sorted")


class UsageError(Exception):
    """A command got an argument it cannot use; the loop prints it and the usage."""


class Refused(Exception):
    """A command cannot run here (no events); the loop prints why."""


class _Breakpoint(msgspec.Struct, kw_only=True):
    number: int
    what: str
    by_kind: bool

    def matches(self, event: Event) -> bool:
        if self.by_kind:
            return event.kind == self.what
        return node_matches(event.node, self.what)


class Stepper:
    """Step through a recording like pdb: ``Stepper(replayer, console).cmdloop()``.

    ``stdin`` defaults to ``sys.stdin``; ``interactive`` (default: whether
    ``stdin`` is a terminal) reads with ``input()`` and the prompt, else
    lines are read as they come and echoed after the prompt.
    """

    prompt = "(flowtape) "

    def __init__(self, replayer: Replayer, console: Console, *, stdin: IO[str] | None = None,
                 interactive: bool | None = None) -> None:
        self.r = replayer
        self.console = console
        self.stdin = stdin if stdin is not None else sys.stdin
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self.cmdqueue: list[str] = []
        self._line_editing = False  # readline draws the input line (and does not echo ^C)
        self.lastcmd = ""
        self.breakpoints: list[_Breakpoint] = []
        self._next_bp = 1
        self.watches: dict[str, list[str | int]] = {}
        self._nesting: Nesting | None = None
        self._seq_width = max(3, len(str(max(0, len(replayer) - 1))))

    # --- output --------------------------------------------------------------------
    def message(self, text: RenderableType = "") -> None:
        """Print a line (or any rich renderable).

        A plain string may quote the recording: its control characters are
        shown (`printable`) and it is never read as markup or emoji codes. A
        `Text` is printed as built — whoever builds one from recorded text
        makes that text printable.
        """
        if isinstance(text, str):
            text = Text(printable(text))
        self.console.print(text, highlight=False)

    def error(self, text: str) -> None:
        """Print a user's mistake, pdb-style (``*** ...``)."""
        self.console.print(Text("*** " + printable(text), style="red"), highlight=False)

    # --- the loop ---------------------------------------------------------------------
    def cmdloop(self, *, intro: bool = True) -> int:
        """Read and run commands until ``q`` or the end of input; returns the exit code (0)."""
        if self.interactive:
            with contextlib.suppress(ImportError):  # line editing and history for input()
                import readline  # noqa: F401, PLC0415 (only a terminal session wants it)
                self._line_editing = True
        if len(self.r) and self.r.current is None:
            self.r.jump_to_position(len(self.r) - 1)  # the stepper's cursor is on an event
        if intro:
            self.preloop()
        while True:
            if self.cmdqueue:
                line: str | None = self.cmdqueue.pop(0)
                self._echo(line or "")
            else:
                try:
                    line = self._read_line()
                except KeyboardInterrupt:
                    self._discard_line()
                    continue
            if line is None:
                return 0
            try:
                if self.onecmd(line):
                    return 0
            except KeyboardInterrupt:
                self.error("interrupted")

    def _echo(self, line: str) -> None:
        if not self.interactive:
            self.message(Text(printable(self.prompt + line.rstrip("\r\n"), one_line=True)))

    def _read_line(self) -> str | None:
        """The next command line, or None at the end of input (Ctrl-D)."""
        if self.interactive:
            try:
                return input(self.prompt)
            except EOFError:
                self.message()
                return None
        line = self.stdin.readline()
        if not line:
            return None
        self._echo(line)
        return line

    def _discard_line(self) -> None:
        """Ctrl-C at the prompt: drop what was typed and give a fresh prompt, as pdb does.

        It is not an empty line, so it never repeats the last command. On a
        terminal the prompt and the half-typed line are already on screen (and
        without readline the terminal itself echoes ``^C``); from a pipe nothing
        of it has been echoed, so the prompt is shown too.
        """
        if not self.interactive:
            self.message(Text(self.prompt + "^C"))
        else:
            self.message("" if not self._line_editing else Text("^C"))

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

    def onecmd(self, line: str) -> bool:
        """Run one command line; True means stop the loop."""
        line = line.strip()
        if not line:
            return self.emptyline()
        self.lastcmd = line
        name, _, arg = line.partition(" ")
        name = name.replace("-", "_")
        func: Callable[[str], bool | None] | None = \
            getattr(self, "do_" + name, None) if name.isidentifier() else None
        if func is None:
            return self.default(line)
        try:
            return bool(func(arg.strip()))
        except UsageError as exc:
            self.error(str(exc))
            self.error("usage: " + _usage(func))
        except (Refused, FlowtapeError, ValueError, LookupError) as exc:
            self.error(str(exc))
        return False

    def emptyline(self) -> bool:
        """An empty line repeats the last command (as in pdb)."""
        return self.onecmd(self.lastcmd) if self.lastcmd else False

    def default(self, line: str) -> bool:
        """Unknown input: say so and point at help."""
        name = line.split(maxsplit=1)[0]
        self.error(f"unknown command {name!r}; type h for the list of commands")
        return False

    # --- helpers --------------------------------------------------------------------
    def _need_events(self) -> None:
        if len(self.r) == 0:
            raise Refused("the recording has no events")

    def _count(self, arg: str) -> int:
        if not arg:
            return 1
        try:
            n = int(arg)
        except ValueError:
            raise UsageError(f"{arg!r} is not a count") from None
        if n < 1:
            raise UsageError(f"the count must be at least 1, not {n}")
        return n

    def _cursor_seq(self) -> int:
        event = self.r.current
        assert event is not None  # the stepper keeps the cursor on an event
        return event.seq

    def _depths(self) -> Nesting:
        if self._nesting is None:
            self._nesting = Nesting.from_spans(self.r.spans())
        return self._nesting

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
        depth = self._depths().depth(event) if indent else 0
        bare = event_line(event, depth=depth, duration=duration, marker=marker,
                          seq_width=self._seq_width)
        width = max(20, self.console.width - bare.cell_len - 3)  # the detail fills the line
        return event_line(event, depth=depth, duration=duration, detail=describe(event, width),
                          marker=marker, seq_width=self._seq_width)

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
            self.message(f"Deleted {n} breakpoint{'s' if n != 1 else ''}.")
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
            self.message(f"Removed {n} watch{'es' if n != 1 else ''}.")
            return False
        text = format_path(self._parse_path(arg)) or "state"
        if self.watches.pop(text, None) is None:
            raise UsageError(f"{text} is not watched; `watch` lists the watches")
        self.message(f"Stopped watching {text}")
        return False

    def _parse_path(self, arg: str) -> list[str | int]:
        try:
            return parse_state_path(arg)
        except ValueError as exc:
            raise UsageError(str(exc)) from None

    # --- looking -----------------------------------------------------------------------
    def do_state(self, arg: str) -> bool:
        """s(tate) [PATH]
        Show the state after the event at the cursor, or one value in it.
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

    do_s = do_state

    def _print_value(self, label: str, value: Any) -> None:
        text = _show(value)
        if len(label) + 3 + len(text) <= self.console.width:
            self.message(f"{label} = {text}")
        else:
            self.message(f"{label} =")
            self.message(json_renderable(value))

    def do_delta(self, arg: str) -> bool:
        """d(elta)
        Show what the event at the cursor changed in the state."""
        self._need_events()
        r = self.r
        event = r.current
        assert event is not None
        head = f"seq {event.seq} ({event.kind})"
        prev = r[r.position - 1].seq if r.position > 0 else None
        try:
            ops = r.state_delta(event.seq)
        except StateUnknownError as exc:
            # A truncated state is unknown as a whole: no patch can be told to or from it.
            now_all, was_all = self._value([], event.seq), self._value([], prev)
            if not isinstance(now_all, Unknown):
                size = was_all.size_note if isinstance(was_all, Unknown) else "lost"
                self.message(f"{head} set the state; the state before it is unknown "
                             f"(truncated, {size}):")
                self.message(f"  state = {_show(now_all)}")
            elif isinstance(was_all, Unknown):
                self.message(f"{head}: what it changed is not known ({exc.unknown})")
            else:
                self.message(f"{head} changed the state to one the recording does not hold:")
                self.message(f"  state: {now_all}")
            return False
        if not ops:
            self.message(f"{head} did not change the state.")
            return False
        before = r.get_state_at_event(prev) if prev is not None else None
        after = r.get_state_at_event(event.seq)
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
        return False

    do_d = do_delta

    def do_data(self, arg: str) -> bool:
        """data
        Show the whole payload of the event at the cursor.
        Errors come with their traceback."""
        self._need_events()
        event = self.r.current
        assert event is not None
        if event.kind == "state":
            self.message(f"seq {event.seq} is a state event: s shows the state after it, "
                         "d what it changed.")
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

    def do_where(self, arg: str) -> bool:
        """w(here)
        Show the stack of spans open at the cursor, the workflow first."""
        self._need_events()
        event = self.r.current
        assert event is not None
        chain = self.r.open_spans_at(event.seq)
        if not chain:
            self.message(f"No span is open at seq {event.seq}.")
            return False
        for depth, s in enumerate(chain):
            innermost = depth == len(chain) - 1
            line = Text("> " if innermost else "  ")
            line.append("  " * depth + printable(s.kind, one_line=True) + " ")
            line.append(printable(s.node, one_line=True), style="bold")
            line.append(f"  (seq {s.start_seq}", style="dim")
            if s.attempt > 1:
                line.append(f", attempt {s.attempt}", style="dim")
            if innermost and event.seq == s.start_seq:
                line.append(", starts here", style="dim")
            elif innermost and event.seq == s.end_seq:
                line.append(f", {'fails' if s.status == 'failed' else 'ends'} here", style="dim")
            line.append(")", style="dim")
            self.message(line)
        return False

    do_w = do_where

    def do_list(self, arg: str) -> bool:
        """l(ist) [SEQ]
        List the events around the cursor, or around SEQ.
        -> marks the cursor, B an event a breakpoint stops at."""
        self._need_events()
        r = self.r
        if arg:
            try:
                center = r.position_of(int(arg))
            except ValueError:
                raise UsageError(f"{arg!r} is not an event seq") from None
        else:
            center = r.position
        lo = max(0, center - 5)
        hi = min(len(r), lo + 11)
        lo = max(0, hi - 11)
        for i in range(lo, hi):
            event = r[i]
            mark = ("B" if any(bp.matches(event) for bp in self.breakpoints) else "") + \
                ("->" if i == r.position else "")
            self.message(self._line(event, mark, indent=True))
        return False

    do_l = do_list

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

    # --- help and leaving ---------------------------------------------------------------
    def _commands(self) -> list[Callable[[str], bool]]:
        seen: list[Callable[[str], bool]] = []
        for name in dir(type(self)):
            if name.startswith("do_"):
                func = getattr(self, name)
                if all(f.__func__ is not func.__func__ for f in seen):  # type: ignore[attr-defined]
                    seen.append(func)
        order = list(type(self).__dict__)
        seen.sort(key=lambda f: order.index(f.__name__))
        return seen

    def do_help(self, arg: str) -> bool:
        """h(elp) [COMMAND]
        List the commands, or show how one is used."""
        if arg:
            name = arg.replace("-", "_")
            func = getattr(self, "do_" + name, None)
            if func is None:
                self.error(f"no command {arg!r}; type h for the list")
                return False
            usage, *rest = (func.__doc__ or "").splitlines()
            self.message(Text(usage.strip(), style="bold"))
            for line in rest:
                self.message("    " + line.strip())
            return False
        self.message("Commands (an empty line repeats the last one):")
        for func in self._commands():
            usage, _, rest = (func.__doc__ or "").partition("\n")
            summary = rest.strip().splitlines()[0] if rest.strip() else ""
            self.message(Text.assemble(f"  {usage.strip():<24}", summary))
        self.message("Paths are state paths (cart.items[0] or state.cart.items[0]). "
                     "h COMMAND tells more.")
        return False

    do_h = do_help

    def do_quit(self, arg: str) -> bool:
        """q(uit)
        Leave the stepper."""
        return True

    do_q = do_exit = do_quit


def _usage(func: Callable[..., Any]) -> str:
    return (func.__doc__ or "").splitlines()[0].strip()


def _change(was: Any, now: Any) -> str:
    """How a watched value changed, when a truncated state makes one side unknown."""
    if isinstance(now, Unknown) and not isinstance(was, Unknown):
        return "became unknown"
    if isinstance(was, Unknown) and not isinstance(now, Unknown):
        return "is known again"
    return "changed"

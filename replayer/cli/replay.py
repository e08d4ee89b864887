"""`flowtape replay`: a recording as a timeline, step by step (``--step``), or live (``--follow``).

The timeline prints one line per event (`replayer.terminal.timeline`), with the lane column
when the run has more than one lane (``--lane NAME`` keeps one); ``--step`` hands
the recording to the interactive `Stepper`; ``--follow`` prints events as
another process appends them (`Replayer.follow`) until the footer arrives.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterable

from rich.console import Console
from rich.text import Text

from storage import EVENT_KINDS, CorruptRecordingError, Event
from storage.analysis.paths import lookup

from .._queries import matcher
from .._replayer import Replayer
from .._text import fmt_ns, json_text, plural, printable, show_value
from ..terminal.console import progress
from ..terminal.stepper import Stepper
from ..terminal.timeline import Nesting, describe, event_line, lane_width, status_style

NAME = "replay"
HELP = "show a recording's events as a timeline (--step: step through it; --follow: tail it)"

#: How often --follow looks for new frames.
POLL_SECONDS = 0.1
#: How long --follow waits for a file whose header is not written yet.
OPEN_WAIT_SECONDS = 5.0
#: Kinds whose payload the timeline leaves to --show-data (their detail is inputs/outputs).
_PLAIN_KINDS = frozenset({"workflow_start", "workflow_complete", "node_start", "node_complete",
                          "team_start", "team_complete", "team_member_start",
                          "team_member_complete"})


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recording", metavar="ID",
                        help="a recording id, unique id prefix, `latest`, or a file")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--step", action="store_true",
                      help="step through the events interactively (h lists the commands)")
    mode.add_argument("--follow", "-f", action="store_true",
                      help="print events as they are written; stop when the run ends")
    parser.add_argument("--show-data", action="store_true",
                        help="print each event's data (inputs, outputs, errors, messages)")
    parser.add_argument("--show-state", action="store_true",
                        help="print the state after each event that changes it")
    parser.add_argument("--from", dest="from_seq", type=int, metavar="SEQ",
                        help="start at this event (with --step: put the cursor there)")
    parser.add_argument("--kind", action="append", default=[], metavar="KIND",
                        help="only events of this kind (repeatable; with --step: breakpoints)")
    parser.add_argument("--node", metavar="GLOB",
                        help="only events about matching nodes (with --step: a breakpoint)")
    parser.add_argument("--lane", metavar="NAME",
                        help="only the events of one lane, a thread or task (with --step: "
                             "follow it)")
    parser.add_argument("--limit", type=int, metavar="N", help="print at most N events")
    parser.add_argument("--recover", action="store_true",
                        help="skip damaged frames instead of stopping at the first")


def _check_args(args: argparse.Namespace) -> None:
    unknown = [k for k in args.kind if k not in EVENT_KINDS]
    if unknown:
        raise ValueError(f"unknown event kind {unknown[0]!r}; choose from "
                         f"{', '.join(EVENT_KINDS)}")
    if args.limit is not None and args.limit < 0:
        raise ValueError(f"--limit must be 0 or more, not {args.limit}")
    if args.from_seq is not None and args.from_seq < 0:
        raise ValueError(f"--from must be an event seq (0 or more), not {args.from_seq}")


def _lane(args: argparse.Namespace) -> str | None:
    """``--lane`` (a namespace built by another command, as `demo` does, may not have it)."""
    return getattr(args, "lane", None)


def _matcher(args: argparse.Namespace) -> Callable[[Event], bool]:
    lane = _lane(args)
    return matcher(kind=args.kind or None, node=args.node,
                   where=None if lane is None else lambda e: e.lane == lane)


def check_lane(r: Replayer, lane: str | None) -> None:
    """A ``--lane`` the recording does not have is an error naming the lanes it has."""
    if lane is None:
        return
    lanes = r.catalog().lanes
    if lane not in lanes:
        raise ValueError(f"no lane {lane!r} in {r.recording_id}; its lanes are "
                         f"{', '.join(lanes) or '(none)'}")


def run(args: argparse.Namespace, console: Console) -> int:
    _check_args(args)
    if args.follow:
        return follow(args, console)
    with Replayer.open(args.recording, args.store, recover=args.recover) as r:
        check_lane(r, _lane(args))
        if args.step:
            return step(r, args, console)
        return timeline(r, args, console)


def headline(r: Replayer) -> Text:
    """``workflow · id · status · N events · duration``."""
    s = r.summary
    status = r.reader.status  # running or incomplete when there is no footer
    return Text.assemble((printable(r.header.workflow, one_line=True), "bold"),
                         f" · {r.recording_id} · ",
                         (status, status_style(status)), f" · {plural(s.event_count, 'event')} · "
                         f"{fmt_ns(s.duration_ns)}")


def endline(r: Replayer) -> Text:
    """How the run ended, after the last event."""
    s = r.summary
    if r.footer is None and r.reader.status == "running":
        return Text("running: no footer yet (the writer is still recording; --follow tails "
                    "it)", style="yellow")
    if r.footer is None:
        text = "incomplete: no footer, and the writer is gone (the run crashed or was killed)"
        if s.unreadable_tail_bytes:
            text += f"; {plural(s.unreadable_tail_bytes, 'unreadable byte')} at the end"
        return Text(text, style="yellow")
    line = Text.assemble((s.status, status_style(s.status)),
                         f" in {fmt_ns(s.duration_ns)}: {plural(s.event_count, 'event')}, "
                         f"{plural(s.nodes, 'node')}, {plural(s.errors, 'error')}")
    if s.error:
        err = s.error
        line.append(printable(f" ({err.get('type', 'error')}: {err.get('message', '')})",
                              one_line=True), style="red")
    return line


class _Printer:
    """Renders events one by one for the timeline and --follow."""

    def __init__(self, r: Replayer, args: argparse.Namespace, console: Console,
                 nesting: Nesting, lanes: int = 0) -> None:
        self.r = r
        self.args = args
        self.console = console
        self.nesting = nesting
        self.match = _matcher(args)
        self.shown = 0
        self.seq_width = max(3, len(str(max(0, len(r) - 1))))
        self.lanes = lanes  # the lane column's width (0: none)
        self.changing = "state" if r.has_state_events else "node_complete"

    @property
    def full(self) -> bool:
        return self.args.limit is not None and self.shown >= self.args.limit

    def show(self, events: Iterable[Event]) -> Event | None:
        """Print the matching events; returns the first one left out by --limit, if any."""
        from_seq = self.args.from_seq or 0
        for e in events:
            self.nesting.observe(e)
            if e.seq < from_seq or not self.match(e):
                continue
            if self.full:
                return e
            self._print(e)
            self.shown += 1
        return None

    def _print(self, e: Event) -> None:
        depth = self.nesting.depth(e)
        plain = e.kind in _PLAIN_KINDS and not e.kind.endswith("_error")
        detail = "" if plain else describe(e, 80)
        self.console.print(event_line(e, depth=depth, duration=self.nesting.duration(e),
                                      detail=detail, seq_width=self.seq_width,
                                      lane_width=self.lanes))
        pad = " " * (self.seq_width + 13 + (self.lanes + 2 if self.lanes else 0) + 2 * depth)
        if self.args.show_data and e.data is not None:
            self.console.print(Text(pad + "data " + json_text(e.data), style="dim"))
        if self.args.show_state and e.kind == self.changing:
            state = lookup(self.r.get_state_at_event(e.seq), [])  # Unknown when truncated
            self.console.print(Text(pad + "state " + show_value(state), style="magenta"))


def timeline(r: Replayer, args: argparse.Namespace, console: Console) -> int:
    """Print the events (filtered) as an indented, coloured timeline."""
    start = r.position_of(args.from_seq) if args.from_seq else 0
    nesting = Nesting.from_spans(r.spans()) if start > 0 else Nesting()
    printer = _Printer(r, args, console, nesting, lane_width(r.catalog().lanes))
    console.print(headline(r))
    # On a terminal the lines themselves show progress; into a pipe, a bar on stderr does.
    bar = progress(len(r) - start, "replaying") if not console.is_terminal \
        else contextlib.nullcontext(lambda n: None)
    left_out = None
    with bar as advance:
        chunk: list[Event] = []
        for e in r.iter_events(start):
            chunk.append(e)
            if len(chunk) == 1000:
                left_out = printer.show(chunk)
                advance(len(chunk))
                chunk = []
                if left_out is not None:
                    break
        if left_out is None and chunk:
            left_out = printer.show(chunk)
    if left_out is not None:
        console.print(Text(f"… stopped after {plural(printer.shown, 'event')} (--limit); "
                           f"continue with --from {left_out.seq}", style="dim"))
    elif printer.shown == 0 and (args.kind or args.node or args.from_seq or _lane(args)):
        console.print(Text("no events match", style="dim"))
    console.print(endline(r))
    return 0


def step(r: Replayer, args: argparse.Namespace, console: Console) -> int:
    """Run the interactive stepper (--kind / --node become breakpoints, --lane is followed)."""
    if args.from_seq is not None:
        r.jump_to_event(args.from_seq)
    stepper = Stepper(r, console)
    if _lane(args) is not None:
        stepper.cmdqueue.append(f"lane {_lane(args)}")
    for target in (*args.kind, *([args.node] if args.node else [])):
        stepper.cmdqueue.append(f"break {target}")
    return stepper.cmdloop()


def _open_growing(args: argparse.Namespace) -> Replayer:
    """Open the recording, waiting a little if its header is not on disk yet."""
    deadline = time.monotonic() + OPEN_WAIT_SECONDS
    while True:
        try:
            return Replayer.open(args.recording, args.store, recover=args.recover)
        except CorruptRecordingError as exc:
            # A recording that was just created can be empty for a moment.
            if exc.frame not in (0, None) or exc.offset != 0 or time.monotonic() > deadline:
                raise
            time.sleep(POLL_SECONDS)


def follow(args: argparse.Namespace, console: Console) -> int:
    """Print events as they arrive; return when the footer does (0) or on Ctrl-C (130)."""
    with _open_growing(args) as r:
        printer = _Printer(r, args, console, Nesting())
        console.print(Text.assemble((printable(r.header.workflow, one_line=True), "bold"),
                                    f" · {r.recording_id} · ", ("following", "yellow")))
        try:
            for batch in r.follow(poll=POLL_SECONDS):
                printer.show(batch)
                console.file.flush()
                if printer.full:
                    break
        except KeyboardInterrupt:
            console.print(Text("stopped following; the recording is not finished",
                               style="yellow"))
            return 130
        if printer.full and r.footer is None:
            console.print(Text(f"… stopped after {plural(printer.shown, 'event')} (--limit)",
                               style="dim"))
            return 0
        console.print(endline(r))
    return 0

"""The interactive step-through of `flowtape replay ID --step`: a debugger for a run that
already happened (SPEC §8), built like pdb on a cmd-style loop.

`Stepper` adds the breakpoint commands (``b``, ``tbreak``, ``cl``, ``disable``,
``enable``, ``condition``) and Tab completion to the moves
(`replayer.terminal.moving`), the frame commands (`replayer.terminal.frames`),
the commands that look (`replayer.terminal.looking`) and the loop
(`replayer.terminal.shell`: usage lines, an empty line repeating the last
command, Ctrl-C discarding the typed line, one injected rich `Console`,
mistakes that print and never raise).

The stepper keeps no cursor of its own: every move goes through the
`Replayer` (where a move lands, which frames are open, who set a value), as
pdb leaves tracing to bdb. What the stepper owns is its breakpoints,
displays, lane and selected frame, per instance.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from storage import EVENT_KINDS, Event
from storage.analysis.paths import child_path, node_matches

from .._text import plural, printable
from .breakpoints import Breakpoint
from .conditions import Condition, ConditionError
from .moving import Moving
from .shell import UsageError

__all__ = ["Stepper"]

#: The commands whose argument is a state path (Tab completes it).
_PATH_COMMANDS = frozenset({"state", "display", "watch", "undisplay", "unwatch", "why", "p",
                            "pp"})


class Stepper(Moving):
    """Step through a recording like pdb: ``Stepper(replayer, console).cmdloop()``.

    ``stdin`` defaults to ``sys.stdin``; ``interactive`` (default: whether
    ``stdin`` is a terminal) reads with ``input()``, the prompt and Tab
    completion, else lines are read as they come and echoed after the prompt.
    """

    help_footer = ("State paths: cart.items[0] or state.cart.items[0]. "
                   "h COMMAND tells more.")

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

    # --- breakpoints ------------------------------------------------------------------------
    def _set(self, arg: str, temporary: bool) -> None:
        where, comma, cond = arg.partition(",")
        where = where.strip()
        if not where or " " in where:
            raise UsageError("break takes one node name (a glob) or event kind, then "
                             "optionally , CONDITION")
        condition = None
        if comma:
            try:
                condition = Condition(cond)
            except ConditionError as exc:
                raise UsageError(str(exc)) from None
        bp = self.breakpoints.add(where, condition, temporary=temporary)
        names = self.r.catalog()  # what the run holds by name: no pass over its events
        matched = where in names.kinds if bp.by_kind else \
            any(node_matches(n, where) for n in names.nodes)
        note = "" if matched else " (no event in this recording matches it)"
        self.message(f"{'Temporary breakpoint' if temporary else 'Breakpoint'} {bp.number} at "
                     f"{'kind' if bp.by_kind else 'node'} {where}"
                     + (f", if {condition.text}" if condition else "") + note)

    def do_break(self, arg: str) -> bool:
        """b(reak) [NODE|KIND] [, CONDITION]
        Set a breakpoint; without an argument, show the table of them.
        c/rc stop at events of this kind, or about this node (a glob: fetch_*),
        where CONDITION holds: a Python expression with node, kind, seq, attempt,
        lane, depth, data and state (the state after the event). A condition that
        raises is false; the table shows its last error."""
        if not arg:
            self._table()
            return False
        self._set(arg, temporary=False)
        return False

    do_b = do_break

    def do_tbreak(self, arg: str) -> bool:
        """tbreak NODE|KIND [, CONDITION]
        A breakpoint deleted once it has stopped c or rc."""
        if not arg:
            raise UsageError("tbreak needs a node name or event kind")
        self._set(arg, temporary=True)
        return False

    def _table(self) -> None:
        if not self.breakpoints:
            self.message("No breakpoints.")
            return
        self.message(Text("Num  Type       Enb  Hits  Where / condition", style="bold"))
        for bp in self.breakpoints:
            self.message(f"{bp.number:<4} {bp.kind_word:<10} {'yes' if bp.enabled else 'no':<4} "
                         f"{bp.hits:<5} {bp.where}")
            if bp.condition is not None:
                self.message(f"{'':<27}if {bp.condition.text}")
            if bp.last_error is not None:
                self.message(Text(printable(f"{'':<27}last error: {bp.last_error}"),
                                  style="red"))

    def _numbered(self, arg: str, what: str) -> list[Breakpoint]:
        if not arg:
            raise UsageError(f"{what} needs breakpoint numbers")
        return self.breakpoints.get(arg.replace(",", " ").split())

    def do_clear(self, arg: str) -> bool:
        """cl(ear) [N …]
        Delete these breakpoints, or all of them."""
        if not arg:
            n = len(self.breakpoints.table)
            self.breakpoints.table.clear()
            self.message(f"Deleted {plural(n, 'breakpoint')}.")
            return False
        for bp in self._numbered(arg, "clear"):
            self.breakpoints.remove(bp)
            self.message(f"Deleted breakpoint {bp.number} at {bp.where}")
        return False

    do_cl = do_clear

    def do_disable(self, arg: str) -> bool:
        """disable N …
        Keep these breakpoints but let c/rc pass them."""
        for bp in self._numbered(arg, "disable"):
            bp.enabled = False
            self.message(f"Disabled breakpoint {bp.number} at {bp.where}")
        return False

    def do_enable(self, arg: str) -> bool:
        """enable N …
        Let these breakpoints stop c/rc again."""
        for bp in self._numbered(arg, "enable"):
            bp.enabled = True
            self.message(f"Enabled breakpoint {bp.number} at {bp.where}")
        return False

    def do_condition(self, arg: str) -> bool:
        """condition N [CONDITION]
        Set breakpoint N's condition; without one, it stops unconditionally."""
        number, _, cond = arg.partition(" ")
        (bp,) = self._numbered(number, "condition")
        if not cond.strip():
            bp.condition = None
            self.message(f"Breakpoint {bp.number} is now unconditional.")
            return False
        try:
            bp.condition = Condition(cond)
        except ConditionError as exc:
            raise UsageError(str(exc)) from None
        bp.last_error = None
        self.message(f"New condition for breakpoint {bp.number}: {bp.condition.text}")
        return False

    def _stops_at(self, event: Event) -> bool:
        return any(bp.enabled and bp.at(event) for bp in self.breakpoints)

    # --- completion -----------------------------------------------------------------------------
    def complete_argument(self, command: str, before: str, text: str) -> list[str]:
        """Node names and kinds for b/tbreak, lanes for lane, state paths for the path
        commands (p and pp also data., inputs., outputs.)."""
        catalog = self.r.catalog()
        if command in ("b", "break", "tbreak") and "," not in before:
            return [*catalog.nodes, *catalog.kinds, *EVENT_KINDS]
        if command == "lane":
            return [*catalog.lanes, "-"]
        if command in _PATH_COMMANDS and len(self.r):
            paths = _paths(self._value([], self._cursor_seq()))
            if text.startswith("state."):
                paths = ["state." + p for p in paths]
            if command in ("p", "pp"):
                paths += ["state.", "data.", "inputs.", "outputs."]
            return paths
        return super().complete_argument(command, before, text)


def _paths(value: Any, prefix: str = "", depth: int = 3, limit: int = 500) -> list[str]:
    """The §6 paths into ``value`` (dict keys, ``depth`` levels down), at most ``limit``."""
    out: list[str] = []
    if depth == 0 or not isinstance(value, dict):
        return out
    for key, inner in value.items():
        if len(out) >= limit:
            break
        if not isinstance(key, str):
            continue
        path = child_path(prefix, key)
        out.append(path)
        out.extend(_paths(inner, path, depth - 1, limit - len(out)))
    return out

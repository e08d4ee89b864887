"""A pdb-style command loop on a rich console: the machinery under the stepper.

Each command is a ``do_<name>`` method whose docstring's first line is its
usage (``n(ext) [count]``), shown after a bad argument; aliases are
assignments (``do_n = do_next``); an empty line repeats the last command,
while Ctrl-C at the prompt only discards the typed line; unknown input is
reported by `Shell.default`. Everything goes to the screen through one
injected rich `Console` (`Shell.message` / `Shell.error`), and a user's
mistake prints — it never raises out of the loop (`UsageError`, `Refused`).

Commands come from ``cmdqueue`` first, then from the input stream: on a
terminal with ``input()`` (readline editing and history); otherwise line by
line with each command echoed after the prompt, so piped commands give the
same screen a terminal would. On a terminal Tab completes (`Shell.completions`:
command names, then what a subclass offers for each argument). `h` lists the
commands of the most derived class first, each in the order its class defines them.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import IO, Any

from rich.console import Console, RenderableType
from rich.text import Text

from storage import FlowtapeError

from .._text import printable

__all__ = ["Refused", "Shell", "UsageError"]


class UsageError(Exception):
    """A command got an argument it cannot use; the loop prints it and the usage."""


class Refused(Exception):
    """A command cannot run here (no events); the loop prints why."""


class Shell:
    """The loop: read a line, run its ``do_`` method, print what it says.

    ``stdin`` defaults to ``sys.stdin``; ``interactive`` (default: whether
    ``stdin`` is a terminal) reads with ``input()`` and the prompt, else
    lines are read as they come and echoed after the prompt.
    """

    prompt = "(flowtape) "
    #: Commands written as one character glued to their argument (``/TEXT``): char -> name.
    prefix_commands: dict[str, str] = {}
    #: The last line of the command list (`do_help`).
    help_footer = "h COMMAND tells more."

    def __init__(self, console: Console, *, stdin: IO[str] | None = None,
                 interactive: bool | None = None) -> None:
        self.console = console
        self.stdin = stdin if stdin is not None else sys.stdin
        self.interactive = self.stdin.isatty() if interactive is None else interactive
        self.cmdqueue: list[str] = []
        self._line_editing = False  # readline draws the input line (and does not echo ^C)
        self.lastcmd = ""
        self._matches: list[str] = []

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
                import readline  # noqa: PLC0415 (only a terminal session wants it)
                readline.set_completer(self._complete)
                readline.set_completer_delims(" \t\n,")
                readline.parse_and_bind("tab: complete")
                self._line_editing = True
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
        """Called once before the first prompt (an introduction)."""

    def onecmd(self, line: str) -> bool:
        """Run one command line; True means stop the loop."""
        line = line.strip()
        if not line:
            return self.emptyline()
        self.lastcmd = line
        if line[0] in self.prefix_commands:  # `/TEXT`: the command is one character
            name, arg = self.prefix_commands[line[0]], line[1:]
            return self._run(getattr(self, "do_" + name), arg)
        name, _, arg = line.partition(" ")
        name = name.replace("-", "_")
        func: Callable[[str], bool | None] | None = \
            getattr(self, "do_" + name, None) if name.isidentifier() else None
        if func is None:
            return self.default(line)
        return self._run(func, arg)

    def _run(self, func: Callable[[str], bool | None], arg: str) -> bool:
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

    def _count(self, arg: str) -> int:
        """A count argument (default 1)."""
        if not arg:
            return 1
        try:
            n = int(arg)
        except ValueError:
            raise UsageError(f"{arg!r} is not a count") from None
        if n < 1:
            raise UsageError(f"the count must be at least 1, not {n}")
        return n

    # --- completion (readline, on a terminal) -----------------------------------------------
    def _complete(self, text: str, state: int) -> str | None:
        """readline's completer: the ``state``-th way to complete ``text`` on the line."""
        if state == 0:
            import readline  # noqa: PLC0415 (only called by readline)

            line = readline.get_line_buffer()[:readline.get_begidx()]
            try:
                self._matches = self.completions(line, text)
            except Exception:
                self._matches = []
        return self._matches[state] if state < len(self._matches) else None

    def completions(self, before: str, text: str) -> list[str]:
        """What ``text`` can become, after ``before`` on the line: command names for the
        first word, else `complete_argument`'s answers."""
        if not before.strip():  # as typed: reverse-next runs do_reverse_next
            return sorted(n[3:].replace("_", "-") for n in dir(self)
                          if n.startswith("do_") and n[3:].replace("_", "-").startswith(text))
        name = before.split(maxsplit=1)[0].replace("-", "_")
        return sorted({c for c in self.complete_argument(name, before, text)
                       if c.startswith(text)})

    def complete_argument(self, command: str, before: str, text: str) -> list[str]:
        """Candidates for an argument of ``command`` (subclasses know their arguments)."""
        if command in ("h", "help"):
            return [n[3:].replace("_", "-") for n in dir(self) if n.startswith("do_")]
        return []

    # --- help and leaving ---------------------------------------------------------------
    def _commands(self) -> list[Callable[[str], bool]]:
        """Each command once (aliases left out): the most derived class's first, each class's
        in the order it defines them."""
        seen: list[Callable[[str], bool]] = []
        for cls in type(self).__mro__:
            for name, value in vars(cls).items():
                if name.startswith("do_") and callable(value) and value.__name__ == name and \
                        all(f.__func__ is not value for f in seen):  # type: ignore[attr-defined]
                    seen.append(getattr(self, name))
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
            usage = usage.strip()
            if len(usage) > 26:  # a long usage gets its own line
                self.message(Text(f"  {usage}"))
                usage = ""
            self.message(Text.assemble(f"  {usage:<27}", summary))
        self.message(self.help_footer)
        return False

    do_h = do_help

    def do_quit(self, arg: str) -> bool:
        """q(uit)
        Leave the stepper."""
        return True

    do_q = do_exit = do_quit


def _usage(func: Callable[..., Any]) -> str:
    return (func.__doc__ or "").splitlines()[0].strip()

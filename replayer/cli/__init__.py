"""The `flowtape` command: a small registry of command modules under one argparse parser.

Each command lives in its own module that defines::

    NAME: str                                   # the sub-command, e.g. "list"
    HELP: str                                   # one line for `flowtape -h`
    def configure(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace, console: rich.console.Console) -> int: ...

and is named in `COMMAND_MODULES`, the one table of commands (a test checks
that every module here is in it). A module of the table that is missing or
fails to import is still listed, as unavailable, and running it is an error
saying why — never a silently missing command — while the other commands
work on.

Errors: a `storage.FlowtapeError`, an OSError or a ValueError becomes one
line on stderr (``flowtape: error: ...``, control characters shown as
``\\x1b``) and exit status 2; ``--debug`` adds the traceback. Usage mistakes
exit 2 through argparse, as usual. When the reader of stdout goes away
(``flowtape list | head``), the command stops quietly with status 141.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType

from rich.console import Console
from rich.text import Text

from storage import FlowtapeError, default_store_url

from .._text import printable
from ..terminal.console import make_console

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

#: Command modules in the order `flowtape -h` lists them.
COMMAND_MODULES: list[str] = [
    "replayer.cli.list",
    "replayer.cli.inspect",
    "replayer.cli.replay",
    "replayer.cli.compare",
    "replayer.cli.rerun",
    "replayer.cli.export",
    "replayer.cli.serve",
    "replayer.cli.verify",
    "replayer.cli.stats",
    "replayer.cli.cleanup",
    "replayer.cli.reindex",
    "replayer.cli.demo",
]


class _Broken:
    """Stands in for a command module that is missing or failed to import; running it says
    why."""

    def __init__(self, module: str, exc: BaseException) -> None:
        self.NAME = module.rsplit(".", 1)[-1].replace("_", "-")
        self.HELP = f"(unavailable: {type(exc).__name__})"
        self.exc = exc

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    def run(self, args: argparse.Namespace, console: Console) -> int:
        raise FlowtapeError(f"the {self.NAME} command failed to load: "
                            f"{type(self.exc).__name__}: {self.exc}") from self.exc


def load_commands(modules: Sequence[str] = COMMAND_MODULES) -> list[ModuleType | _Broken]:
    """Import the command modules; one that is missing or fails to import stands as a
    `_Broken` command that says why when it is run."""
    commands: list[ModuleType | _Broken] = []
    for name in modules:
        try:
            commands.append(importlib.import_module(name))
        except Exception as exc:  # a bug in one command must not take down the others
            commands.append(_Broken(name, exc))
    return commands


def _global_options(parser: argparse.ArgumentParser, *, default: object) -> None:
    parser.add_argument(
        "--store", metavar="URL", default=default,
        help="where recordings live: a directory or URL (default: $FLOWTAPE_STORE or "
        "./recordings)")
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show tracebacks for errors")


def build_parser(commands: Sequence[ModuleType | _Broken] | None = None
                 ) -> argparse.ArgumentParser:
    """The argument parser, with one sub-parser per command module."""
    if commands is None:
        commands = load_commands()
    parser = argparse.ArgumentParser(
        prog="flowtape",
        description="Record workflow runs as event logs; list, inspect, replay and step "
        "through them.")
    _global_options(parser, default=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in commands:
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        # The global options work after the command too (`flowtape list --store x`).
        _global_options(p, default=argparse.SUPPRESS)
        module.configure(p)
        p.set_defaults(_command=module)
    return parser


def _error(message: str) -> None:
    err = make_console(stderr=True)
    err.soft_wrap = True  # one line, however narrow the terminal
    # A message may quote a file name or recorded text: its control characters are shown.
    one_line = printable(" ".join(message.split()), one_line=True)
    err.print(Text(f"flowtape: error: {one_line}"), highlight=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `flowtape` command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else 2
    args.store = args.store or default_store_url()  # read now, not at import
    args.debug = bool(args.debug)
    console = make_console()
    try:
        return int(args._command.run(args, console))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`flowtape list | head`): stop quietly, as cat does.
        # Point stdout at devnull so the interpreter's final flush does not complain.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (FlowtapeError, OSError, ValueError) as exc:
        if args.debug:
            traceback.print_exc()
        _error(str(exc) or type(exc).__name__)
        return 2
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        _error(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the "
               "traceback, and please report it)")
        return 2


if __name__ == "__main__":  # pragma: no cover - `python -m replayer` is the way in
    sys.exit(main())

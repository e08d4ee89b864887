"""`flowtape export`: a recording as DOT, Chrome trace, Mermaid, JSON, text, a report or a page.

The text goes to stdout as it is produced — written raw, never through
rich's markup, so a payload holding ``[bold]`` stays as it is — or, with
``-o FILE``, to a temporary file beside FILE that replaces it once complete
(an interrupted export leaves no half file). Like the recording it comes
from, the file is readable by its owner only: payloads may hold secrets that
redaction did not catch. Without ``--format`` the format
comes from FILE's suffix (SPEC §8: ``.dot``/``.gv``, ``.json``, ``.mmd``,
``.md``, ``.txt``, ``.html``; ``.svg`` and ``.png`` draw the DOT export with Graphviz),
and an unknown suffix is an error (exit 2) listing the known ones; without
``-o`` the default is ``summary``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from collections.abc import Callable
from typing import IO

from rich.console import Console
from rich.text import Text

from .._replayer import Replayer
from ..export import STORE_FORMATS, STREAMS, format_for_file
from ..export.graphviz import GRAPHVIZ_FORMATS, render_graphviz
from ._export_runs import add_options, check_one_recording, run_otlp_push, run_parquet, writer

NAME = "export"
HELP = "write a recording as dot, chrome, mermaid, json, summary, markdown or html"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", nargs="?",
                        help="a recording id, unique id prefix, `latest`, or a file (optional "
                        "for parquet, which exports what the query filters select)")
    parser.add_argument(
        "--format", "-f", choices=[*STREAMS, *STORE_FORMATS], default=None,
        help="dot (Graphviz), chrome (trace JSON for Perfetto / chrome://tracing), mermaid "
        "(flowchart), json (the whole recording), summary (text), markdown (failure "
        "report), html (a self-contained page for a browser), otlp (OpenTelemetry spans, "
        "OTLP/JSON) or parquet (a store as Parquet tables, to a directory or URL); default: "
        "from the -o suffix, else summary")
    parser.add_argument("--output", "-o", metavar="FILE", default=None,
                        help="write to FILE instead of stdout (`-` for stdout); without "
                        "--format its suffix says the format: .dot/.gv, .json, .mmd, .md, "
                        ".txt, .html, or .svg/.png drawn by Graphviz")
    parser.add_argument("--recover", action="store_true",
                        help="skip damaged frames instead of stopping at the first")
    add_options(parser)


def _quiet(stream: IO[str]) -> None:
    """Point ``stream``'s file descriptor at /dev/null (it is a closed pipe)."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _format_for(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.output and args.output != "-":
        return format_for_file(args.output)
    return "summary"


def _replace(path: str, shown_as: str, write: Callable[[int, str], None]) -> None:
    """Have ``write(fd, tmp)`` fill a private temporary file beside ``path``, then move it
    there: an interrupted or failed export leaves no half file."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".part",
                                   dir=os.path.dirname(path))
    except OSError as exc:
        raise OSError(f"cannot write {shown_as}: {exc.strerror or exc}") from exc
    try:
        write(fd, tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OSError(f"cannot write {shown_as}: {exc.strerror or exc}") from exc
        raise


def run(args: argparse.Namespace, console: Console) -> int:
    fmt = _format_for(args)
    if fmt in STORE_FORMATS:
        return run_parquet(args, console)
    check_one_recording(args, fmt)
    write_export = writer(args)
    with Replayer.open(args.id, args.store, recover=bool(getattr(args, "recover", False))) as r:
        if fmt == "otlp" and args.endpoint:
            if args.output:
                raise ValueError("--endpoint sends the spans; -o writes them to a file: give "
                                 "one of the two")
            return run_otlp_push(r, args, console)
        if not args.output or args.output == "-":
            try:
                write_export(r, fmt, console.file)
                console.file.flush()
            except BrokenPipeError:
                # The reader went away (`flowtape export ID | head`): stop quietly, as
                # cat does, and keep Python from complaining when it flushes at exit.
                _quiet(console.file)
                return 141
            return 0
        shown_as = str(args.output)

        def text(fd: int, tmp: str) -> None:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                write_export(r, fmt, f)

        def picture(fd: int, tmp: str) -> None:
            os.close(fd)  # `dot -o` writes it (keeping its owner-only mode)
            render_graphviz(r, fmt, tmp, shown_as=shown_as)

        _replace(os.path.abspath(shown_as), shown_as,
                 picture if fmt in GRAPHVIZ_FORMATS else text)
        console.print(Text(f"wrote the {fmt} export of {r.recording_id} to {args.output}"),
                      highlight=False, soft_wrap=True)
    return 0

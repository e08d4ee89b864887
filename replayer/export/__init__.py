"""The export room: a recording as DOT, Chrome trace JSON, Mermaid, JSON, text, Markdown, HTML.

Each format is a function from a `Replayer` to text, kept in `EXPORTERS`
under its name (the names ``flowtape export --format`` takes); `export` picks
one and raises ValueError listing the known names for any other. Underneath,
every format is written as a generator of pieces (`STREAMS`), reading the
recording through `Replayer.iter_events` / `Replayer.spans` as it goes, so
`write_export` sends even a 1M-event recording to a file without holding the
whole text. One module per format: `dot`, `chrome`, `mermaid`, `json`,
`summary`, `markdown`, `html` (the viewer's page); what they share is one
pass over the events (`scan`), the spans as a sound tree and message
matching (`tree`) and wording (`text`); finding the error a report leads
with is in `failure`. Pictures (``svg``, ``png``) are the DOT export drawn by
Graphviz (`graphviz`); `format_for_file` tells a format from a file name, as
``flowtape export -o FILE`` does without ``--format``.

The room imports the `Replayer` engine and `storage`; it never imports the
terminal, cli or viewer rooms (the ``html`` format loads the viewer when a
page is asked for).

::

    from replayer import Replayer, export

    with Replayer.open("latest") as r:
        print(export(r, "summary"))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import IO

from .._replayer import Replayer
from .chrome import iter_chrome
from .dot import iter_dot
from .html import iter_html
from .json import iter_json
from .markdown import iter_markdown
from .mermaid import iter_mermaid
from .otlp import iter_otlp
from .summary import iter_summary

__all__ = ["EXPORTERS", "FORMAT_SUFFIXES", "STORE_FORMATS", "STREAMS", "export",
           "format_for_file", "iter_export", "write_export"]

#: Each format's text, in pieces.
STREAMS: dict[str, Callable[[Replayer], Iterator[str]]] = {
    "dot": iter_dot,
    "chrome": iter_chrome,
    "mermaid": iter_mermaid,
    "json": iter_json,
    "summary": iter_summary,
    "markdown": iter_markdown,
    "html": iter_html,
    "otlp": iter_otlp,
}

#: Formats that export a store (or a query over it), not one recording's text.
STORE_FORMATS = ("parquet",)


def _joined(stream: Callable[[Replayer], Iterator[str]]) -> Callable[[Replayer], str]:
    def exporter(replayer: Replayer) -> str:
        return "".join(stream(replayer))

    exporter.__name__ = exporter.__qualname__ = f"export_{stream.__name__.removeprefix('iter_')}"
    exporter.__doc__ = stream.__doc__
    return exporter


#: Each format's whole text: ``EXPORTERS["dot"](replayer) -> str``.
EXPORTERS: dict[str, Callable[[Replayer], str]] = {name: _joined(fn)
                                                   for name, fn in STREAMS.items()}

#: The format a file name suggests (``flowtape export ID -o run.dot``; SPEC §8): a text
#: format of `STREAMS`, or a picture of `GRAPHVIZ_FORMATS`.
FORMAT_SUFFIXES = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid",
                   ".json": "json", ".md": "markdown", ".txt": "summary", ".html": "html",
                   ".svg": "svg", ".png": "png"}


def format_for_file(name: str) -> str:
    """The format ``name``'s suffix (any case) asks for: a `STREAMS` key, ``svg`` or ``png``.

    Raises ValueError — listing the known suffixes, and ``--format`` as the
    way out — for a name whose suffix is unknown or missing.
    """
    suffix = os.path.splitext(name)[1].lower()
    fmt = FORMAT_SUFFIXES.get(suffix)
    if fmt is not None:
        return fmt
    known = ", ".join(FORMAT_SUFFIXES)
    why = f"its suffix {suffix} is not one flowtape knows" if suffix else "it has no suffix"
    raise ValueError(f"cannot tell the export format for {name}: {why}; use one of {known}, "
                     f"or choose the format with --format ({', '.join(STREAMS)})")


def _stream(fmt: str) -> Callable[[Replayer], Iterator[str]]:
    try:
        return STREAMS[fmt]
    except KeyError:
        raise ValueError(f"unknown export format {fmt!r}; choose one of "
                         f"{', '.join(sorted(STREAMS))}") from None


def export(replayer: Replayer, fmt: str) -> str:
    """``replayer``'s recording as text in format ``fmt`` (a key of `EXPORTERS`).

    Raises ValueError for an unknown format (the message lists the known ones).
    """
    return "".join(_stream(fmt)(replayer))


def iter_export(replayer: Replayer, fmt: str) -> Iterator[str]:
    """The same text as `export`, in pieces, read from the recording as they are needed."""
    return _stream(fmt)(replayer)


def write_export(replayer: Replayer, fmt: str, file: IO[str]) -> None:
    """Write the export to an open text file, piece by piece."""
    write = file.write
    for piece in _stream(fmt)(replayer):
        write(piece)

"""Exporters: a recording as DOT, Chrome trace JSON, Mermaid, JSON, text or Markdown.

Each format is a function from a `Replayer` to text, kept in `EXPORTERS`
under its name (the names ``flowtape export --format`` takes); `export` picks
one and raises ValueError listing the known names for any other. Underneath,
every format is written as a generator of pieces (`STREAMS`), reading the
recording through `Replayer.iter_events` / `Replayer.spans` as it goes, so
`write_export` sends even a 1M-event recording to a file without holding the
whole text. One module per format: ``_export_dot``, ``_export_chrome``,
``_export_mermaid``, ``_export_json``, ``_export_summary``, ``_export_markdown``;
what they share — one pass over the events, message matching, wording — is
in ``_export_scan``, and finding the error a report leads with in
``_export_failure``.

::

    from replayer import Replayer, export

    with Replayer.open("latest") as r:
        print(export(r, "summary"))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO

from ._export_chrome import iter_chrome
from ._export_dot import iter_dot
from ._export_json import iter_json
from ._export_markdown import iter_markdown
from ._export_mermaid import iter_mermaid
from ._export_summary import iter_summary
from ._replayer import Replayer

__all__ = ["EXPORTERS", "FORMAT_SUFFIXES", "STREAMS", "export", "iter_export", "write_export"]

#: Each format's text, in pieces.
STREAMS: dict[str, Callable[[Replayer], Iterator[str]]] = {
    "dot": iter_dot,
    "chrome": iter_chrome,
    "mermaid": iter_mermaid,
    "json": iter_json,
    "summary": iter_summary,
    "markdown": iter_markdown,
}


def _joined(stream: Callable[[Replayer], Iterator[str]]) -> Callable[[Replayer], str]:
    def exporter(replayer: Replayer) -> str:
        return "".join(stream(replayer))

    exporter.__name__ = exporter.__qualname__ = f"export_{stream.__name__.removeprefix('iter_')}"
    exporter.__doc__ = stream.__doc__
    return exporter


#: Each format's whole text: ``EXPORTERS["dot"](replayer) -> str``.
EXPORTERS: dict[str, Callable[[Replayer], str]] = {name: _joined(fn)
                                                   for name, fn in STREAMS.items()}

#: The format a file name suggests (``flowtape export ID -o run.dot``).
FORMAT_SUFFIXES = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid",
                   ".json": "json", ".md": "markdown", ".txt": "summary"}


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

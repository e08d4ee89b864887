"""The ``html`` export: one self-contained page that shows a recording (SPEC §13).

``flowtape export ID --format html -o run.html`` writes a page that needs
nothing else: the viewer's script and style are inline and allowed by hash,
its policy forbids every request, and the recording travels inside it twice
over, compressed — the ``outline`` (every span and message, `_outline`) and
the ``doc``, the very document the ``json`` export writes (header, events,
footer, summary). Each is one gzip stream cut into base64 chunks of
`CHUNK_BYTES`, one ``<script type="application/x-flowtape-gzip">`` data
block each, which the page feeds to ``DecompressionStream``: many modest
strings, never one giant one. Recorded text is only ever inside those
chunks, so no payload can be markup in the page.

A recording of more than ``max_events`` events keeps every span but only a
window of ``max_events`` events, around the first error (else from the
start), with the state just before the window; the page says what was left
out (`Outline.window`).
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import IO

import msgspec

from .._replayer import Replayer
from ..export.json import iter_json
from ._outline import Window, outline
from ._page import shell

__all__ = ["CHUNK_BYTES", "DEFAULT_MAX_EVENTS", "data_blocks", "iter_html", "write_html"]

#: Events a report holds in full; above it, a window of this many (spans are all kept).
DEFAULT_MAX_EVENTS = 250_000
#: Compressed bytes per data block (a multiple of 3, so each block decodes on its own).
CHUNK_BYTES = 48 * 1024
_BATCH = 1024

_enc = msgspec.json.Encoder()


def data_blocks(part: str, pieces: Iterable[str]) -> Iterator[str]:
    """``pieces`` as one gzip stream in base64 data blocks named ``part``, as they fill."""
    gz = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip wrapper, mtime 0
    buf = bytearray()
    open_tag = f'<script type="application/x-flowtape-gzip" data-part="{part}">'

    def cut(final: bool) -> Iterator[str]:
        while len(buf) >= CHUNK_BYTES or (final and buf):
            yield open_tag + base64.b64encode(buf[:CHUNK_BYTES]).decode() + "</script>\n"
            del buf[:CHUNK_BYTES]

    for piece in pieces:
        buf += gz.compress(piece.encode())
        yield from cut(final=False)
    buf += gz.flush()
    yield from cut(final=True)


def _window_json(replayer: Replayer, first: int, count: int) -> Iterator[str]:
    """The ``json`` export's document with only ``count`` events from position ``first``."""
    yield '{"header":' + _enc.encode(replayer.header).decode() + ',\n"events":['
    events = islice(replayer.iter_events(first), count)
    sep = "\n"
    while batch := list(islice(events, _BATCH)):
        yield sep + b",\n".join([_enc.encode(e) for e in batch]).decode()  # one event a line
        sep = ",\n"
    footer = replayer.footer
    yield ("\n],\n\"footer\":" + (_enc.encode(footer).decode() if footer is not None else "null")
           + ',\n"summary":' + _enc.encode(replayer.summary).decode() + "}\n")


def _window(replayer: Replayer, first_error: int | None, max_events: int) -> Window:
    total = len(replayer)
    centre = replayer.position_of(first_error) if first_error is not None else 0
    first = max(0, min(centre - max_events // 2, total - max_events))
    before = replayer.get_state_at_event(replayer[first - 1].seq) if first > 0 else None
    return Window(first=first, count=max_events, total=total, state_before=before)


def iter_html(replayer: Replayer, *, max_events: int = DEFAULT_MAX_EVENTS) -> Iterator[str]:
    """The report page for ``replayer``'s recording, in pieces (for `write_html` or a stream).

    Raises ValueError when ``max_events`` is below 1, and the read errors of
    the recording.

    ::

        with Replayer.open("latest") as r, open("run.html", "w") as f:
            write_html(r, f)
    """
    if max_events < 1:
        raise ValueError(f"max_events must be 1 or more, not {max_events}")
    out = outline(replayer)
    if len(replayer) > max_events:
        out.window = _window(replayer, out.first_error, max_events)
        doc = _window_json(replayer, out.window.first, max_events)
    else:
        doc = iter_json(replayer)
    head, tail = shell("report")
    yield head
    yield from data_blocks("outline", [out.to_json().decode()])
    yield from data_blocks("doc", doc)
    yield tail


def write_html(replayer: Replayer, file: IO[str], *, max_events: int = DEFAULT_MAX_EVENTS
               ) -> None:
    """Write the report page (`iter_html`) to an open text file, piece by piece."""
    write = file.write
    for piece in iter_html(replayer, max_events=max_events):
        write(piece)

"""The ``json`` export: the whole recording as one JSON document.

``{"header": {...}, "events": [...], "footer": {...} | null, "summary": {...}}``
— the header, event and footer lines exactly as the format defines them
(docs/format.md), plus the `Summary` the replayer derives (which also covers
a recording without a footer). Events are encoded a batch at a time, one a
line, as they are read, so the document streams out of a recording of any size.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from storage import Event

from .._replayer import Replayer

__all__ = ["iter_json", "to_json"]

_enc = msgspec.json.Encoder()
_BATCH = 1024


def _batches(replayer: Replayer) -> Iterator[list[Event]]:
    batch: list[Event] = []
    for e in replayer.iter_events():
        batch.append(e)
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def iter_json(replayer: Replayer) -> Iterator[str]:
    """The document, in pieces: header, events in batches, footer, summary."""
    yield '{"header":' + _enc.encode(replayer.header).decode() + ',\n"events":['
    sep = "\n"
    for batch in _batches(replayer):
        yield sep + b",\n".join([_enc.encode(e) for e in batch]).decode()  # one event a line
        sep = ",\n"
    footer = replayer.footer
    yield ("\n],\n\"footer\":" + (_enc.encode(footer).decode() if footer is not None else "null")
           + ',\n"summary":' + _enc.encode(replayer.summary).decode() + "}\n")


def to_json(replayer: Replayer) -> str:
    """The whole document (see `iter_json`)."""
    return "".join(iter_json(replayer))

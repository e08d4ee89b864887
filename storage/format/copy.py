"""Re-encode a recording into another file (another codec, an updated header).

Used by the earlier-published ``await recorder.save(path)`` and by exports
that want plain NDJSON. The copy is written beside its destination and moved
into place, so a reader never sees half of it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

from .events import Footer, Header
from .reader import LogReader
from .writer import LogWriter

__all__ = ["copy_recording", "file_checksum"]


def copy_recording(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    codec: str = "zstd",
    edit_header: Callable[[Header], None] | None = None,
) -> Footer | None:
    """Write ``src``'s events to ``dst`` with ``codec``; returns the new footer.

    An incomplete source is copied as far as it can be read and stays
    footer-less. ``dst`` is replaced atomically if it exists.
    """
    dst = os.fspath(dst)
    tmp = os.path.join(os.path.dirname(os.path.abspath(dst)),
                       f".{os.path.basename(dst)}.{os.getpid()}.tmp")
    with LogReader.open(src, recover=True) as reader:
        header = reader.header
        if edit_header is not None:
            edit_header(header)
        footer = reader.footer
        writer = LogWriter(tmp, header, codec=codec, flush_interval=1e9)
        try:
            with writer.lock:
                for event in reader.iter_events():
                    writer.append(event)
                writer.close(footer, keyframes=list(reader.keyframes))
        except BaseException:
            writer.discard()
            raise
    os.replace(tmp, dst)
    return footer


def file_checksum(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file's bytes, as hex (what the earlier API called ``checksum``)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

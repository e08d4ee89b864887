"""The ``html`` export: the browser viewer's self-contained page (SPEC §13).

The page is built by `replayer.viewer` (its script, style and data blocks);
this module only registers it as a format. The viewer itself builds on this
room (the ``json`` export, the scan, the span tree), so it is imported when a
page is asked for, not when the export room loads: the rooms' imports stay
one-way.
"""

from __future__ import annotations

from collections.abc import Iterator

from .._replayer import Replayer

__all__ = ["iter_html"]


def iter_html(replayer: Replayer) -> Iterator[str]:
    """The recording as one self-contained HTML page, in pieces (see `replayer.viewer`)."""
    from ..viewer import iter_html as page  # noqa: PLC0415 (the viewer imports this room)

    return page(replayer)

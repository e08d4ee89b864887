"""`diff` on the read side: compare two runs given as a replayer user holds them (SPEC §6).

The engine is `storage.diff_recordings` (it lives in storage so that the
recorder's re-execution and the pytest plugin can use it too); here it
accepts `Replayer` objects, open readers, paths, ids or id prefixes.
`replayer.terminal.print_report` draws the result.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from typing import Any

from storage import DiffOptions, LogReader, RecordingDiff, Store, diff_recordings

from ._replayer import Replayer

__all__ = ["Source", "diff"]

Source = Replayer | LogReader | str | os.PathLike[str]
"""A recording to compare: a `Replayer`, a `LogReader`, a file, or an id in a store."""


def diff(a: Source, b: Source, options: DiffOptions | None = None, /, *,
         store: str | Store | None = None, **overrides: Any) -> RecordingDiff:
    """Compare run B against run A; returns a `RecordingDiff` (SPEC §6).

    ``a`` and ``b`` are `Replayer` objects, files, or ids / unique id
    prefixes / ``latest`` in ``store`` (default ``$FLOWTAPE_STORE`` or
    ``./recordings``). ``options`` and the keywords are the `DiffOptions`
    (``ignore``, tolerances, timing, ``policy``), as for
    `storage.diff_recordings`.

    ::

        d = diff("01HX3", "latest", ignore=["*.request_id"], compare_timing=False)
        if d.regression:
            print_report(d, Console())

    Raises `RecordingNotFoundError`, `AmbiguousIdError`, the read errors, and
    ValueError for a bad option.
    """
    with ExitStack() as stack:
        readers: list[LogReader] = []
        for src in (a, b):
            if isinstance(src, Replayer):
                readers.append(src.reader)
            elif isinstance(src, LogReader):
                readers.append(src)
            else:
                readers.append(stack.enter_context(Replayer.open(src, store)).reader)
        return diff_recordings(readers[0], readers[1], options, **overrides)

"""`dataset`: a store's recordings as Arrow record batches, one recording at a time (SPEC §14).

For the engines that spread work over machines themselves — Ray Data, Dask,
Spark's ``mapInArrow`` — flowtape offers no engine, only a way in: the
recordings a query selects, each read through its store (a directory, or any
fsspec URL such as ``s3://``) and turned into batches of the ``events`` or
``spans`` table (docs/analytics.md §Schema). One recording is open at a
time, so memory follows the biggest recording, not the store. pyarrow is the
optional ``flowtape[analytics]`` extra.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from typing import Any

from .analysis.arrow import TABLES, load_pyarrow, recording_batches
from .stores import RecordingInfo, RecordingQuery, Store, open_store

__all__ = ["dataset"]


def dataset(url: str | os.PathLike[str] | Store | None = None,
            query: RecordingQuery | None = None, *, table: str = "events",
            ids: Iterable[str] | None = None, recover: bool = False) -> Iterator[Any]:
    """Arrow record batches of ``table`` (``"events"`` or ``"spans"``) for the recordings of
    the store at ``url`` that ``query`` selects, one recording after another.

    Each batch holds rows of one recording only (a big recording gives several
    batches), with the table's columns followed by ``workflow`` (string) and
    ``date`` (the UTC day it started) — the partition columns of the Parquet
    export. ``ids`` picks recordings by id (or unique prefix) instead of
    listing them, for a worker handed a share of the ids; ``query`` then still
    filters them. ``recover`` skips damaged frames instead of raising.

    Raises ValueError for an unknown table, ImportError naming the extra when
    pyarrow is missing (both at once, before anything is read), and the
    store's errors (`RecordingNotFoundError`, `CorruptRecordingError`, …) as it
    goes. ::

        import pyarrow as pa
        from storage import RecordingQuery, dataset

        spans = pa.Table.from_batches(dataset("s3://bucket/runs", RecordingQuery(
            workflow_name="etl"), table="spans"))
    """
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; choose one of {', '.join(TABLES)}")
    load_pyarrow("storage.dataset")
    store = open_store(url)
    return _batches(store, _selected(store, query, ids), table, recover=recover)


def _selected(store: Store, query: RecordingQuery | None, ids: Iterable[str] | None
              ) -> list[RecordingInfo]:
    if ids is None:
        return store.list(query)
    infos = [store.get(i) for i in ids]
    return infos if query is None else [i for i in infos if query.matches(i)]


def _batches(store: Store, infos: list[RecordingInfo], table: str, *, recover: bool
             ) -> Iterator[Any]:
    for info in infos:
        day = info.started_at.astimezone(dt.UTC).date()
        extra = {"workflow": ("string", info.workflow), "date": ("date", day)}
        with store.open(info.recording_id, recover=recover) as reader:
            for _, batch in recording_batches(reader, (table,), extra=extra):
                yield batch

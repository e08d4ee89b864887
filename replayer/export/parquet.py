"""The Parquet export: a store (or a query over it) as hive-partitioned tables (SPEC §14).

``flowtape export --format parquet -o DIR_OR_URL`` writes the ``events`` and
``spans`` tables of docs/analytics.md §Schema, partitioned the way Spark,
Trino, Athena and DuckDB expect::

    DIR/_flowtape_export.json                               the manifest
    DIR/events/workflow=etl/date=2026-11-23/part-<run>.parquet
    DIR/spans/workflow=etl/date=2026-11-23/part-<run>.parquet

Each export is a *run* with a time-ordered id; it writes one file per table
and partition, going through the recordings one partition at a time (so
only one pair of files is open, and memory stays small). The manifest lists
the recordings each run exported, so the next export adds only new ones; it
is written last, which makes it the commit: part files of a run it does not
list are leftovers of an interrupted export, and the next export removes
them. A recording still being written is left for a later export; one that
cannot be read is named at the end, and the next export tries it again.

The output is a local directory (files owner-only, written under a temporary
name and renamed whole) or any fsspec URL such as ``s3://bucket/prefix``
(objects appear whole when their upload completes). pyarrow is the optional
``flowtape[analytics]`` extra; fsspec the ``flowtape[s3]`` one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from itertools import groupby
from typing import Any
from urllib.parse import quote

import msgspec

from storage import (
    CorruptRecordingError,
    FlowtapeError,
    RecordingInfo,
    RecordingQuery,
    RecordingReadError,
    Store,
    new_recording_id,
)
from storage.analysis.arrow import (
    BATCH_ROWS,
    SCHEMA_VERSION,
    TABLES,
    load_pyarrow,
    recording_batches,
    table_schema,
)

from .output import Output, open_output

__all__ = ["MANIFEST", "ParquetExport", "export_parquet"]

MANIFEST = "_flowtape_export.json"
FORMAT = "flowtape-parquet"
_PART = "part-"


class ExportRun(msgspec.Struct, kw_only=True):
    """One export into an output, as its manifest keeps it."""

    run: str
    finished_at: str
    recordings: list[str]
    events: int = 0
    spans: int = 0


class Manifest(msgspec.Struct, kw_only=True):
    """``_flowtape_export.json``: what an output holds (docs/analytics.md §Incremental)."""

    format: str = FORMAT
    schema_version: int = SCHEMA_VERSION
    runs: list[ExportRun] = []


class ParquetExport(msgspec.Struct, kw_only=True):
    """What `export_parquet` did."""

    output: str
    run: str
    recordings: list[str] = []
    """Ids exported by this run."""
    events: int = 0
    spans: int = 0
    files: list[str] = []
    """The files written, relative to the output."""
    already: int = 0
    """Recordings the query selected that an earlier export had written."""
    running: list[str] = []
    """Ids still being written: left for a later export."""
    failed: list[tuple[str, str]] = []
    """(id, reason) of recordings that could not be read (not exported)."""
    removed: list[str] = []
    """Leftovers of an interrupted export that were removed."""


_manifest_decoder = msgspec.json.Decoder(Manifest)


def _read_manifest(out: Output) -> Manifest:
    text = out.read(MANIFEST)
    if text is None:
        return Manifest()
    where = out.show(MANIFEST)
    try:
        manifest = _manifest_decoder.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise FlowtapeError(f"{where} is not a flowtape export manifest ({exc}); export to a "
                            "new directory, or remove it to export everything again") from None
    if manifest.format != FORMAT or manifest.schema_version != SCHEMA_VERSION:
        raise FlowtapeError(
            f"{where} was written with schema version {manifest.schema_version} "
            f"({manifest.format}), and this flowtape writes version {SCHEMA_VERSION}; export "
            "to a new directory (tables of two schema versions do not mix)")
    return manifest


def partition(info: RecordingInfo) -> str:
    """``workflow=NAME/date=YYYY-MM-DD`` for a recording (hive escaping: ``%XX``)."""
    name = quote(info.workflow, safe="") or "__HIVE_DEFAULT_PARTITION__"
    return f"workflow={name}/date={info.started_at.astimezone(dt.UTC).date().isoformat()}"


def _leftovers(out: Output, runs: set[str]) -> list[str]:
    """Files under the tables a committed run did not write: parts of an interrupted run,
    and temporary files."""
    def stale(name: str) -> bool:
        if name.startswith(f".{_PART}") and name.endswith(".tmp"):
            return True
        return (name.startswith(_PART) and name.endswith(".parquet")
                and name[len(_PART):-len(".parquet")] not in runs)

    return [rel for table in TABLES for rel in out.files(table)
            if stale(rel.rsplit("/", 1)[-1])]


class _PartitionWriter:
    """The two files (events, spans) of one partition, written in row groups of about
    `BATCH_ROWS` rows however small the recordings are."""

    def __init__(self, pa: Any, out: Output, part: str, run: str) -> None:
        self.pa, self.out = pa, out
        self.names = {t: f"{t}/{part}/{_PART}{run}.parquet" for t in TABLES}
        self.pending: dict[str, list[Any]] = {t: [] for t in TABLES}
        self.rows = dict.fromkeys(TABLES, 0)
        self.writers: dict[str, Any] = {}
        self.files: dict[str, Any] = {}

    def add(self, table: str, batch: Any) -> None:
        self.pending[table].append(batch)
        self.rows[table] += batch.num_rows
        if sum(b.num_rows for b in self.pending[table]) >= BATCH_ROWS:
            self._flush(table)

    def _flush(self, table: str) -> None:
        batches, self.pending[table] = self.pending[table], []
        if not batches:
            return
        writer = self.writers.get(table)
        if writer is None:
            pq = self.pa.parquet
            self.files[table] = self.out.create(self.names[table])
            writer = self.writers[table] = pq.ParquetWriter(
                self.files[table].stream, table_schema(table), compression="zstd")
        writer.write_table(self.pa.Table.from_batches(batches))

    def close(self) -> list[str]:
        """Finish both files; returns their names (relative to the output)."""
        for table in TABLES:
            self._flush(table)
        for table, writer in self.writers.items():
            writer.close()
            self.files[table].commit()
        return [self.names[t] for t in self.writers]

    def abort(self) -> None:
        for table, writer in self.writers.items():
            try:
                writer.close()
            finally:
                self.files[table].discard()


def export_parquet(store: Store, output: str, query: RecordingQuery | None = None, *,
                   ids: Iterable[str] | None = None, recover: bool = False,
                   progress: Callable[[int, int], None] | None = None) -> ParquetExport:
    """Write the recordings of ``store`` that ``query`` selects (or ``ids`` names) and that
    ``output`` does not hold yet as the ``events`` and ``spans`` tables under ``output``.

    Returns what was written and what was left out (still being written, or
    unreadable: ``failed``). ``progress(done, total)`` is called after each
    recording. Raises ImportError naming the extra when pyarrow (or, for a URL,
    fsspec) is missing, `FlowtapeError` for an output that is a file or holds a
    manifest of another schema version, OSError when it cannot be written.
    """
    pa = load_pyarrow("--format parquet")
    import pyarrow.parquet  # type: ignore[import-untyped]  # noqa: F401, PLC0415 (optional)

    out = open_output(output)
    manifest = _read_manifest(out)
    done_ids = {rid for r in manifest.runs for rid in r.recordings}
    result = ParquetExport(output=output, run=new_recording_id())
    result.removed = _leftovers(out, {r.run for r in manifest.runs})
    for rel in result.removed:
        out.remove(rel)
    if ids is None:
        infos = store.list(query)
    else:
        infos = [i for i in map(store.get, ids) if query is None or query.matches(i)]
    todo: list[RecordingInfo] = []
    for info in infos:
        if info.recording_id in done_ids:
            result.already += 1
        elif info.status == "running":
            result.running.append(info.recording_id)
        else:
            todo.append(info)
    todo.sort(key=lambda i: (partition(i), i.recording_id))
    count = 0
    for part, group in groupby(todo, key=partition):
        writer = _PartitionWriter(pa, out, part, result.run)
        try:
            for info in group:
                _export_one(store, info, writer, result, recover=recover)
                count += 1
                if progress is not None:
                    progress(count, len(todo))
            result.files += writer.close()
        except BaseException:
            writer.abort()
            raise
    if result.recordings:
        manifest.runs.append(ExportRun(
            run=result.run, finished_at=dt.datetime.now(dt.UTC).isoformat(),
            recordings=result.recordings, events=result.events, spans=result.spans))
        out.write(MANIFEST, msgspec.json.format(msgspec.json.encode(manifest)) + b"\n")
    return result


def _export_one(store: Store, info: RecordingInfo, writer: _PartitionWriter,
                result: ParquetExport, *, recover: bool) -> None:
    """Add one recording's batches to ``writer``; a recording that cannot be read is noted
    in ``result.failed`` and leaves nothing behind."""
    try:
        with store.open(info.recording_id, recover=recover) as reader:
            batches = list(recording_batches(reader))
    except (CorruptRecordingError, RecordingReadError) as exc:
        result.failed.append((info.recording_id, str(exc)))
        return
    for table, batch in batches:
        writer.add(table, batch)
        if table == "events":
            result.events += batch.num_rows
        else:
            result.spans += batch.num_rows
    result.recordings.append(info.recording_id)

"""Recordings as Arrow tables: the ``events`` and ``spans`` schemas (docs/analytics.md).

One row per event and one row per span (workflow, node, team, member,
recursion level), with typed columns for what people filter and group by and
the payloads as JSON text. The Parquet export writes these tables and
`storage.dataset` yields them; `SCHEMA_VERSION` is the version of both
(docs/analytics.md §Schema: columns are only ever added, never changed).

A recording is read once, frame by frame, with its lines decoded into slim
rows whose payloads stay undecoded bytes (`msgspec.Raw`), so a payload goes
into its JSON column exactly as it was recorded — already masked — without
being parsed and written again. Only the few end events whose outcome lives
in their payload are decoded (`storage.analysis.outcomes.end_status`, the one rule for
how a span ended). pyarrow is the optional ``flowtape[analytics]`` extra and
loads on first use.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from itertools import accumulate
from operator import itemgetter
from typing import Any

import msgspec

from ..errors import CorruptRecordingError
from ..format.events import END_KINDS, START_KINDS
from ..format.frames import BAD_JSON
from ..format.header import parse_started_at
from ..format.reader import LogReader
from .outcomes import OUTCOME_KINDS, end_status
from .spans import SPAN_KIND, EventView

__all__ = ["EVENT_COLUMNS", "INSTALL_HINT", "SCHEMA_VERSION", "SPAN_COLUMNS", "TABLES",
           "load_pyarrow", "recording_batches", "table_schema"]

SCHEMA_VERSION = 1
INSTALL_HINT = "pip install 'flowtape[analytics]'"
#: Rows per record batch, and payload bytes past which a batch is cut early (string
#: columns have 32-bit offsets).
BATCH_ROWS = 65_536
BATCH_BYTES = 256 << 20

#: (name, type, meaning) of each column of the ``events`` table, in order.
EVENT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("recording_id", "string", "the recording's id"),
    ("seq", "int64", "the event's position in its recording, 0-based"),
    ("ts_ns", "int64", "nanoseconds since the recording started"),
    ("time", "timestamp", "wall clock: the recording's start plus ts_ns (UTC, µs)"),
    ("kind", "string", "the event kind: node_start, node_error, team_message, …"),
    ("node", "string", "the node / team / member / workflow the event is about"),
    ("span", "int64", "on an end event: the seq of its start"),
    ("parent", "int64", "the seq of the enclosing span's start"),
    ("depth", "int32", "recursion depth"),
    ("lane", "string", "the thread or asyncio task it came from"),
    ("attempt", "int32", "on node events: the retry number, from 1"),
    ("status", "string", "on an end event: how its span ended (completed, failed, "
     "cancelled, timed_out)"),
    ("duration_ns", "int64", "on an end event: its ts_ns minus its start's"),
    ("data", "string", "the payload, JSON text as recorded (masked)"),
    ("state", "string", "on a state keyframe: the state, JSON text"),
    ("patch", "string", "on a state event: the RFC 6902 patch, JSON text"),
)

#: (name, type, meaning) of each column of the ``spans`` table, in order.
SPAN_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("recording_id", "string", "the recording's id"),
    ("start_seq", "int64", "the seq of the span's start event (its id in the recording)"),
    ("end_seq", "int64", "the seq of its end event; null when it never ended"),
    ("kind", "string", "workflow, node, team, member or recursion"),
    ("node", "string", "the node id, team id, member name, workflow name or identifier"),
    ("node_type", "string", "what the node said it is (llm, agent, tool, …)"),
    ("parent", "int64", "the start_seq of the enclosing span; null for the root"),
    ("depth", "int32", "recursion depth"),
    ("lane", "string", "the thread or asyncio task it ran on"),
    ("attempt", "int32", "on node spans: the retry number, from 1"),
    ("status", "string", "completed, failed, cancelled, timed_out; running or "
     "incomplete when it never ended"),
    ("start_ns", "int64", "nanoseconds since the recording started"),
    ("end_ns", "int64", "the same clock; null when it never ended"),
    ("duration_ns", "int64", "end_ns minus start_ns"),
    ("start_time", "timestamp", "wall clock at the start (UTC, µs)"),
    ("end_time", "timestamp", "wall clock at the end (UTC, µs)"),
    ("error_type", "string", "the error's type when the span ended with one"),
    ("inputs", "string", "the recorded inputs, JSON text (masked)"),
    ("outputs", "string", "the recorded outputs, JSON text (masked)"),
    ("error", "string", "the recorded error (type, message, traceback), JSON text (masked)"),
)

TABLES = {"events": EVENT_COLUMNS, "spans": SPAN_COLUMNS}


def load_pyarrow(what: str = "this") -> Any:
    """The ``pyarrow`` module; ImportError naming the extra to install when it is missing."""
    try:
        import pyarrow  # type: ignore[import-untyped]  # noqa: PLC0415 (optional, loaded late)
        import pyarrow.compute  # type: ignore[import-untyped]  # noqa: PLC0415 (the same)
    except ImportError as exc:
        raise ImportError(f"{what} needs pyarrow: {INSTALL_HINT}") from exc
    return pyarrow


def _arrow_type(pa: Any, name: str) -> Any:
    return {"string": pa.string(), "int64": pa.int64(), "int32": pa.int32(),
            "timestamp": pa.timestamp("us", tz="UTC"), "date": pa.date32()}[name]


def table_schema(table: str, *, extra: tuple[tuple[str, str], ...] = ()) -> Any:
    """The Arrow schema of ``table`` (``events`` or ``spans``), with ``extra`` (name, type)
    columns after its own; the schema metadata names the table and `SCHEMA_VERSION`."""
    pa = load_pyarrow(f"the {table} table")
    columns = [(name, kind) for name, kind, _ in TABLES[table]] + list(extra)
    return pa.schema([pa.field(name, _arrow_type(pa, kind)) for name, kind in columns],
                     metadata={"flowtape.table": table,
                               "flowtape.schema_version": str(SCHEMA_VERSION)})


class _Row(EventView, gc=False):
    """An event line with every payload left undecoded."""

    state: msgspec.Raw = msgspec.Raw(b"")
    patch: msgspec.Raw = msgspec.Raw(b"")


class _Data(msgspec.Struct, gc=False):
    """The parts of a start's or end's ``data`` the spans table keeps, still undecoded."""

    inputs: msgspec.Raw = msgspec.Raw(b"")
    node_type: Any = None
    outputs: msgspec.Raw = msgspec.Raw(b"")
    error: msgspec.Raw = msgspec.Raw(b"")


class _ErrorType(msgspec.Struct, gc=False):
    type: Any = None


_rows = msgspec.json.Decoder(list[_Row])
_row = msgspec.json.Decoder(_Row)
_data = msgspec.json.Decoder(_Data)
_error_type = msgspec.json.Decoder(_ErrorType)
_any = msgspec.json.Decoder()
_NO_DATA = _Data()
_DATA_ERRORS = (*BAD_JSON, msgspec.ValidationError)


def _iter_rows(reader: LogReader, chunk: int = 4096) -> Iterator[tuple[list[_Row], int]]:
    """The event rows of ``reader`` in chunks, with the size of their payloads in bytes.

    The reader decodes and checks them (`LogReader.iter_items`): damage is raised,
    or under ``recover`` skipped, exactly as for `LogReader.iter_events`.
    """
    rows: list[_Row] = []
    size = 0
    for row in reader.iter_items(_rows, _row):
        rows.append(row)
        size += len(row.data) + len(row.state) + len(row.patch) + 64
        if len(rows) >= chunk:
            yield rows, size
            rows, size = [], 0
    if rows:
        yield rows, size


def _decode(decoder: Any, raw: msgspec.Raw | bytes, default: Any = None) -> Any:
    """``raw`` decoded by ``decoder``; ``default`` when it is empty or not the shape expected."""
    if not raw:
        return default
    try:
        return decoder.decode(raw)
    except _DATA_ERRORS:
        return default


def _text(pa: Any, raws: Sequence[msgspec.Raw | bytes], where: str) -> Any:
    """A string column of JSON texts from undecoded payloads (empty ones are null)."""
    if not any(raws):
        return pa.nulls(len(raws), pa.string())
    offsets = array("i", accumulate(map(len, raws), initial=0))
    column = pa.StringArray.from_buffers(len(raws), pa.py_buffer(offsets),
                                         pa.py_buffer(b"".join(raws)))
    try:
        column.validate(full=True)
    except pa.ArrowInvalid as exc:
        raise CorruptRecordingError(where, f"a payload is not valid UTF-8 ({exc})") from None
    pc = pa.compute
    return pc.if_else(pc.not_equal(pc.binary_length(column), 0), column,
                      pa.scalar(None, pa.string()))


def _times(pa: Any, ns: Sequence[int | None], base_us: int) -> Any:
    """Wall-clock timestamps (µs) for nanosecond offsets from a start at ``base_us``."""
    pc = pa.compute
    offsets = pa.array(ns, type=pa.int64())
    return pc.add(pc.divide(offsets, 1000), base_us).cast(pa.timestamp("us", tz="UTC"))


#: The status of each end kind whose outcome does not depend on its payload.
_FIXED_STATUS = {kind: end_status(kind) for kind in END_KINDS - OUTCOME_KINDS}


def _outcome(row: _Row) -> str:
    """How the span the end event ``row`` closes finished (`storage.analysis.outcomes.end_status`;
    `_FIXED_STATUS` answers first for the kinds whose payload does not matter)."""
    return end_status(row.kind, _decode(_any, row.data))


class _Spans(msgspec.Struct, kw_only=True):
    """The spans of one recording, gathered as events go by (`_Converter.note`): a span is a
    row from its start on, and its end fills in the rest. Payloads are copied out of the
    frames, so a frame's bytes are freed once it has been read."""

    payloads: bool
    """Keep the start and end payloads (the spans table wants them; the events table needs
    only start times)."""
    row: dict[int, int] = {}
    """Start seq -> row."""
    starts: list[tuple[int, str, str | None, int | None, int, str | None, int | None, int]] = []
    """(seq, kind, node, parent, depth, lane, attempt, ts) of each start."""
    ends: list[tuple[int, int, str] | None] = []
    """(seq, ts, status) of each end."""
    start_data: list[bytes] = []
    end_data: list[bytes] = []


class _Converter:
    """Turns one recording's rows into record batches of the two tables."""

    def __init__(self, pa: Any, reader: LogReader, extra: dict[str, Any], *,
                 spans: bool) -> None:
        self.pa, self.reader = pa, reader
        self.rid = reader.header.recording_id
        self.base_us = int(parse_started_at(reader.header.started_at).timestamp() * 1e6)
        self.extra = extra
        self.spans = _Spans(payloads=spans)

    def _batch(self, table: str, columns: list[Any]) -> Any:
        pa = self.pa
        n = len(columns[0])
        schema = table_schema(table, extra=tuple((k, t) for k, (t, _) in self.extra.items()))
        extra = [pa.array([v] * n, type=_arrow_type(pa, t)) for t, v in self.extra.values()]
        return pa.RecordBatch.from_arrays([pa.array([self.rid] * n, pa.string()), *columns,
                                           *extra], schema=schema)

    def note(self, rows: list[_Row]) -> tuple[list[str | None], list[int | None]]:
        """Open and close the spans ``rows`` start and end; returns each row's status and
        duration (set on end events only). The per-event loop of the export: kept flat."""
        status: list[str | None] = [None] * len(rows)
        duration: list[int | None] = [None] * len(rows)
        s = self.spans
        row, starts, ends, payloads = s.row, s.starts, s.ends, s.payloads
        for i, r in enumerate(rows):
            kind = r.kind
            if kind in START_KINDS:
                if r.seq in row:
                    continue  # a repeated seq (a damaged file): the first one stands
                row[r.seq] = len(starts)
                starts.append((r.seq, SPAN_KIND[kind], r.node, r.parent, r.depth, r.lane,
                               r.attempt, r.ts))
                ends.append(None)
                if payloads:
                    s.start_data.append(bytes(r.data))
                    s.end_data.append(b"")
            elif kind in END_KINDS and r.span is not None:
                ended = status[i] = _FIXED_STATUS.get(kind) or _outcome(r)
                j = row.get(r.span)
                if j is None or ends[j] is not None:
                    continue
                ends[j] = (r.seq, r.ts, ended)
                duration[i] = r.ts - starts[j][7]
                if payloads:
                    s.end_data[j] = bytes(r.data)
        return status, duration

    def events(self, rows: list[_Row]) -> Any:
        """The ``events`` batch of ``rows`` (whose spans `note` has seen)."""
        pa, where = self.pa, self.reader.path
        status, duration = self.note(rows)
        ts = [r.ts for r in rows]
        return self._batch("events", [
            pa.array([r.seq for r in rows], pa.int64()), pa.array(ts, pa.int64()),
            _times(pa, ts, self.base_us), pa.array([r.kind for r in rows], pa.string()),
            pa.array([r.node for r in rows], pa.string()),
            pa.array([r.span for r in rows], pa.int64()),
            pa.array([r.parent for r in rows], pa.int64()),
            pa.array([r.depth for r in rows], pa.int32()),
            pa.array([r.lane for r in rows], pa.string()),
            pa.array([r.attempt for r in rows], pa.int32()),
            pa.array(status, pa.string()), pa.array(duration, pa.int64()),
            _text(pa, [r.data for r in rows], where), _text(pa, [r.state for r in rows], where),
            _text(pa, [r.patch for r in rows], where)])

    def span_batches(self) -> Iterator[Any]:
        """The ``spans`` batches of every span seen, in start order."""
        pa, where, s = self.pa, self.reader.path, self.spans
        unended = (None, None, "running" if self.reader.status == "running" else "incomplete")
        for a in range(0, len(s.starts), BATCH_ROWS):
            b = a + BATCH_ROWS
            starts = s.starts[a:b]
            ends = [e or unended for e in s.ends[a:b]]
            start_seq, kind, node, parent, depth, lane, attempt, start_ns = (
                list(map(itemgetter(k), starts)) for k in range(8))
            end_seq, end_ns, status = (list(map(itemgetter(k), ends)) for k in range(3))
            opened = [_decode(_data, d, _NO_DATA) for d in s.start_data[a:b]]
            closed = [_decode(_data, d, _NO_DATA) for d in s.end_data[a:b]]
            yield self._batch("spans", [
                pa.array(start_seq, pa.int64()), pa.array(end_seq, pa.int64()),
                pa.array(kind, pa.string()), pa.array(node, pa.string()),
                pa.array([d.node_type if isinstance(d.node_type, str) else None
                          for d in opened], pa.string()),
                pa.array(parent, pa.int64()), pa.array(depth, pa.int32()),
                pa.array(lane, pa.string()), pa.array(attempt, pa.int32()),
                pa.array(status, pa.string()),
                pa.array(start_ns, pa.int64()), pa.array(end_ns, pa.int64()),
                pa.array([e - t if e is not None else None for t, e in zip(start_ns, end_ns)],
                         pa.int64()),
                _times(pa, start_ns, self.base_us), _times(pa, end_ns, self.base_us),
                pa.array([_error_name(d.error) for d in closed], pa.string()),
                _text(pa, [d.inputs for d in opened], where),
                _text(pa, [d.outputs for d in closed], where),
                _text(pa, [d.error for d in closed], where)])


def _error_name(raw: msgspec.Raw) -> str | None:
    error = _decode(_error_type, raw)
    return error.type if error is not None and isinstance(error.type, str) else None


def recording_batches(reader: LogReader, tables: Sequence[str] = tuple(TABLES), *,
                      extra: dict[str, tuple[str, Any]] | None = None
                      ) -> Iterator[tuple[str, Any]]:
    """(table, Arrow record batch) pairs of the ``tables`` asked for (``events``,
    ``spans``) for the recording ``reader`` has open, read in one pass; batches hold at
    most `BATCH_ROWS` rows; the events come as they are read, the spans at the end.

    ``extra`` maps more column names to (type, value) — the same value on every
    row, after the table's own columns (`storage.dataset` adds ``workflow`` and
    ``date`` this way). Raises ValueError for an unknown table, and
    `CorruptRecordingError` for damage (frames under ``recover`` are skipped).
    """
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise ValueError(f"unknown table {unknown[0]!r}; choose one of {', '.join(TABLES)}")
    convert = _Converter(load_pyarrow(f"the {' and '.join(tables)} table"), reader,
                         dict(extra or {}), spans="spans" in tables)
    events = "events" in tables
    pending: list[_Row] = []
    size = 0
    for rows, nbytes in _iter_rows(reader):
        if not events:
            convert.note(rows)
            continue
        pending += rows
        size += nbytes
        if len(pending) >= BATCH_ROWS or size >= BATCH_BYTES:
            yield "events", convert.events(pending)
            pending, size = [], 0
    if pending:
        yield "events", convert.events(pending)
    if "spans" in tables:
        for batch in convert.span_batches():
            yield "spans", batch

"""`storage.dataset`: a store's recordings as Arrow record batches, one recording at a time.

The batches are checked against what the replayer reads from the same files:
every event once, with its fields and its payload as the JSON it was recorded
as; every span, with the status `storage.analysis.outcomes.end_status` gives it. Real
recordings, real stores (a directory, and ``s3://`` on the test server).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyarrow", reason="storage.dataset needs the analytics extra (pyarrow)")

import pyarrow as pa
from analytics_recordings import fill_store, record_damaged
from s3_server import moto_server, s3_environment
from store_recordings import kill, running_victim, subprocess_env

from recorder import node, record_workflow
from replayer import Replayer
from storage import (
    CorruptRecordingError,
    RecordingNotFoundError,
    RecordingQuery,
    dataset,
    open_store,
)
from storage.analysis.arrow import EVENT_COLUMNS, SPAN_COLUMNS
from storage.analysis.outcomes import end_status

RUNS = 24


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 varied recordings (failures, retries, a team, an LLM node), recorded once."""
    root = tmp_path_factory.mktemp("dataset") / "recordings"
    fill_store(root, RUNS)
    return root


def rows_by_recording(batches: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """The rows of ``batches`` grouped by recording id, checking each batch holds one."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for batch in batches:
        ids = set(batch.column("recording_id").to_pylist())
        assert len(ids) == 1, "a batch holds rows of one recording only"
        out[ids.pop()] += batch.to_pylist()
    return out


def test_events_batches_hold_every_event_with_the_documented_columns(store: Path) -> None:
    """One recording per batch, every event once, the schema's columns then workflow, date."""
    batches = list(dataset(store))
    names = [n for n, _, _ in EVENT_COLUMNS] + ["workflow", "date"]
    assert all(b.schema.names == names for b in batches)
    assert batches[0].schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert batches[0].schema.metadata[b"flowtape.schema_version"] == b"1"
    rows = rows_by_recording(batches)
    infos = {i.recording_id: i for i in open_store(store).list()}
    assert set(rows) == set(infos)
    for rid, got in rows.items():
        assert [r["seq"] for r in got] == list(range(infos[rid].event_count))
        assert {r["workflow"] for r in got} == {infos[rid].workflow}
        assert {r["date"] for r in got} == {infos[rid].started_at.astimezone(dt.UTC).date()}


def test_event_rows_are_the_recorded_events(store: Path) -> None:
    """Each row's fields, time and JSON payload columns equal the event the replayer reads."""
    info = open_store(store).list(RecordingQuery(workflow_name="triage", limit=1))[0]
    got = rows_by_recording(list(dataset(store, ids=[info.recording_id])))[info.recording_id]
    with Replayer.open(info.recording_id, store) as r:
        events = list(r.iter_events())
        spans = {s.start_seq: s for s in r.spans()}
    assert len(got) == len(events)
    for row, e in zip(got, events, strict=True):
        assert (row["seq"], row["ts_ns"], row["kind"], row["node"], row["span"], row["parent"],
                row["depth"], row["lane"], row["attempt"]) == (
            e.seq, e.ts, e.kind, e.node, e.span, e.parent, e.depth, e.lane, e.attempt)
        assert row["time"] == info.started_at + dt.timedelta(microseconds=e.ts // 1000)
        for column, value in (("data", e.data), ("state", e.state), ("patch", e.patch)):
            assert (json.loads(row[column]) if row[column] is not None else None) == value
        if e.span is not None:
            assert row["status"] == end_status(e.kind, e.data)
            assert row["duration_ns"] == spans[e.span].duration_ns
        else:
            assert row["status"] is None and row["duration_ns"] is None
    assert any(r["state"] for r in got) and any(r["kind"] == "team_message" for r in got)


def test_span_rows_are_the_replayer_spans_with_their_payloads(store: Path) -> None:
    """Every span of every recording, in start order, with status, node type, error type and
    its inputs, outputs and error as the recorded JSON."""
    rows = rows_by_recording(list(dataset(store, table="spans")))
    assert [n for n, _, _ in SPAN_COLUMNS] + ["workflow", "date"] == list(
        next(iter(rows.values()))[0])
    seen = set()
    for rid, got in rows.items():
        with Replayer.open(rid, store) as r:
            spans = r.spans()
            events = {e.seq: e for e in r.iter_events()}
        assert [(g["start_seq"], g["end_seq"], g["kind"], g["node"], g["parent"], g["depth"],
                 g["lane"], g["start_ns"], g["end_ns"], g["duration_ns"]) for g in got] == [
            (s.start_seq, s.end_seq, s.kind, s.node, s.parent, s.depth, s.lane, s.start_ns,
             s.end_ns, s.duration_ns) for s in spans]
        for g in got:
            start, end = events[g["start_seq"]], events[g["end_seq"]]
            start_data, end_data = start.data or {}, end.data or {}
            assert g["status"] == end_status(end.kind, end.data)
            assert g["attempt"] == start.attempt
            assert g["node_type"] == start_data.get("node_type")
            for column, value in (("inputs", start_data.get("inputs")),
                                  ("outputs", end_data.get("outputs")),
                                  ("error", end_data.get("error"))):
                assert (json.loads(g[column]) if g[column] is not None else None) == value
            error = end_data.get("error")
            assert g["error_type"] == (error["type"] if error else None)
            seen.add((g["kind"], g["node_type"], g["status"]))
    assert {("node", None, "failed"), ("node", "llm", "completed"), ("member", None, "completed"),
            ("team", None, "completed"), ("recursion", None, "completed"),
            ("workflow", None, "failed")} <= seen


def test_a_query_or_ids_choose_the_recordings(store: Path) -> None:
    """Only the recordings the query selects (or the ids name, filtered by the query)."""
    etl = {i.recording_id for i in open_store(store).list(RecordingQuery(workflow_name="etl"))}
    got = rows_by_recording(list(dataset(str(store), RecordingQuery(workflow_name="etl"))))
    assert set(got) == etl
    some = sorted(etl)[:2]
    assert set(rows_by_recording(list(dataset(store, ids=[i[:20] for i in some])))) == set(some)
    other = {i.recording_id for i in open_store(store).list(RecordingQuery(
        workflow_name="report", limit=1))}
    assert not list(dataset(store, RecordingQuery(workflow_name="etl"), ids=other))
    with pytest.raises(RecordingNotFoundError, match="zzzz"):
        dataset(store, ids=["zzzz"])


def test_a_cancelled_run_keeps_its_status(tmp_path: Path) -> None:
    """A run stopped by KeyboardInterrupt: its workflow span and end event say cancelled."""
    @node("wait")
    def wait() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), record_workflow("stop", store=str(tmp_path)) as rec:
        wait()
    spans = rows_by_recording(list(dataset(tmp_path, table="spans")))[rec.recording_id]
    assert [(r["kind"], r["status"]) for r in spans] == [("workflow", "cancelled"),
                                                         ("node", "failed")]
    events = rows_by_recording(list(dataset(tmp_path)))[rec.recording_id]
    assert [r["status"] for r in events if r["kind"] == "workflow_error"] == ["cancelled"]


def test_spans_still_open_are_running_then_incomplete(tmp_path: Path) -> None:
    """While the writer lives its open workflow span is running; once it is killed,
    incomplete — with no end, and the events read so far."""
    with running_victim(str(tmp_path)) as (proc, rid):
        rows = rows_by_recording(list(dataset(tmp_path, table="spans")))[rid]
        assert [(r["kind"], r["status"], r["end_seq"]) for r in rows] == [
            ("workflow", "running", None)]
        kill(proc)
        rows = rows_by_recording(list(dataset(tmp_path, table="spans")))[rid]
        assert [(r["kind"], r["status"], r["end_ns"]) for r in rows] == [
            ("workflow", "incomplete", None)]
        assert len(rows_by_recording(list(dataset(tmp_path)))[rid]) == 6


def test_a_damaged_recording_is_named_and_recover_skips_its_frame(tmp_path: Path) -> None:
    """A corrupt frame raises CorruptRecordingError naming the file; recover=True reads on."""
    damaged = record_damaged(tmp_path)
    with pytest.raises(CorruptRecordingError, match=damaged):
        list(dataset(tmp_path))
    rows = rows_by_recording(list(dataset(tmp_path, recover=True)))[damaged]
    assert 0 < len(rows) < 602


def test_a_payload_that_is_not_utf8_is_named_as_damage(tmp_path: Path) -> None:
    """A plain recording whose payload holds a byte that is not UTF-8: CorruptRecordingError
    naming the file, never a pyarrow error."""
    with record_workflow("plain", store=str(tmp_path), codec="none") as rec:
        rec.event("note", {"text": "caf\u00e9"})
    assert rec.path is not None
    path = Path(rec.path)
    path.write_bytes(path.read_bytes().replace("café".encode(), b"caf\xff"))
    with pytest.raises(CorruptRecordingError, match=rf"{rec.recording_id}.*UTF-8"):
        list(dataset(tmp_path))


def test_an_unknown_table_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    """table="nodes" raises ValueError listing events and spans, at the call."""
    with pytest.raises(ValueError, match="unknown table 'nodes'; choose one of events, spans"):
        dataset(tmp_path / "nowhere", table="nodes")


def test_without_pyarrow_the_error_names_the_extra(store: Path) -> None:
    """In an interpreter where pyarrow cannot be imported, dataset() says what to install."""
    code = ("import sys; sys.modules['pyarrow'] = None\n"
            "from storage import dataset\n"
            f"try:\n    dataset({str(store)!r})\n"
            "except ImportError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60, env=subprocess_env())
    assert done.stdout.strip() == "storage.dataset needs pyarrow: pip install 'flowtape[analytics]'"


def test_batches_come_from_an_s3_store_through_fsspec(store: Path, tmp_path: Path) -> None:
    """An s3:// store on the test server gives the same rows as the directory it came from."""
    with moto_server() as endpoint, s3_environment(endpoint, tmp_path):
        url = "s3://flowtape-dataset/runs"
        fs = open_store(url).fs  # type: ignore[attr-defined]
        fs.mkdir("flowtape-dataset")
        some = sorted(store.glob("*.jsonl.zst"))[:5]
        fs.put([str(p) for p in some], "flowtape-dataset/runs/")
        remote = rows_by_recording(list(dataset(url, table="spans")))
    local = rows_by_recording(list(dataset(store, table="spans",
                                           ids=[p.name.split(".")[0] for p in some])))
    assert remote == local and len(remote) == 5

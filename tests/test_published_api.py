"""The earlier-published recording API (SPEC §9), used the way existing instrumentation uses it."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import recording_files

from recorder import (
    ExecutionRecorder,
    RecordingMetadata,
    StateSnapshot,
    disable_workflow_recording,
    enable_workflow_recording,
    get_current_recorder,
    node,
    record_workflow,
)
from storage import Event, LogReader, RecordingEventType

Read = Callable[..., Any]


@pytest.fixture(autouse=True)
def spool_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directly made ExecutionRecorder spools under the temp dir: keep that in tmp_path."""
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    yield spool


def run_published(rec: ExecutionRecorder) -> None:
    """A run instrumented with every published record_* method."""
    rec.record_workflow_start({"query": "q", "api_key": "k"})
    rec.record_node_start("fetch", {"url": "u"}, node_type="tool")
    rec.record_node_complete("fetch", {"rows": 3}, duration_seconds=0.5)
    rec.record_team_start("crew", "hierarchical", 2, context={"goal": "g"})
    rec.record_team_member_communication("crew", "lead", "worker", "do it")
    rec.record_team_complete("crew", final_output="done", duration_seconds=1.0, success=True)
    rec.record_recursion_enter("search", "root")
    rec.record_recursion_enter("search", "child")
    rec.record_state_snapshot({"step": 1}, node_id="fetch", execution_stack=["fetch"])
    rec.record_recursion_exit("search", "child")
    rec.record_recursion_exit("search", "root")
    rec.record_workflow_complete({"answer": 42}, success=True)


# --- ExecutionRecorder made directly --------------------------------------------------------------
def test_record_methods_write_the_expected_events() -> None:
    """Each record_* method writes its event kind, in call order, with its data."""
    rec = ExecutionRecorder("research", record_state_snapshots=True, tags=["t1"])
    run_published(rec)
    rec.finalize()
    events = rec.events
    assert [e.kind for e in events] == [
        "workflow_start", "node_start", "node_complete", "team_start", "team_message",
        "team_complete", "recursion_enter", "recursion_enter", "state", "recursion_exit",
        "recursion_exit", "workflow_complete"]
    ws, ns, nc, ts, tm, tc, r1, r2, st, x2, x1, wc = events
    assert ws.data == {"inputs": {"query": "q", "api_key": "[REDACTED]"}}
    assert ns.data == {"inputs": {"url": "u"}, "node_type": "tool"}
    assert nc.data == {"outputs": {"rows": 3}, "duration_seconds": 0.5}
    assert nc.span == ns.seq
    assert ts.data == {"member_count": 2, "formation": "hierarchical", "context": {"goal": "g"}}
    assert tm.data == {"from": "lead", "to": "worker", "message": "do it"}
    assert tm.parent == ts.seq
    assert tc.data == {"success": True, "outputs": "done", "duration_seconds": 1.0}
    assert tc.span == ts.seq
    assert (r1.depth, r2.depth, r2.parent) == (1, 2, r1.seq)
    assert (st.node, st.parent, st.depth, st.state) == ("fetch", r2.seq, 2, {"step": 1})
    assert (x2.span, x1.span) == (r2.seq, r1.seq)
    assert wc.data == {"outputs": {"answer": 42}}
    assert all(e.parent == ws.seq for e in (ns, ts, r1))


def test_node_error_and_unpaired_complete() -> None:
    """record_node_complete(error=...) writes node_error; an unpaired complete still records."""
    rec = ExecutionRecorder("wf")
    rec.record_workflow_start()
    rec.record_node_start("a")
    rec.record_node_complete("a", error=ValueError("bad"))
    rec.record_node_complete("orphan", outputs=1)
    rec.record_node_complete("orphan2", error="plain text")
    rec.finalize()
    kinds = [(e.kind, e.node) for e in rec.events]
    assert kinds[1:5] == [("node_start", "a"), ("node_error", "a"), ("node_complete", "orphan"),
                          ("node_error", "orphan2")]
    err = rec.events[2].data["error"]
    assert (err["type"], err["message"]) == ("ValueError", "bad")
    assert rec.events[4].data["error"]["message"] == "plain text"


def test_node_inputs_omitted_when_none() -> None:
    """record_node_start without inputs records no inputs."""
    rec = ExecutionRecorder("wf")
    rec.record_workflow_start()
    rec.record_node_start("a")
    rec.record_node_complete("a")
    rec.finalize()
    assert rec.events[1].data is None
    assert rec.events[2].data is None


def test_record_inputs_and_outputs_flags() -> None:
    """record_inputs=False / record_outputs=False keep inputs and outputs out, paired or not."""
    rec = ExecutionRecorder("wf", record_inputs=False, record_outputs=False)
    rec.record_workflow_start({"secret_plan": 1})
    rec.record_node_start("a", {"x": 1})
    rec.record_node_complete("a", {"y": 2})
    rec.record_node_complete("unpaired", {"y": 3})
    rec.record_team_start("t", "flat", 1)
    rec.record_team_complete("t", final_output="out")
    rec.record_workflow_complete({"final": 1})
    rec.finalize()
    for e in rec.events:
        assert "inputs" not in (e.data or {}), e
        assert "outputs" not in (e.data or {}), e


def test_interleaved_completes_restore_the_enclosing_span() -> None:
    """Spans completed out of order leave later events nested correctly, not under a closed span."""
    rec = ExecutionRecorder("wf")
    rec.record_workflow_start()
    a = rec.record_node_start("a")
    b = rec.record_node_start("b")
    rec.record_node_complete("a")
    c = rec.record_node_start("c")  # b is still open: c nests in b
    rec.record_node_complete("c")
    rec.record_node_complete("b")
    d = rec.record_node_start("d")  # everything closed: d is top level again
    rec.record_node_complete("d")
    rec.finalize()
    by_seq = {e.seq: e for e in rec.events}
    assert by_seq[b].parent == a
    assert by_seq[c].parent == b
    assert by_seq[d].parent == 0


def test_events_before_record_workflow_start_still_begin_with_workflow_start() -> None:
    """A recorder used without record_workflow_start starts the run at its first event."""
    rec = ExecutionRecorder("wf")
    rec.record_node_start("a")
    rec.record_node_complete("a")
    rec.finalize()
    events = rec.events
    assert [e.kind for e in events] == ["workflow_start", "node_start", "node_complete",
                                        "workflow_complete"]
    assert events[1].parent == 0


def test_recursion_depth_attributes() -> None:
    """_recursion_depth follows enter/exit; _recursion_max_depth keeps the deepest."""
    rec = ExecutionRecorder("wf")
    rec.record_workflow_start()
    assert (rec._recursion_depth, rec._recursion_max_depth) == (0, 0)
    rec.record_recursion_enter("dfs", "a")
    rec.record_recursion_enter("dfs", "b")
    assert rec._recursion_depth == 2
    rec.record_recursion_exit("dfs", "b")
    rec.record_recursion_enter("dfs", "c")
    rec.record_recursion_enter("dfs", "d")
    rec.record_recursion_enter("dfs", "e")
    assert rec._recursion_depth == 4
    for ident in ("e", "d", "c", "a"):
        rec.record_recursion_exit("dfs", ident)
    assert (rec._recursion_depth, rec._recursion_max_depth) == (0, 4)
    assert rec.metadata.recursion_max_depth == 4
    rec.finalize()


def test_state_snapshots_are_off_by_default() -> None:
    """As published, record_state_snapshots defaults to False: snapshots record nothing."""
    rec = ExecutionRecorder("wf")
    rec.record_workflow_start()
    assert rec.record_state_snapshot({"a": 1}) is None
    rec.finalize()
    assert rec.snapshots == []
    assert rec.config["record_state_snapshots"] is False


def test_snapshots_rebuild_each_state() -> None:
    """snapshots hands back each recorded state (from keyframes and patches) with its node."""
    rec = ExecutionRecorder("wf", record_state_snapshots=True)
    rec.record_workflow_start()
    state: dict[str, Any] = {"items": [], "pad": "x" * 50}
    for i in range(5):
        state["items"].append(i)
        rec.record_state_snapshot(state, node_id=f"n{i}")
    rec.finalize()
    snaps = rec.snapshots
    assert all(isinstance(s, StateSnapshot) for s in snaps)
    assert [s.state["items"] for s in snaps] == [[0], [0, 1], [0, 1, 2], [0, 1, 2, 3],
                                                 [0, 1, 2, 3, 4]]
    assert [s.node_id for s in snaps] == [f"n{i}" for i in range(5)]
    # Each snapshot has its own state object.
    snaps[0].state["items"].append("changed")
    assert snaps[1].state["items"] == [0, 1]


# --- metadata ------------------------------------------------------------------------------------
def test_metadata_counts_are_live() -> None:
    """metadata counts events, nodes, teams and depth as the run goes."""
    rec = ExecutionRecorder("wf", tags=["a", "b"])
    meta = rec.metadata
    assert isinstance(meta, RecordingMetadata)
    assert meta.event_count == 0
    assert meta.success is None
    rec.record_workflow_start()
    assert meta.event_count == 1
    rec.record_node_start("n")
    rec.record_node_complete("n")
    rec.record_team_start("t", "flat", 1)
    rec.record_team_complete("t")
    rec.record_recursion_enter("r", "1")
    rec.record_recursion_exit("r", "1")
    assert (meta.event_count, meta.node_count, meta.team_count, meta.recursion_max_depth) \
        == (7, 1, 1, 1)
    rec.record_workflow_complete(success=True)
    out = rec.finalize()
    assert out is meta
    assert meta.event_count == 8
    assert meta.success is True
    assert isinstance(meta.duration_seconds, float)
    assert meta.duration_seconds > 0
    assert meta.duration_seconds == rec.metadata.duration_seconds  # frozen once finished
    assert meta.workflow_name == "wf"
    assert meta.recording_id == rec.recording_id
    assert meta.tags == ["a", "b"]


def test_metadata_success_false_when_the_run_failed() -> None:
    """record_workflow_complete(success=False) makes metadata.success False and the run failed."""
    rec = ExecutionRecorder("wf")
    rec.record_workflow_start()
    rec.record_workflow_complete(None, success=False, error=RuntimeError("x"))
    rec.finalize()
    assert rec.metadata.success is False
    assert rec.events[-1].kind == "workflow_error"
    with LogReader.open(rec.path) as r:
        assert r.status == "failed"


def test_workflow_id_is_used_when_it_is_a_valid_id() -> None:
    """ExecutionRecorder(name, workflow_id) uses the given id when it is a safe id."""
    assert ExecutionRecorder("wf", workflow_id="run-42").recording_id == "run-42"
    assert ExecutionRecorder("wf", workflow_id="../etc").recording_id != "../etc"


def test_finalize_is_idempotent() -> None:
    """Calling finalize() twice writes one footer and changes nothing the second time."""
    rec = ExecutionRecorder("wf")
    rec.record_workflow_start()
    rec.finalize()
    count = rec.metadata.event_count
    rec.finalize()
    assert rec.metadata.event_count == count
    assert rec.closed


def test_config_holds_the_flags() -> None:
    """config is a dict of the record_* flags the recorder was made with."""
    rec = ExecutionRecorder("wf", record_inputs=False, record_outputs=True,
                            record_state_snapshots=True, compress=False)
    assert rec.workflow_name == "wf"
    cfg = rec.config
    assert (cfg["record_inputs"], cfg["record_outputs"], cfg["record_state_snapshots"],
            cfg["compress"]) == (False, True, True, False)


# --- events --------------------------------------------------------------------------------------
def test_events_have_the_published_shape() -> None:
    """Events carry event_id, event_type, timestamp (seconds), node_id and data."""
    rec = ExecutionRecorder("wf", record_state_snapshots=True)
    run_published(rec)
    events = rec.events  # readable while the run is still open
    assert len(events) == rec.metadata.event_count
    rec.finalize()
    events = rec.events
    assert all(isinstance(e, Event) for e in events)
    assert [e.event_id for e in events] == list(range(len(events)))
    assert events[1].event_type is RecordingEventType.NODE_START
    assert events[1].event_type.value == "node_start"
    assert events[1].node_id == "fetch"
    assert events[2].data["outputs"] == {"rows": 3}
    stamps = [e.timestamp for e in events]
    assert all(isinstance(t, float) for t in stamps)
    assert stamps == sorted(stamps)
    assert stamps[-1] < 60


def test_event_type_aliases() -> None:
    """STATE_SNAPSHOT and TEAM_COMMUNICATION are the published names for STATE and TEAM_MESSAGE."""
    assert RecordingEventType.STATE_SNAPSHOT is RecordingEventType.STATE
    assert RecordingEventType.TEAM_COMMUNICATION is RecordingEventType.TEAM_MESSAGE
    assert RecordingEventType("state") is RecordingEventType.STATE_SNAPSHOT
    assert {t.value for t in RecordingEventType} == {
        "workflow_start", "workflow_complete", "workflow_error", "node_start", "node_complete",
        "node_error", "team_start", "team_complete", "team_member_start",
        "team_member_complete", "team_message", "recursion_enter", "recursion_exit", "state",
        "checkpoint", "custom"}
    rec = ExecutionRecorder("wf", record_state_snapshots=True)
    run_published(rec)
    rec.finalize()
    types = [e.event_type for e in rec.events]
    assert RecordingEventType.STATE_SNAPSHOT in types
    assert RecordingEventType.TEAM_COMMUNICATION in types


def test_events_compare_by_value_and_support_index() -> None:
    """Two reads of the events are equal lists, and index() finds an event by value."""
    rec = ExecutionRecorder("wf")
    run_published(rec)
    rec.finalize()
    first, second = rec.events, rec.events
    assert first == second
    assert first[3] is not second[3]
    assert second.index(first[3]) == 3
    assert first[3] != first[4]


# --- save ----------------------------------------------------------------------------------------
def _sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_save_adds_gz_and_fills_size_and_checksum(tmp_path: Path) -> None:
    """await save(path) with compress=True writes path + .gz and returns size and sha256."""
    rec = ExecutionRecorder("wf", record_state_snapshots=True)
    run_published(rec)
    meta = asyncio.run(rec.save(tmp_path / "run.jsonl"))
    target = tmp_path / "run.jsonl.gz"
    assert target.exists()
    assert not (tmp_path / "run.jsonl").exists()
    assert meta is rec.metadata
    assert meta.file_path == str(target)
    assert meta.to_dict()["file_path"] == str(target)
    assert meta.file_size_bytes == target.stat().st_size
    assert meta.checksum == _sha256(str(target))
    with LogReader.open(target) as r:
        assert r.codec == "gzip"
        assert r.status == "completed"
        assert list(r.iter_events()) == rec.events
        assert r.header.workflow == "wf"


def test_save_keeps_an_existing_gz_suffix(tmp_path: Path) -> None:
    """A name already ending in .gz is used as it is."""
    rec = ExecutionRecorder("wf")
    rec.record_workflow_start()
    asyncio.run(rec.save(str(tmp_path / "run.gz")))
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["run.gz"]


def test_save_uncompressed(tmp_path: Path, read: Read) -> None:
    """compress=False saves plain NDJSON at exactly the given name."""
    rec = ExecutionRecorder("wf", compress=False)
    rec.record_workflow_start()
    rec.record_node_start("a", {"x": 1})
    rec.record_node_complete("a", {"y": 1})
    meta = asyncio.run(rec.save(tmp_path / "run.json"))
    target = tmp_path / "run.json"
    assert target.read_bytes().startswith(b'{"kind":"header"')
    assert meta.checksum == _sha256(str(target))
    assert read(str(target)).kinds() == ["workflow_start", "node_start", "node_complete",
                                         "workflow_complete"]


def test_started_at_set_before_save_is_what_the_file_says(tmp_path: Path, read: Read) -> None:
    """metadata.started_at (epoch seconds) may be set before save and lands in the header."""
    rec = ExecutionRecorder("wf")
    rec.record_workflow_start()
    rec.metadata.started_at = 1_000_000_000.0
    asyncio.run(rec.save(tmp_path / "old"))
    assert rec.metadata.started_at == 1_000_000_000.0
    header = read(str(tmp_path / "old.gz")).header
    assert dt.datetime.fromisoformat(header.started_at.replace("Z", "+00:00")) \
        == dt.datetime.fromtimestamp(1_000_000_000, dt.UTC)


def test_saved_file_is_owner_only(tmp_path: Path) -> None:
    """The file save writes is mode 0600, like every recording."""
    rec = ExecutionRecorder("wf")
    rec.record_workflow_start()
    asyncio.run(rec.save(tmp_path / "r"))
    assert (tmp_path / "r.gz").stat().st_mode & 0o777 == 0o600


# --- record_workflow with the published calls inside ---------------------------------------------
def test_explicit_start_and_complete_inside_record_workflow_do_not_double_count(
        store: Path, read: Read) -> None:
    """record_workflow_start/complete inside record_workflow are tolerated, written once."""
    with record_workflow("wf", store=store, tags=["x"]) as recorder:
        recorder.record_workflow_start({"ctx": 1})
        recorder.record_node_start("n", {"a": 1})
        recorder.record_node_complete("n", {"b": 2})
        recorder.record_workflow_complete({"final": True}, success=True)
    r = read(recorder)
    kinds = r.kinds()
    assert kinds.count("workflow_start") == 1
    assert kinds.count("workflow_complete") == 1
    assert kinds[-1] == "workflow_complete"
    assert r.events[-1].data == {"outputs": {"final": True}}
    assert recorder.metadata.event_count == len(r.events)
    assert recorder.metadata.success is True
    assert r.header.tags == ["x"]


def test_reported_failure_inside_record_workflow_is_the_outcome(store: Path, read: Read) -> None:
    """record_workflow_complete(success=False) inside record_workflow records a failed run."""
    with record_workflow("wf", store=store) as recorder:
        recorder.record_workflow_complete(None, success=False, error="model refused")
    r = read(recorder)
    assert r.status == "failed"
    assert r.events[-1].data["error"]["message"] == "model refused"
    assert recorder.metadata.success is False


def test_enable_and_disable_workflow_recording(store: Path, read: Read) -> None:
    """enable_workflow_recording makes a recorder current; disable finishes it, none current."""
    @node
    def step(x: int) -> int:
        return x + 1

    rec = enable_workflow_recording("wf", tags=["legacy"], store=store)
    try:
        assert get_current_recorder() is rec
        assert step(1) == 2
    finally:
        done = disable_workflow_recording()
    assert done is rec
    assert get_current_recorder() is None
    assert recording_files(store) == [rec.path]
    r = read(rec)
    assert r.status == "completed"
    assert r.header.tags == ["legacy"]
    assert r.kinds() == ["workflow_start", "node_start", "node_complete", "workflow_complete"]


def test_disable_without_enable_is_harmless() -> None:
    """disable_workflow_recording() with nothing enabled returns None."""
    assert disable_workflow_recording() is None
    assert get_current_recorder() is None


def test_spool_files_of_direct_recorders_stay_owner_only(spool_in_tmp: Path) -> None:
    """A direct recorder's working file (before save) is mode 0600 in a 0700 directory."""
    rec = ExecutionRecorder("wf")
    rec.record_workflow_start()
    rec.finalize()
    assert rec.path is not None
    assert os.stat(rec.path).st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(rec.path)).st_mode & 0o777 == 0o700


def test_recorder_as_a_context_manager_ends_the_run(tmp_path: Path) -> None:
    """`with ExecutionRecorder(...)` finalizes at the end; an exception ends it as failed."""
    with ExecutionRecorder("direct") as ok:
        ok.record_node_start("a", {"x": 1})
        ok.record_node_complete("a", {"y": 2})
    assert ok.closed and ok.metadata.success is True

    with pytest.raises(KeyError), ExecutionRecorder("direct") as bad:
        bad.record_node_start("a")
        raise KeyError("boom")
    assert bad.closed and bad.metadata.success is False
    assert bad.path is not None
    with LogReader.open(bad.path) as reader:
        kinds = [e.kind for e in reader.iter_events()]
        assert reader.status == "failed"
    assert kinds[0] == "workflow_start" and kinds[-1] == "workflow_error"

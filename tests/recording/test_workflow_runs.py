"""record_workflow: a run's start and outcome, its options, and where its file goes."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import recording_files
from recording_nodes import double

from recorder import (
    REDACTED,
    ExecutionRecorder,
    RecorderError,
    get_current_recorder,
    node,
    record_workflow,
)
from storage import FlowtapeError

Read = Callable[..., Any]


# --- record_workflow: start, outcome, footer ---------------------------------------------------
def test_sync_workflow_records_start_and_complete(store: Path, read: Read) -> None:
    """A workflow that returns writes workflow_start, workflow_complete and a completed footer."""
    with record_workflow("etl", store=store, tags=["nightly", "v2"]) as rec:
        assert isinstance(rec, ExecutionRecorder)
    r = read(rec)
    assert r.kinds() == ["workflow_start", "workflow_complete"]
    assert r.header.workflow == "etl"
    assert r.header.tags == ["nightly", "v2"]
    assert r.header.recording_id == rec.recording_id
    assert r.events[0].node == "etl"
    assert r.events[1].span == 0
    assert r.status == "completed"
    assert r.footer.event_count == 2
    assert r.footer.error is None


def test_async_workflow_records_start_and_complete(store: Path, read: Read) -> None:
    """`async with record_workflow` records the same events as the sync form."""
    async def main() -> ExecutionRecorder:
        async with record_workflow("etl", store=store) as rec:
            await asyncio.sleep(0)
            rec.checkpoint("half")
        return rec

    rec = asyncio.run(main())
    r = read(rec)
    assert r.kinds() == ["workflow_start", "checkpoint", "workflow_complete"]
    assert r.status == "completed"


def test_a_string_tag_is_one_tag(store: Path, read: Read) -> None:
    """tags="x" means one tag "x", not three one-letter tags."""
    with record_workflow("etl", store=store, tags="nightly") as rec:
        pass
    assert read(rec).header.tags == ["nightly"]


def test_workflow_error_reraises_the_same_exception(store: Path, read: Read) -> None:
    """The workflow's exception leaves record_workflow unchanged, and is recorded as failed."""
    boom = ValueError("bad row")
    with pytest.raises(ValueError) as info, record_workflow("etl", store=store) as rec:
        raise boom
    assert info.value is boom
    r = read(rec)
    assert r.kinds() == ["workflow_start", "workflow_error"]
    err = r.events[-1].data["error"]
    assert err["type"] == "ValueError"
    assert err["message"] == "bad row"
    assert "raise boom" in err["traceback"]
    assert r.status == "failed"
    assert r.footer.error["type"] == "ValueError"
    assert r.footer.error["message"] == "bad row"


def test_async_workflow_error_reraises_the_same_exception(store: Path, read: Read) -> None:
    """Under `async with`, the exception also propagates as the same object."""
    boom = KeyError("missing")

    async def main() -> None:
        async with record_workflow("etl", store=store):
            raise boom

    with pytest.raises(KeyError) as info:
        asyncio.run(main())
    assert info.value is boom
    [path] = recording_files(store)
    assert read(path).status == "failed"


def test_error_payload_carries_the_cause_chain(store: Path, read: Read) -> None:
    """An error payload lists the chain of causes (``raise ... from ...``)."""
    with pytest.raises(ValueError), record_workflow("etl", store=store) as rec:
        try:
            raise KeyError("inner")
        except KeyError as exc:
            raise ValueError("outer") from exc
    err = read(rec).events[-1].data["error"]
    assert [c["type"] for c in err["causes"]] == ["KeyError"]


def test_cancelled_error_records_cancelled(store: Path, read: Read) -> None:
    """A task cancelled inside the recording re-raises CancelledError and records cancelled."""
    started = asyncio.Event()

    async def workflow() -> None:
        async with record_workflow("etl", store=store):
            started.set()
            await asyncio.sleep(3600)

    async def main() -> None:
        task = asyncio.create_task(workflow())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    [path] = recording_files(store)
    r = read(path)
    assert r.status == "cancelled"
    assert r.kinds()[-1] == "workflow_error"
    assert r.events[-1].data["status"] == "cancelled"


def test_timeout_error_records_timed_out(store: Path, read: Read) -> None:
    """A TimeoutError leaving the recording (asyncio.timeout) records timed_out."""
    async def main() -> ExecutionRecorder:
        async with record_workflow("etl", store=store) as rec:
            async with asyncio.timeout(0):
                await asyncio.sleep(3600)
        return rec

    with pytest.raises(TimeoutError):
        asyncio.run(main())
    [path] = recording_files(store)
    r = read(path)
    assert r.status == "timed_out"
    assert r.events[-1].data["error"]["type"] == "TimeoutError"


def test_sync_timeout_error_records_timed_out(store: Path, read: Read) -> None:
    """A plain TimeoutError raised by sync code records timed_out too."""
    with pytest.raises(TimeoutError), record_workflow("etl", store=store) as rec:
        raise TimeoutError("slow upstream")
    assert read(rec).status == "timed_out"


def test_workflow_inputs_and_entry_go_to_the_header(store: Path, read: Read) -> None:
    """inputs= and entry= land in the header (inputs redacted) and on workflow_start."""
    with record_workflow("etl", store=store, inputs={"q": 1, "token": "t"},
                         entry="pkg.mod:run") as rec:
        pass
    r = read(rec)
    assert r.header.inputs == {"q": 1, "token": REDACTED}
    assert r.header.entry == "pkg.mod:run"
    assert r.events[0].data == {"inputs": {"q": 1, "token": REDACTED}}


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"codec": "lz4"}, "codec"),
    ({"sample_rate": 1.5}, "sample_rate"),
    ({"sample_rate": -0.1}, "sample_rate"),
    ({"keep": "sometimes"}, "keep"),
    ({"max_payload_bytes": 1}, "max_payload_bytes"),
])
def test_bad_options_are_refused_up_front(kwargs: dict[str, Any], error: str) -> None:
    """A bad option raises RecorderError (a ValueError) naming it, before anything is recorded."""
    with pytest.raises(RecorderError, match=error) as info:
        record_workflow("etl", **kwargs)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("redact", "patterns"), [(42, None), (None, ["(unclosed"])])
def test_bad_redact_options_are_refused_up_front(redact: Any, patterns: Any) -> None:
    """redact= must be names or a callable, redact_patterns= valid regexes: else RecorderError."""
    with pytest.raises(RecorderError, match="redact"):
        record_workflow("etl", redact=redact, redact_patterns=patterns)


@pytest.mark.parametrize("codec", ["zstd", "gzip", "none"])
def test_every_codec_reads_back(codec: str, store: Path, read: Read) -> None:
    """Recordings in each codec get their suffix and read back the same."""
    with record_workflow("etl", store=store, codec=codec) as rec:
        rec.event("e", {"n": 1})
    assert rec.path is not None
    assert rec.path.endswith({"zstd": ".jsonl.zst", "gzip": ".jsonl.gz", "none": ".jsonl"}[codec])
    r = read(rec)
    assert r.header.codec == codec
    assert r.kinds() == ["workflow_start", "custom", "workflow_complete"]


def test_nested_recordings_are_separate(store: Path, read: Read) -> None:
    """A recording inside another records into its own file; the outer is current again after."""
    with record_workflow("outer", store=store) as outer:
        with record_workflow("inner", store=store) as inner:
            assert get_current_recorder() is inner
            double(1)
        assert get_current_recorder() is outer
        double(2)
    assert read(inner).kinds() == ["workflow_start", "node_start", "node_complete",
                                   "workflow_complete"]
    r = read(outer)
    assert r.kinds() == ["workflow_start", "node_start", "node_complete", "workflow_complete"]
    assert r.events[1].data == {"inputs": {"x": 2}}

# --- current recorder, where files go ------------------------------------------------------------
def test_get_current_recorder_inside_and_outside(store: Path) -> None:
    """get_current_recorder() is the recording's recorder inside, None outside."""
    assert get_current_recorder() is None
    with record_workflow("etl", store=store) as rec:
        assert get_current_recorder() is rec

        @node
        def probe() -> Any:
            return get_current_recorder()

        assert probe() is rec

        async def in_task() -> Any:
            return await asyncio.create_task(_current())

        assert asyncio.run(in_task()) is rec
    assert get_current_recorder() is None


async def _current() -> Any:
    return get_current_recorder()


def test_flowtape_store_is_read_when_a_recording_starts(tmp_path: Path, read: Read,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """$FLOWTAPE_STORE set after import decides where a recording without store= goes."""
    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("FLOWTAPE_STORE", str(first))
    with record_workflow("etl") as a:
        pass
    monkeypatch.setenv("FLOWTAPE_STORE", str(second))
    with record_workflow("etl") as b:
        pass
    assert recording_files(first) == [a.path]
    assert recording_files(second) == [b.path]
    assert read(b).status == "completed"


def test_default_store_is_dot_recordings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without store= or $FLOWTAPE_STORE, recordings go to ./recordings."""
    monkeypatch.delenv("FLOWTAPE_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    with record_workflow("etl") as rec:
        pass
    assert recording_files(tmp_path / "recordings") == [rec.path]


def test_path_writes_exactly_there(tmp_path: Path, read: Read,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """path= puts the file at exactly that name, codec suffix or not, and nowhere else."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLOWTAPE_STORE", raising=False)
    target = tmp_path / "out" / "my-run.log"
    target.parent.mkdir()
    with record_workflow("etl", path=str(target), codec="gzip") as rec:
        pass
    assert rec.path == str(target)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["my-run.log"]
    assert read(str(target)).header.codec == "gzip"


def test_path_refuses_to_overwrite(tmp_path: Path, read: Read) -> None:
    """A second recording to an existing path= leaves the first intact and does not raise."""
    target = tmp_path / "run.jsonl.zst"
    with record_workflow("first", path=str(target)):
        pass
    with record_workflow("second", path=str(target)):
        pass
    assert read(str(target)).header.workflow == "first"


@pytest.mark.parametrize("how", ["store", "path", "keep-failure"])
def test_recording_files_are_owner_only(how: str, tmp_path: Path) -> None:
    """Recording files are created mode 0600 whatever the umask."""
    old = os.umask(0)
    try:
        if how == "store":
            with record_workflow("etl", store=tmp_path) as rec:
                pass
        elif how == "path":
            with record_workflow("etl", path=str(tmp_path / "r.jsonl.zst")) as rec:
                pass
        else:
            with pytest.raises(ValueError), \
                    record_workflow("etl", store=tmp_path, keep="failure") as rec:
                raise ValueError
    finally:
        os.umask(old)
    assert rec.path is not None
    assert stat.S_IMODE(os.stat(rec.path).st_mode) == 0o600


def test_recorder_errors_are_flowtape_errors() -> None:
    """RecorderError sits under FlowtapeError."""
    assert issubclass(RecorderError, FlowtapeError)


def test_events_after_the_end_are_dropped(store: Path, read: Read) -> None:
    """Events sent to a finished recording are ignored: its file stays as closed, and a
    recording opened since (which may reuse the file descriptor) is untouched."""
    with record_workflow("first", store=store) as first:
        pass
    before = Path(first.path).read_bytes()
    with record_workflow("second", store=store) as second:
        rec_late = first
        assert rec_late.event("late", {"n": 1}) == -1
        with rec_late.team("t"):
            rec_late.checkpoint("c")
        handle = rec_late.node_start("late-node")
        rec_late.node_end(handle, exc=RuntimeError("urgent: flushes at once"))
        second.event("mine")
    assert Path(first.path).read_bytes() == before
    assert first.metadata.event_count == 2
    r = read(second)
    assert r.kinds() == ["workflow_start", "custom", "workflow_complete"]

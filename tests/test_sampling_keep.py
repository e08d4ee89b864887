"""Sampling (sample_rate) and keep policies (keep="always" | "failure" | callable)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import files_under

from recorder import get_current_recorder, node, record_workflow
from storage import Footer

Read = Callable[..., Any]


@node
def double(x: int) -> int:
    return 2 * x


# --- sampling -------------------------------------------------------------------------------
def test_sample_rate_zero_writes_nothing(tmp_path: Path) -> None:
    """sample_rate=0 records nothing: no file, no store directory, no events."""
    store = tmp_path / "store"
    with record_workflow("etl", store=store, sample_rate=0.0) as rec:
        rec.checkpoint("c")
        rec.event("e", {"x": 1})
        assert rec.snapshot({"a": 1}) is None
        with rec.team("t") as team, team.member("m"):
            team.message("m", "m", "hi")
        with rec.recursion("r", "1"):
            pass
    assert not store.exists()
    assert files_under(tmp_path) == []
    assert rec.path is None
    assert rec.metadata.event_count == 0


def test_sampled_out_node_still_returns_and_raises(tmp_path: Path) -> None:
    """In a sampled-out run, @node returns what the function returns and raises what it raises."""
    boom = ValueError("x")

    @node
    def fail() -> None:
        raise boom

    @node
    async def adouble(x: int) -> int:
        return 2 * x

    import asyncio

    with record_workflow("etl", store=tmp_path, sample_rate=0.0) as rec:
        assert get_current_recorder() is rec
        assert rec.enabled is False
        assert double(21) == 42
        assert asyncio.run(adouble(2)) == 4
        with pytest.raises(ValueError) as info:
            fail()
        assert info.value is boom
    assert files_under(tmp_path) == []


def test_sampled_out_workflow_error_still_propagates(tmp_path: Path) -> None:
    """A sampled-out recording re-raises the workflow's exception unchanged."""
    boom = KeyError("k")
    with pytest.raises(KeyError) as info, record_workflow("etl", store=tmp_path, sample_rate=0):
        raise boom
    assert info.value is boom


def test_sample_rate_one_always_records(tmp_path: Path) -> None:
    """sample_rate=1 records every run."""
    for _ in range(5):
        with record_workflow("etl", store=tmp_path, sample_rate=1.0):
            pass
    assert len(files_under(tmp_path)) == 5


def test_sampling_decides_per_run(tmp_path: Path) -> None:
    """With 0 < sample_rate < 1 some runs are recorded and some not (the decision is per run)."""
    recorded = 0
    for _ in range(200):
        with record_workflow("etl", store=tmp_path, sample_rate=0.5) as rec:
            pass
        recorded += rec.enabled
    assert 0 < recorded < 200
    assert len(files_under(tmp_path)) == recorded


def test_a_reused_record_workflow_decides_again(tmp_path: Path) -> None:
    """Entering the same record_workflow(...) object again samples, and records, afresh."""
    cm = record_workflow("etl", store=tmp_path, sample_rate=0.5)
    seen = set()
    ids = set()
    for _ in range(60):
        with cm as rec:
            pass
        seen.add(rec.enabled)
        if rec.enabled:
            ids.add(rec.recording_id)
    assert seen == {True, False}
    assert len(files_under(tmp_path)) == len(ids)


# --- keep policies ------------------------------------------------------------------------------
def test_keep_failure_drops_a_successful_run(tmp_path: Path) -> None:
    """keep="failure" leaves no file at all for a run that completed, temporary ones included."""
    with record_workflow("etl", store=tmp_path, keep="failure") as rec:
        double(1)
    assert files_under(tmp_path) == []
    assert rec.path is None


def test_keep_failure_keeps_a_failed_run(tmp_path: Path, read: Read) -> None:
    """keep="failure" keeps a failed run, complete, at its final name, and nothing else."""
    with pytest.raises(RuntimeError), record_workflow("etl", store=tmp_path, keep="failure") as rec:
        double(1)
        raise RuntimeError("boom")
    assert rec.path is not None
    assert files_under(tmp_path) == [Path(rec.path).name]
    assert Path(rec.path).name == f"{rec.recording_id}.jsonl.zst"
    r = read(rec)
    assert r.status == "failed"
    assert r.kinds() == ["workflow_start", "node_start", "node_complete", "workflow_error"]


def test_keep_failure_with_path(tmp_path: Path, read: Read) -> None:
    """keep="failure" with path= keeps a failed run exactly at path, and drops a good one."""
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    with record_workflow("etl", path=str(good), codec="none", keep="failure"):
        pass
    with pytest.raises(ValueError), \
            record_workflow("etl", path=str(bad), codec="none", keep="failure"):
        raise ValueError
    assert files_under(tmp_path) == ["bad.jsonl"]
    assert read(str(bad)).status == "failed"


@pytest.mark.parametrize(("exc", "status"), [
    (TimeoutError(), "timed_out"), (KeyboardInterrupt(), "cancelled")])
def test_keep_failure_keeps_any_unsuccessful_status(exc: BaseException, status: str,
                                                    tmp_path: Path, read: Read) -> None:
    """keep="failure" keeps timed-out and cancelled runs too: anything but completed."""
    with pytest.raises(type(exc)), record_workflow("etl", store=tmp_path, keep="failure") as rec:
        raise exc
    assert read(rec).status == status


def test_keep_callable_receives_the_footer(tmp_path: Path, read: Read) -> None:
    """keep=callable gets the footer summary and its answer decides."""
    seen: list[Footer] = []

    def keep_big(footer: Footer) -> bool:
        seen.append(footer)
        return footer.counts.nodes >= 2

    with record_workflow("small", store=tmp_path, keep=keep_big):
        double(1)
    with record_workflow("big", store=tmp_path, keep=keep_big) as big:
        double(1)
        double(2)
    assert [f.status for f in seen] == ["completed", "completed"]
    assert [f.counts.nodes for f in seen] == [1, 2]
    assert [f.event_count for f in seen] == [4, 6]
    assert all(isinstance(f, Footer) for f in seen)
    assert files_under(tmp_path) == [Path(big.path).name]
    assert read(big).header.workflow == "big"


def test_keep_callable_sees_a_failure(tmp_path: Path) -> None:
    """The footer handed to keep= carries the failed status and the error type."""
    seen: list[Footer] = []
    with pytest.raises(ValueError), \
            record_workflow("etl", store=tmp_path, keep=lambda f: seen.append(f) or False):
        raise ValueError("bad")
    assert seen[0].status == "failed"
    assert seen[0].error["type"] == "ValueError"
    assert files_under(tmp_path) == []


def test_a_raising_keep_callable_keeps_the_recording(tmp_path: Path, read: Read,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """If keep= raises, the recording is kept (losing data is worse) and the error logged."""
    def broken(footer: Footer) -> bool:
        raise RuntimeError("oops")

    with record_workflow("etl", store=tmp_path, keep=broken) as rec:
        pass
    assert read(rec).status == "completed"
    assert any("keep" in m for m in caplog.messages)

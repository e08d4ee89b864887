"""Spans take their status from the end event (docs/format.md §Spans).

``node_error`` is failed; ``workflow_error`` is failed unless its
``data.status`` says cancelled or timed out; ``team_complete`` and
``team_member_complete`` carry ``data.status`` (absent: completed) and
``data.error``, and a team's ``success: false`` is failed. Recordings with
those end events are written through `storage.LogWriter`, the recorder's own
writer, so the reader is tested against the schema itself.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from recorder import record_workflow
from replayer import Replayer
from storage import END_KINDS, Event, Footer, Header, LogWriter, Span, iter_event_views
from storage.analysis.spans import end_outcome

ERROR = {"type": "ValueError", "module": "builtins", "message": "member broke"}


def _write(path: Path, events: list[tuple[str, str, int | None, int | None, Any]]) -> str:
    """A finished recording of ``(kind, node, span, parent, data)`` events, seq in order."""
    header = Header(recording_id="01m83j2fk3764czz4dt3vdk6bp", workflow="w",
                    started_at="2026-01-01T00:00:00.000000Z")
    writer = LogWriter(path, header, codec="zstd")
    with writer.lock:
        for seq, (kind, node, span, parent, data) in enumerate(events):
            writer.append(Event(seq=seq, ts=seq * 1000, kind=kind, node=node, span=span,
                                parent=parent, data=data))
        writer.close(Footer(status="completed", event_count=len(events),
                            duration_ns=len(events) * 1000))
    return str(path)


def _statuses(path: str) -> dict[tuple[str, str], tuple[str, Any]]:
    """(status, error) of each span by (kind, node): the span's status, its end's error."""
    with Replayer.open(path) as r:
        spans: list[Span] = r.spans()
        errors = {v.seq: end_outcome(v)[1] for v in iter_event_views(r.reader)
                  if v.kind in END_KINDS}
    return {(s.kind, s.node): (s.status, errors.get(s.end_seq) if s.end_seq is not None
                               else None) for s in spans}


def test_team_and_member_status_come_from_their_end_events(tmp_path: Path) -> None:
    """A member whose end says failed is failed with its error; success false fails the team."""
    path = _write(tmp_path / "team.jsonl.zst", [
        ("workflow_start", "w", None, None, None),
        ("team_start", "crew", None, 0, {"member_count": 3}),
        ("team_member_start", "ok", None, 1, {"team": "crew"}),
        ("team_member_complete", "ok", 2, 1, None),
        ("team_member_start", "bad", None, 1, {"team": "crew"}),
        ("team_member_complete", "bad", 4, 1, {"status": "failed", "error": ERROR}),
        ("team_member_start", "slow", None, 1, {"team": "crew"}),
        ("team_member_complete", "slow", 6, 1, {"status": "timed_out"}),
        ("team_complete", "crew", 1, 0, {"success": False, "error": ERROR}),
        ("workflow_complete", "w", 0, None, None),
    ])
    assert _statuses(path) == {
        ("workflow", "w"): ("completed", None),
        ("team", "crew"): ("failed", ERROR),
        ("member", "ok"): ("completed", None),
        ("member", "bad"): ("failed", ERROR),
        ("member", "slow"): ("timed_out", None),
    }


@pytest.mark.parametrize("status", ["failed", "cancelled", "timed_out"])
def test_team_complete_status_wins_over_success(tmp_path: Path, status: str) -> None:
    """A team_complete with data.status has that status, whatever ``success`` says."""
    path = _write(tmp_path / "team.jsonl.zst", [
        ("team_start", "crew", None, None, {"member_count": 0}),
        ("team_complete", "crew", 0, None, {"success": True, "status": status}),
    ])
    assert _statuses(path)[("team", "crew")] == (status, None)


def test_node_error_is_failed_whatever_its_data_says(tmp_path: Path) -> None:
    """``*_error`` ends other than workflow_error are failed, even with a data.status."""
    path = _write(tmp_path / "node.jsonl.zst", [
        ("node_start", "n", None, None, None),
        ("node_error", "n", 0, None, {"error": ERROR, "status": "cancelled"}),
    ])
    assert _statuses(path)[("node", "n")] == ("failed", ERROR)


def test_unknown_status_words_do_not_leak_into_spans(tmp_path: Path) -> None:
    """A data.status that is not a span status (or not a string) leaves the kind's default."""
    path = _write(tmp_path / "odd.jsonl.zst", [
        ("workflow_start", "w", None, None, None),
        ("team_member_start", "m", None, 0, None),
        ("team_member_complete", "m", 1, 0, {"status": ["failed"]}),
        ("workflow_error", "w", 0, None, {"error": ERROR, "status": "exploded"}),
    ])
    statuses = _statuses(path)
    assert statuses[("member", "m")] == ("completed", None)
    assert statuses[("workflow", "w")] == ("failed", ERROR)


async def _cancelled_run(path: Path) -> None:
    async def body() -> None:
        with record_workflow("cancel-me", path=str(path)):
            await asyncio.sleep(10)

    task = asyncio.ensure_future(body())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_cancelled_run_has_a_cancelled_workflow_span(tmp_path: Path) -> None:
    """A run cancelled inside record_workflow: footer, summary and workflow span say cancelled."""
    path = tmp_path / "cancelled.jsonl.zst"
    asyncio.run(_cancelled_run(path))
    assert _statuses(str(path))[("workflow", "cancel-me")][0] == "cancelled"
    with Replayer.open(path) as r:
        assert r.summary.status == "cancelled"


@pytest.mark.parametrize(("exc", "status"), [(TimeoutError("took too long"), "timed_out"),
                                           (RuntimeError("no"), "failed")])
def test_run_ended_by_an_exception_has_that_workflow_span_status(
        tmp_path: Path, exc: Exception, status: str) -> None:
    """TimeoutError leaving record_workflow makes the workflow span timed_out; others failed."""
    path = tmp_path / "ended.jsonl.zst"
    with pytest.raises(type(exc)), record_workflow("ended", path=str(path)):
        raise exc
    said, error = _statuses(str(path))[("workflow", "ended")]
    assert said == status and error is not None and error["message"] == str(exc)

"""Teams, members, recursion, checkpoints and custom events: spans and how they nest."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from recording_nodes import double

from recorder import (
    ExecutionRecorder,
    record_workflow,
)

Read = Callable[..., Any]


# --- teams and recursion -------------------------------------------------------------------------
def test_team_members_and_messages(store: Path, read: Read) -> None:
    """A team span holds member spans; messages nest in the member that sent them."""
    with record_workflow("etl", store=store) as rec, \
            rec.team("research", formation="pipeline", members=["a", "b"]) as team:
        with team.member("a"):
            team.message("a", "b", {"text": "hi"})
        with team.member("b", role="critic"):
            double(1)
        team.output = {"answer": 42}
    r = read(rec)
    assert r.kinds() == ["workflow_start", "team_start", "team_member_start", "team_message",
                         "team_member_complete", "team_member_start", "node_start",
                         "node_complete", "team_member_complete", "team_complete",
                         "workflow_complete"]
    ts, ma, msg, ma_end, mb, ns, _, mb_end, tc, _ = r.events[1:]
    assert ts.node == "research"
    assert ts.data == {"member_count": 2, "formation": "pipeline", "members": ["a", "b"]}
    assert (ma.node, ma.parent, ma.data) == ("a", ts.seq, {"team": "research"})
    assert mb.data == {"team": "research", "role": "critic"}
    assert (msg.node, msg.parent) == ("research", ma.seq)
    assert msg.data == {"from": "a", "to": "b", "message": {"text": "hi"}}
    assert (ma_end.span, mb_end.span, tc.span) == (ma.seq, mb.seq, ts.seq)
    assert ns.parent == mb.seq
    assert tc.data == {"success": True, "outputs": {"answer": 42}}
    assert r.footer.counts.teams == 1
    assert r.footer.counts.messages == 1


def test_team_that_raises_records_failure(store: Path, read: Read) -> None:
    """An exception leaving a team closes it with success false and the error."""
    with record_workflow("etl", store=store) as rec, pytest.raises(ValueError), \
            rec.team("crew"):
        raise ValueError("mutiny")
    tc = read(rec).of_kind("team_complete")[0]
    assert tc.data["success"] is False
    assert tc.data["error"]["message"] == "mutiny"


def test_async_team(store: Path, read: Read) -> None:
    """A team is also an async context manager."""
    async def main() -> ExecutionRecorder:
        async with record_workflow("etl", store=store) as rec, \
                rec.team("crew", members=["x"]) as team:
            team.message("x", "x", "self-talk")
        return rec

    r = read(asyncio.run(main()))
    assert r.kinds()[1:4] == ["team_start", "team_message", "team_complete"]


def test_recursion_tracks_depth(store: Path, read: Read) -> None:
    """Recursion levels nest, carry their depth, and the footer keeps the maximum."""
    with record_workflow("etl", store=store) as rec:
        def search(n: int) -> None:
            with rec.recursion("search", f"n{n}"):
                double(n)
                if n < 3:
                    search(n + 1)

        search(1)
        double(0)
    r = read(rec)
    enters = r.of_kind("recursion_enter")
    assert [(e.node, e.depth) for e in enters] == [("n1", 1), ("n2", 2), ("n3", 3)]
    assert [e.data for e in enters] == [{"operation": "search"}] * 3
    assert [enters[i].parent for i in (1, 2)] == [enters[0].seq, enters[1].seq]
    assert [e.depth for e in r.of_kind("node_start")] == [1, 2, 3, 0]
    exits = r.of_kind("recursion_exit")
    assert sorted(e.span for e in exits) == [e.seq for e in enters]
    assert all(e.depth == next(s for s in enters if s.seq == e.span).depth for e in exits)
    assert r.footer.counts.max_depth == 3


# --- checkpoints and custom events ---------------------------------------------------------------
def test_checkpoint_and_custom_events(store: Path, read: Read) -> None:
    """checkpoint() and event() record data.name and, when given, data.value."""
    with record_workflow("etl", store=store) as rec:
        rec.checkpoint("loaded", {"rows": 10})
        rec.event("cache_miss", "key-1")
        rec.event("tick")
    cp, c1, c2 = read(rec).of_kind("checkpoint", "custom")
    assert (cp.kind, cp.data) == ("checkpoint", {"name": "loaded", "value": {"rows": 10}})
    assert (c1.kind, c1.data) == ("custom", {"name": "cache_miss", "value": "key-1"})
    assert c2.data == {"name": "tick"}

@pytest.mark.parametrize(("exc", "status"), [
    (ValueError("member broke"), "failed"),
    (asyncio.CancelledError(), "cancelled"),
    (TimeoutError("too slow"), "timed_out"),
])
def test_team_and_member_ends_carry_the_outcome(exc: BaseException, status: str, store: Path,
                                                read: Read) -> None:
    """A member (and its team) whose body raised records status and error, like a node end."""
    with pytest.raises(type(exc)), record_workflow("etl", store=store) as rec, \
            rec.team("crew", members=["a"]) as team:
        with team.member("a"):
            pass
        with team.member("b"):
            raise exc
    r = read(rec)
    ok, bad = r.of_kind("team_member_complete")
    assert ok.data is None or "status" not in ok.data
    assert bad.data["status"] == status
    assert bad.data["error"]["type"] == type(exc).__qualname__
    end = r.of_kind("team_complete")[0]
    assert end.data["success"] is False
    assert end.data["status"] == status
    assert end.data["error"]["type"] == type(exc).__qualname__


def test_a_completed_team_has_no_status_key(store: Path, read: Read) -> None:
    """status is omitted when the team and its members completed."""
    with record_workflow("etl", store=store) as rec, rec.team("crew") as team, \
            team.member("a"):
        pass
    r = read(rec)
    assert "status" not in (r.of_kind("team_member_complete")[0].data or {})
    assert r.of_kind("team_complete")[0].data == {"success": True}

"""The questions the stepper, the viewer and `replay --follow` ask, answered by the Replayer
engine without a console (STYLE: the engine answers, the interface shows)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from recorder import node, record_workflow
from replayer import Replayer
from storage import Event, Footer, Header, LogWriter, new_recording_id
from storage.analysis.paths import MISSING, Unknown


@node
def load_cart(user: str) -> dict[str, list[str]]:
    return {"items": ["apple"]}


@node
def checkout(total: int) -> None:
    raise ValueError("card declined")


def record_shop(store: Path) -> str:
    with record_workflow("shop", store=store) as rec:
        cart = load_cart("ann")
        rec.snapshot({"cart": cart})
        team = rec.team("pricing", formation="pair", members=["a", "b"])
        with team, team.member("a"):
            rec.snapshot({"cart": cart, "total": 3})
        rec.checkpoint("priced", {"total": 3})
        with contextlib.suppress(ValueError):
            checkout(3)
    assert rec.path is not None
    return rec.path


def seq_of(r: Replayer, kind: str, nth: int = 0) -> int:
    return r.find(kind=kind)[nth].seq


def test_open_spans_at(store: Path) -> None:
    """The spans open at an event, the workflow first; a start or end event is in its own."""
    with Replayer.open(record_shop(store)) as r:
        inner = seq_of(r, "state", 1)  # the snapshot inside the team member
        assert [(s.kind, s.node) for s in r.open_spans_at(inner)] == [
            ("workflow", "shop"), ("team", "pricing"), ("member", "a")]
        error = seq_of(r, "node_error")
        assert [s.node for s in r.open_spans_at(error)] == ["shop", "checkout"]
        assert r.open_spans_at(seq_of(r, "node_start", 1))[-1].node == "checkout"
        r.open_spans_at(error)[-1].children.append(99)  # copies: the next answer is whole
        assert r.open_spans_at(error)[-1].children == []


def test_value_at_and_value_change(store: Path) -> None:
    """A state value after any event (MISSING before it is set), and how an event changed it."""
    with Replayer.open(record_shop(store)) as r:
        first, second = seq_of(r, "state"), seq_of(r, "state", 1)
        assert r.changing_kinds == frozenset({"state"})
        assert r.value_at("total", first) is MISSING
        assert r.value_at("state.cart.items[0]", first) == "apple"
        assert r.value_at([], None) is None  # before the first event: no state
        change = r.value_change("total", second)
        assert change is not None and (change.before, change.after) == (MISSING, 3)
        assert change.event.seq == second
        assert r.value_change("cart", second) is None  # the snapshot left it alone
        assert r.value_change("total", seq_of(r, "checkpoint")) is None
        r.value_at("cart", second)["items"].append("x")  # the caller's own copy
        assert r.value_at("cart.items", second) == ["apple"]


def test_last_change(store: Path) -> None:
    """The last event at or before a seq that changed a value, with both sides; None when
    nothing did."""
    with Replayer.open(record_shop(store)) as r:
        last = r[-1].seq
        change = r.last_change("total", at=last)
        assert change is not None and change.event.seq == seq_of(r, "state", 1)
        assert (change.before, change.after) == (MISSING, 3)
        cart = r.last_change("cart.items", at=last)
        assert cart is not None and cart.event.seq == seq_of(r, "state")
        assert r.last_change("total", at=seq_of(r, "state")) is None
        assert r.last_change("nowhere", at=last) is None


def test_last_change_of_a_truncated_value_is_unknown(store: Path) -> None:
    """Where the recording truncated the value, the change says so instead of a value."""
    with record_workflow("big", store=store, max_payload_bytes=200) as rec:
        rec.snapshot({"total": 1})
        rec.snapshot({"total": 2, "blob": "x" * 500})
    with Replayer.open(rec.path) as r:
        change = r.last_change("total", at=r[-1].seq)
        assert change is not None and isinstance(change.after, Unknown)
        assert change.before == 1


def test_follow_yields_batches_until_the_footer(tmp_path: Path) -> None:
    """follow gives what is there, then each batch a writer appends, and ends at the footer."""
    path = tmp_path / "live.jsonl.zst"
    header = Header(recording_id=new_recording_id(), workflow="live",
                    started_at="2025-01-01T00:00:00.000000Z")
    writer = LogWriter(path, header, flush_every=1)
    with writer.lock:
        writer.append(Event(0, 0, "workflow_start", node="live"))
    batches: list[list[int]] = []
    with Replayer.open(path) as r:
        for batch in r.follow(poll=0.01):
            batches.append([e.seq for e in batch])
            if len(batches) == 1:
                with writer.lock:
                    writer.append(Event(1, 1, "checkpoint", data={"name": "a"}))
                    writer.append(Event(2, 2, "workflow_complete", node="live", span=0))
            elif len(batches) == 2:
                writer.close(Footer(status="completed", event_count=3, duration_ns=2))
        assert batches == [[0], [1, 2]]
        assert r.summary.status == "completed" and len(r) == 3

"""Counts read right at one: ``1 event``, never ``1 events`` or ``frame(s)`` (storage._words)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from recorder import node, record_workflow
from replayer import EventNotFoundError, Replayer, diff, export, print_report
from replayer.cli.verify import render
from storage import Event, Footer, Header, LogWriter, RegressionPolicy, SkippedFrame
from storage.format.integrity import IntegrityReport


@node
def only(x: int) -> int:
    return x


def one_event(path: Path) -> str:
    """A recording holding exactly one event."""
    writer = LogWriter(path, Header(recording_id="01jone", workflow="one",
                                    started_at="2025-01-01T00:00:00.000000Z"))
    with writer.lock:
        writer.append(Event(0, 0, "checkpoint", data={"name": "only"}))
    writer.close(Footer(status="completed", event_count=1, duration_ns=1))
    return str(path)


def screen(print_to: object, *args: object) -> str:
    out = io.StringIO()
    print_to(*args, Console(file=out, width=200, color_system=None))  # type: ignore[operator]
    return out.getvalue()


def test_one_event(tmp_path: Path) -> None:
    """The replayer's repr, its not-found error and the dot export say ``1 event``."""
    with Replayer.open(one_event(tmp_path / "one.jsonl.zst")) as r:
        assert "1 event at 0" in repr(r)
        with pytest.raises(EventNotFoundError) as err:
            r.get_event(5)
        assert "the recording has 1 event, seq 0..0" in str(err.value)
        assert "1 event\\n" in export(r, "dot")


def test_one_step_and_one_difference(tmp_path: Path) -> None:
    """The diff report says ``1 step`` and the reasons ``1 node execution only in A``."""
    paths = []
    for name, calls in (("a", 1), ("b", 0)):
        with record_workflow("wf", path=str(tmp_path / f"{name}.jsonl.zst")) as rec:
            for i in range(calls):
                only(i)
        paths.append(rec.path)
    d = diff(*paths)
    assert d.regression_reasons() == ["1 node execution only in A"]
    assert "1 step: 0 equal" in screen(print_report, d)
    with pytest.raises(ValueError, match="unknown regression kind 'nope';"):
        RegressionPolicy.only("nope")


def test_one_damaged_frame() -> None:
    """verify says ``1 damaged frame`` and ``DAMAGED: 1 problem``."""
    report = IntegrityReport(path="x.jsonl.zst", status="completed", problems=["bad"],
                             skipped=[SkippedFrame(1, 10, 5, "bad")])
    text = screen(lambda c: render(report, c, list_skipped=False))
    assert "1 damaged frame; --recover lists them" in text
    assert "DAMAGED: 1 problem\n" in text

"""The shortest path through flowtape: record a run, read it back."""

from __future__ import annotations

from pathlib import Path

from recorder import node, record_workflow
from storage import LogReader


@node
def double(x: int) -> int:
    return 2 * x


def test_record_and_read_back(tmp_path: Path) -> None:
    """A recorded run reads back with its header, dense events and a completed footer."""
    with record_workflow("smoke", store=tmp_path) as rec:
        assert double(21) == 42
    assert rec.path is not None
    with LogReader.open(rec.path) as reader:
        events = list(reader.iter_events())
        assert reader.header.workflow == "smoke"
        assert reader.status == "completed"
    assert [e.seq for e in events] == list(range(len(events)))
    assert [e.kind for e in events] == [
        "workflow_start", "node_start", "node_complete", "workflow_complete"]
    assert events[2].data == {"outputs": 42}

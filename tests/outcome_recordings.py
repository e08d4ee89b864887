"""Team runs with chosen outcomes, written event by event, for the export and diff tests.

How a team member or team ended lives in its end event's data (docs/format.md):
``"status"`` — ``failed``, ``cancelled`` or ``timed_out``, absent when it
completed — and ``"error"``; ``team_complete`` also says ``"success"``, and a
``workflow_error`` may carry ``"status"`` (``cancelled``, ``timed_out``).
`team_run` writes such a run with the public `storage.LogWriter`, exactly as
the recorder lays it out, so each outcome can be chosen regardless of what the
recorder of the day writes.

The run: workflow ``teamwork`` (seq 0) > team ``crew`` (1) > member ``alice`` (2)
running node ``draft`` (3, ends at 4), alice ends (5); member ``bob`` (6, ends
at 7); the team ends (8); the workflow ends (9).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from storage import Event, Footer, Header, LogWriter, new_recording_id

#: Start seqs of the spans of `team_run`.
WORKFLOW, TEAM, ALICE, DRAFT, BOB = 0, 1, 2, 3, 6


def error(kind: str, message: str) -> dict[str, Any]:
    """An error payload as the recorder writes it."""
    return {"type": kind, "module": "builtins", "message": message,
            "traceback": ("Traceback (most recent call last):\n"
                          '  File "crew.py", line 7, in alice\n'
                          f"{kind}: {message}\n")}


def team_run(path: Path, *, alice: dict[str, Any] | None = None,
             bob: dict[str, Any] | None = None, team: dict[str, Any] | None = None,
             workflow: tuple[str, dict[str, Any] | None] = ("workflow_complete", None),
             status: str | None = "completed") -> Path:
    """Write the run; ``alice``/``bob``/``team`` are their end events' data, ``workflow``
    the workflow's end kind and data, ``status`` the footer's (None: no footer)."""
    def ev(seq: int, kind: str, node: str, *, parent: int | None = None,
           span: int | None = None, data: Any = None) -> Event:
        return Event(seq, 1000 * (seq + 1), kind, node=node, parent=parent, span=span,
                     lane="MainThread", depth=0, attempt=1 if kind.startswith("node") else None,
                     data=data)

    end_kind, end_data = workflow
    events = [
        ev(0, "workflow_start", "teamwork"),
        ev(1, "team_start", "crew", parent=WORKFLOW,
           data={"member_count": 2, "formation": "pair", "members": ["alice", "bob"]}),
        ev(2, "team_member_start", "alice", parent=TEAM, data={"team": "crew"}),
        ev(3, "node_start", "draft", parent=ALICE, data={"inputs": {"topic": "x"}}),
        ev(4, "node_complete", "draft", parent=ALICE, span=DRAFT, data={"outputs": "text"}),
        ev(5, "team_member_complete", "alice", parent=TEAM, span=ALICE, data=alice),
        ev(6, "team_member_start", "bob", parent=TEAM, data={"team": "crew"}),
        ev(7, "team_member_complete", "bob", parent=TEAM, span=BOB, data=bob),
        ev(8, "team_complete", "crew", parent=WORKFLOW, span=TEAM,
           data=team if team is not None else {"success": True}),
        ev(9, end_kind, "teamwork", span=WORKFLOW, data=end_data),
    ]
    header = Header(recording_id=new_recording_id(), workflow="teamwork",
                    started_at="2026-01-01T00:00:00.000000Z", host=socket.gethostname(),
                    pid=os.getpid())
    writer = LogWriter(path, header, codec="zstd")
    with writer.lock:
        for e in events:
            writer.append(e)
        if status is None:  # a run that stopped without a footer
            writer.close(None)
            return path
        err = end_data.get("error") if isinstance(end_data, dict) else None
        writer.close(Footer(status=status, event_count=len(events), duration_ns=10_000,
                            error=err))
    return path

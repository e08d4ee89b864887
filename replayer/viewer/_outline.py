"""What the viewer draws that the engine works out: spans, their status, messages, first error.

One pass over slim event views (`replayer._export_scan.walk`, the same
`storage.build_spans` every exporter uses) gives every span and message; the
page receives them as compact rows with string tables, so even 400 000 spans
travel small. A span's status follows what its end event says (SPEC §13, and
docs/viewer.md): an ``*_error`` end failed — except a ``workflow_error``
whose ``data.status`` is ``cancelled`` or ``timed_out``, which is that
status; a ``team_member_complete`` or ``team_complete`` may carry ``status``
or ``error`` in its data; ``team_complete`` with ``success: false`` failed.
"""

from __future__ import annotations

from typing import Any

import msgspec

from storage import Span

from .._export_scan import link_messages, walk
from .._replayer import Replayer

__all__ = ["KINDS", "Outline", "Window", "end_status", "outline"]

#: Span kinds, in the order the rows' kind column counts them.
KINDS = ("workflow", "node", "team", "member", "recursion")
_ENDS_WITH_OUTCOME = frozenset({"workflow", "team", "member"})


class Window(msgspec.Struct, kw_only=True):
    """Which events a capped report holds: ``count`` from position ``first`` of ``total``."""

    first: int
    count: int
    total: int
    state_before: Any = None
    """The state after the event just before the window (None at the start)."""


class Outline(msgspec.Struct, kw_only=True):
    """Every span and message of a recording, as the page's timeline and tree read them.

    ``spans`` rows: ``[start_seq, end_seq, start_ns, end_ns, kind, node, status,
    parent, attempt, lane, depth]`` — ``kind``, ``node``, ``status`` and
    ``lane`` index `KINDS`, ``nodes``, ``statuses`` and ``lanes``; -1 stands
    for a missing end or parent. ``messages`` rows: ``[seq, ts, sender span,
    receiver span]`` (start seqs, -1 when no member matches).
    """

    kinds: tuple[str, ...] = KINDS
    nodes: list[str] = []
    lanes: list[str] = []
    statuses: list[str] = []
    spans: list[list[int]] = []
    messages: list[list[int]] = []
    first_error: int | None = None
    """Seq of the first ``node_error`` / ``workflow_error``: where the page opens."""
    last_ts: int = 0
    """The latest ``ts`` in the recording: where a span still running is drawn to."""
    window: Window | None = None
    """Set when the report holds only some of the events."""


def end_status(end_kind: str, data: Any, status: str) -> str:
    """The status of a span whose end event is ``end_kind`` with ``data`` (else ``status``)."""
    told = data.get("status") if isinstance(data, dict) else None
    if end_kind == "workflow_error":
        return told if told in ("cancelled", "timed_out") else "failed"
    if end_kind in ("team_member_complete", "team_complete") and isinstance(data, dict):
        if isinstance(told, str) and told:
            return told
        if data.get("error") is not None or data.get("success") is False:
            return "failed"
    return status


def _settle(replayer: Replayer, spans: list[Span]) -> None:
    """Give workflow, team and member spans the status their end event reports."""
    for s in spans:
        if s.end_seq is not None and s.kind in _ENDS_WITH_OUTCOME:
            end = replayer.get_event(s.end_seq)
            s.status = end_status(end.kind, end.data, s.status)


class _Table:
    """Strings to small integers, in order of first use."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        i = self.index.get(text)
        if i is None:
            i = self.index[text] = len(self.index)
        return i


def outline(replayer: Replayer) -> Outline:
    """Every span (status settled) and message of ``replayer``'s recording, and its first error."""
    scan = walk(replayer, full=True, messages=True, max_errors=1)
    _settle(replayer, scan.spans)
    nodes, lanes, statuses = _Table(), _Table(), _Table()
    kind_of = {k: i for i, k in enumerate(KINDS)}
    rows = [[s.start_seq, -1 if s.end_seq is None else s.end_seq, s.start_ns,
             -1 if s.end_ns is None else s.end_ns, kind_of[s.kind], nodes(s.node),
             statuses(s.status), -1 if s.parent is None else s.parent, s.attempt,
             lanes(s.lane or ""), s.depth] for s in scan.spans]
    messages = [[link.message.seq, link.message.ts,
                 -1 if link.sender is None else link.sender,
                 -1 if link.receiver is None else link.receiver]
                for link in link_messages(scan.messages, scan.spans)]
    return Outline(nodes=list(nodes.index), lanes=list(lanes.index),
                   statuses=list(statuses.index), spans=rows, messages=messages,
                   first_error=scan.errors[0].seq if scan.errors else None,
                   last_ts=scan.last_ts)

"""What the viewer draws that the engine works out: spans, their status, messages, first error.

One pass over slim event views (payloads undecoded, as `storage.build_spans`
reads them) gives every span and message. Spans are kept as columns of
machine integers, not as `storage.Span` objects: a 1M-event run has some
400 000 spans, which as objects take over 200 MB and as columns under 40 MB
— what lets ``flowtape serve`` stay within its memory budget (SPEC §10). The
page receives them as compact rows with string tables (`Outline.to_json`).

The spans are those `Replayer.spans` finds (a start event opens one, the end
event whose ``span`` names it closes it). A span's status follows what its
end event says (SPEC §13, docs/viewer.md): an ``*_error`` end failed — except
a ``workflow_error`` whose ``data.status`` is ``cancelled`` or ``timed_out``,
which is that status; a ``team_member_complete`` or ``team_complete`` may
carry ``status`` or ``error`` in its data; ``team_complete`` with ``success:
false`` failed; a span with no end is ``running``. Messages are matched to
the member executions they went between by `replayer.export.tree.link_messages`,
the exporters' own matching.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Any

import msgspec

from storage import END_KINDS, START_KINDS, EventView, Span
from storage.analysis.outcomes import OUTCOME_KINDS, end_status
from storage.analysis.spans import SPAN_KIND, view_data

from .._replayer import Replayer
from ..export.scan import Message
from ..export.tree import link_messages

__all__ = ["COLUMNS", "KINDS", "Outline", "Window", "outline"]

#: Span kinds, in the order the rows' kind column counts them.
KINDS = ("workflow", "node", "team", "member", "recursion")
#: The columns of a span row, in order.
COLUMNS = ("start", "end", "t0", "t1", "kind", "node", "status", "parent", "attempt", "lane",
           "depth")
_KIND_INDEX = {k: i for i, k in enumerate(KINDS)}
_ROWS_PER_CHUNK = 8192

_enc = msgspec.json.Encoder()


class Window(msgspec.Struct, kw_only=True):
    """Which events a capped report holds: ``count`` from position ``first`` of ``total``."""

    first: int
    count: int
    total: int
    state_before: Any = None
    """The state after the event just before the window (None at the start)."""


class _Table:
    """Strings to small integers, in order of first use."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        i = self.index.get(text)
        if i is None:
            i = self.index[text] = len(self.index)
        return i


class Outline:
    """Every span and message of a recording, as the page's timeline and tree read them.

    ``columns[name][i]`` is column ``name`` (see `COLUMNS`) of span ``i``, in
    start order; ``kind``, ``node``, ``status`` and ``lane`` index `KINDS`,
    ``nodes``, ``statuses`` and ``lanes``; -1 stands for a missing end or
    parent. ``messages`` rows: ``[seq, ts, sender span, receiver span]``
    (start seqs, -1 when no member matches).
    """

    def __init__(self) -> None:
        self.columns: dict[str, array[int]] = {name: array("q") for name in COLUMNS}
        self.nodes, self.lanes, self.statuses = _Table(), _Table(), _Table()
        self.messages: list[list[int]] = []
        self.first_error: int | None = None
        """Seq of the first ``node_error`` / ``workflow_error``: where the page opens."""
        self.last_ts = 0
        """The latest ``ts`` in the recording: where a span still running is drawn to."""
        self.window: Window | None = None
        """Set when the report holds only some of the events."""

    def __len__(self) -> int:
        return len(self.columns["start"])

    def rows(self) -> Iterator[tuple[int, ...]]:
        """The span rows, one tuple each."""
        return zip(*self.columns.values(), strict=True)

    def to_json(self) -> bytes:
        """The outline as the page reads it; span rows are encoded a chunk at a time."""
        head = _enc.encode({
            "kinds": KINDS, "nodes": list(self.nodes.index), "lanes": list(self.lanes.index),
            "statuses": list(self.statuses.index), "first_error": self.first_error,
            "last_ts": self.last_ts, "window": self.window, "messages": self.messages})
        out = bytearray(head[:-1])
        out += b',"spans":['
        cols = list(self.columns.values())
        for lo in range(0, len(self), _ROWS_PER_CHUNK):
            if lo:
                out += b","
            out += _enc.encode(list(zip(*(c[lo:lo + _ROWS_PER_CHUNK] for c in cols),
                                        strict=True)))[1:-1]
        out += b"]}"
        return bytes(out)


def _message(v: EventView) -> Message:
    d = view_data(v)
    d = d if isinstance(d, dict) else {}
    return Message(seq=v.seq, ts=v.ts, lane=v.lane, parent=v.parent, team=v.node or "",
                   sender=str(d.get("from", "")), receiver=str(d.get("to", "")), message=None)


def outline(replayer: Replayer) -> Outline:
    """Every span (status settled) and message of ``replayer``'s recording, and its first error."""
    out = Outline()
    c = out.columns
    start, end, t0, t1 = c["start"], c["end"], c["t0"], c["t1"]
    status, parent, attempt = c["status"], c["parent"], c["attempt"]
    running = out.statuses("running")
    open_: dict[int, int] = {}  # start seq -> row, while the span has no end
    groups: dict[int, Span] = {}  # team and member spans, for matching messages
    messages: list[Message] = []
    for v in replayer.event_views():
        kind = v.kind
        out.last_ts = max(out.last_ts, v.ts)
        if kind in START_KINDS:
            open_[v.seq] = len(start)
            start.append(v.seq)
            end.append(-1)
            t0.append(v.ts)
            t1.append(-1)
            c["kind"].append(_KIND_INDEX[SPAN_KIND[kind]])
            c["node"].append(out.nodes(v.node or ""))
            status.append(running)
            parent.append(-1 if v.parent is None else v.parent)
            attempt.append(v.attempt or 1)
            c["lane"].append(out.lanes(v.lane or ""))
            c["depth"].append(v.depth)
            if kind in ("team_start", "team_member_start"):
                groups[v.seq] = Span(kind=SPAN_KIND[kind], node=v.node or "", start_seq=v.seq,
                                     start_ns=v.ts, parent=v.parent, lane=v.lane)
        elif kind in END_KINDS and v.span is not None:
            row = open_.pop(v.span, None)
            if row is None:
                continue
            end[row], t1[row] = v.seq, v.ts
            said = end_status(kind, view_data(v) if kind in OUTCOME_KINDS else None)
            status[row] = out.statuses(said)
            group = groups.get(v.span)
            if group is not None:
                group.end_seq = v.seq
        elif kind == "team_message":
            messages.append(_message(v))
        if out.first_error is None and kind in ("node_error", "workflow_error"):
            out.first_error = v.seq
    out.messages = [[link.message.seq, link.message.ts,
                     -1 if link.sender is None else link.sender,
                     -1 if link.receiver is None else link.receiver]
                    for link in link_messages(messages, list(groups.values()))]
    return out

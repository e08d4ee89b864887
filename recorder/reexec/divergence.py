"""How a call differs from the recording, said so that a person can act on it (SPEC §12).

A `Divergence` is a value: its kind, where it happened in both runs, the input
differences as §6 value paths (``inputs.messages[2].content``), and the three
recorded executions nearest to the call — the one the recording has at that
place, the same node at another occurrence or under another parent — each
with what differs, the way vcrpy lists the closest recorded requests and the
matcher that failed on each. Its ``message`` says all of it in text, and the
way out.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from storage import Change, format_value, make_patch

from .matcher import comparable
from .tape import Recorded

__all__ = ["Candidate", "Divergence", "DivergenceKind", "input_changes", "nearest", "where"]

DivergenceKind = Literal["unexpected_call", "inputs_changed", "unservable", "exhausted"]

_decode = msgspec.json.Decoder().decode
_enc = msgspec.json.Encoder()
_ABSENT: Any = msgspec.UNSET


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """A recorded execution near a call that diverged."""

    node: str
    """Its node id."""
    path: list[str]
    """The ids of the executions enclosing it, outermost first."""
    seq: int
    """Its start ``seq`` in the recording."""
    occurrence: int
    """Its place among its parent's executions of that node (and attempt), from 1."""
    attempt: int
    """Its attempt number."""
    served_at: int | None = None
    """The seq, in the new run, of the call that already took it (None: not taken)."""
    differs: list[str] = []
    """The input paths where it differs from the call (the first few)."""
    why: str = ""
    """Why it is listed: the call the recording has at this place, the same node…"""


class Divergence(msgspec.Struct, frozen=True, kw_only=True):
    """A call under re-execution that the recording cannot answer as it is."""

    kind: DivergenceKind
    """``unexpected_call`` (no recorded execution has the call's key at this place, or
    the recording has another call here first), ``inputs_changed`` (same key, other
    inputs), ``unservable`` (the recorded value is a stand-in, missing, or does not fit
    the return type), ``exhausted`` (every recorded occurrence was taken already)."""
    seq: int
    """Where, in the new run: the seq of the call's ``node_start`` (when it ran live),
    else the seq it would have had."""
    recorded_seq: int | None
    """The start seq of the recorded execution concerned, if any."""
    node: str
    """The node id of the call."""
    path: list[str]
    """The ids of the executions enclosing the call, outermost first."""
    occurrence: int
    """The call's occurrence under its parent (of this node and attempt), from 1."""
    attempt: int
    """The call's attempt number."""
    recorded_count: int = 0
    """For ``exhausted``: how many occurrences the recording has there."""
    input_changes: list[Change] = []
    """For ``inputs_changed``: recorded (``a``) vs. new (``b``) inputs, as §6 paths."""
    candidates: list[Candidate] = []
    """The nearest recorded executions (at most three)."""
    reason: str = ""
    """For ``unservable`` and an out-of-order call: what exactly."""
    action: Literal["raised", "live", "ended"] = "raised"
    """What re-execution did: raised `ReplayDivergenceError`, ran the call ``live``
    (``on_divergence="live"``), or ``ended`` a served stream the recording had closed."""
    message: str = ""
    """All of the above as text, with the way out."""


def where(path: list[str], workflow: str) -> str:
    """``under `a > b``` or ``at the top level of `wf```."""
    return f"under `{' > '.join(path)}`" if path else f"at the top level of `{workflow}`"


def _token(tok: str) -> str:
    return tok.replace("~1", "/").replace("~0", "~")


def _step(path: str, container: Any, tok: str) -> tuple[str, Any]:
    """``path`` one step down (§6 grammar: ``.key``, ``["odd key"]``, ``[i]``), and the value."""
    if isinstance(container, list):
        i = int(tok)
        return f"{path}[{i}]", container[i] if i < len(container) else _ABSENT
    value = container.get(tok, _ABSENT) if isinstance(container, dict) else _ABSENT
    if tok and all(c.isalnum() or c in "_$-" for c in tok) and tok.isascii():
        return f"{path}.{tok}", value
    return f"{path}[{_enc.encode(tok).decode()}]", value


def input_changes(recorded: bytes | None, new: bytes | None) -> list[Change]:
    """Where the new inputs differ from the recorded ones, as §6 paths under ``inputs``.

    (`storage.make_patch` finds the places; this names them the way the diff does.)
    """
    a = comparable(recorded) if recorded else None
    b = comparable(new) if new else None
    out: list[Change] = []
    for op in make_patch(a, b):
        tokens = [_token(t) for t in op["path"].split("/")[1:]]
        path, here = "inputs", a
        old: Any = a
        for tok in tokens:
            path, old = _step(path, here, tok)
            here = old
        if op["op"] == "add":
            old = _ABSENT
        out.append(Change(path, old, op.get("value", _ABSENT)))
    return out


def nearest(place: Recorded | None, node: str, *, attempt: int, occurrence: int,
            inputs: bytes | None, same_node: list[Recorded],
            expected: Recorded | None = None, limit: int = 3) -> list[Candidate]:
    """The recorded executions nearest to a call: what the recording has at that place,
    then the same node under the same parent, then the same node elsewhere, then the
    other executions at that place; closest inputs first within each."""
    ranked: list[tuple[int, int, int, Recorded, str]] = []
    seen: set[int] = set()

    def add(rank: int, r: Recorded, why: str, distance: int | None = None) -> None:
        if r.seq in seen:
            return
        seen.add(r.seq)
        if distance is None:
            distance = len(input_changes(r.inputs, inputs)) if r.kind == "node" else 0
        ranked.append((rank, distance, r.seq, r, why))

    if expected is not None:
        add(0, expected, "the call the recording has next at this place")
    here = [c for c in (place.children if place is not None else []) if c.kind == "node"]
    for r in [c for c in here if c.node == node][:50]:
        add(1, r, "same node, same place" + ("" if r.attempt == attempt
                                             else f", attempt {r.attempt}"))
    for r in [r for r in same_node if r.parent is not place][:50]:
        add(2, r, "same node " + where(r.path(), "the workflow"))
    for i, r in enumerate(c for c in here if c.node != node):
        if i >= 50:
            break
        add(3, r, "another node at this place", abs(r.occurrence - occurrence))
    ranked.sort(key=lambda t: (t[0], t[1], t[2]))
    out = []
    for _, _, _, r, why in ranked[:limit]:
        differs = [c.path for c in input_changes(r.inputs, inputs)][:3] \
            if r.kind == "node" and r.node == node else []
        out.append(Candidate(node=r.node, path=r.path(), seq=r.seq, occurrence=r.occurrence,
                             attempt=r.attempt, served_at=r.used_by, differs=differs, why=why))
    return out


def describe(d: Divergence, recording_id: str, workflow: str) -> str:
    """The divergence's message: what, where, what differs, the nearest, the way out."""
    call = f"`{d.node}`" + (f" (attempt {d.attempt})" if d.attempt > 1 else "")
    at = where(d.path, workflow)
    head = f"re-execution of {recording_id} diverged at seq {d.seq}: {d.kind}: "
    if d.kind == "exhausted":
        body = (f"occurrence {d.occurrence} of {call} {at}, the recording has "
                f"{d.recorded_count}")
        if d.reason:
            body += f" ({d.reason})"
    elif d.kind == "inputs_changed":
        body = (f"{call} (occurrence {d.occurrence} {at}) was recorded at seq "
                f"{d.recorded_seq} with other inputs:")
        for ch in d.input_changes[:10]:
            body += f"\n    {ch.path}: {format_value(ch.a)} -> {format_value(ch.b)}"
        if len(d.input_changes) > 10:
            body += f"\n    … and {len(d.input_changes) - 10} more"
    elif d.kind == "unservable":
        body = (f"{call} (occurrence {d.occurrence} {at}, recorded at seq {d.recorded_seq}) "
                f"cannot be served: {d.reason}")
    elif d.reason:
        body = f"{call} (occurrence {d.occurrence}) {at}: {d.reason}"
    else:
        body = (f"the recording has no call of {call} {at}" if d.occurrence == 1 else
                f"occurrence {d.occurrence} of {call} {at} is not in the recording")
    lines = [head + body]
    if d.candidates:
        lines.append("  nearest recorded executions:")
        for c in d.candidates:
            extra = []
            if c.differs:
                extra.append("inputs differ at " + ", ".join(c.differs))
            elif c.node == d.node and c.why.startswith("same node"):
                extra.append("same inputs")
            if c.served_at is not None:
                extra.append(f"already served to the call at seq {c.served_at}")
            lines.append(f"    seq {c.seq:<6} {c.node}#{c.occurrence} "
                         f"{where(c.path, workflow)} — {c.why}"
                         + (f" ({'; '.join(extra)})" if extra else ""))
    lines.append(_way_out(d))
    return "\n".join(lines)


def _way_out(d: Divergence) -> str:
    if d.kind == "unservable":
        return (f"  to go on: run it for real with live=[{d.node!r}] (flowtape rerun "
                f"--live {d.node}), or serve a value with overrides={{{d.node!r}: ...}}")
    return (f"  to go on: if the change is intended, run it for real with "
            f"live=[{d.node!r}] or on_divergence=\"live\" (flowtape rerun --live {d.node} / "
            "--on-divergence live); the report then shows what it changed")

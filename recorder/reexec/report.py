"""What a re-execution found: `ReexecReport`, a frozen value (SPEC §12).

The report holds the §6 diff of the new run against the original
(`storage.diff_recordings`, timing left out: a served run is faster by
design), the divergences, and the recorded executions no call asked for.
Its verdict is one of four words:

* ``identical`` — no divergence, and the diff finds nothing;
* ``changed`` — no divergence; the run differs (live code did something else)
  without ending worse: a fix that now completes is ``changed``;
* ``regressed`` — no divergence, but the run ended worse than the recording
  (its status), or has an error the recording has not (or another one);
* ``diverged`` — a call could not be answered from the recording.

``flowtape rerun`` exits 0 for the first two and 1 for the others.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from storage import RecordingDiff, diff_recordings

from .divergence import Divergence, where
from .tape import Recorded, Tape

__all__ = ["ReexecReport", "RunRef", "Unused", "build_report", "unused_executions"]

Verdict = Literal["identical", "changed", "regressed", "diverged"]


class Unused(msgspec.Struct, frozen=True, kw_only=True):
    """A recorded node execution that no call of the new run asked for."""

    node: str
    """Its node id."""
    path: list[str]
    """The ids of the executions enclosing it, outermost first."""
    seq: int
    """Its start seq in the recording."""
    occurrence: int
    """Its occurrence under its parent (of its node and attempt)."""
    attempt: int
    """Its attempt number."""


class RunRef(msgspec.Struct, frozen=True, kw_only=True):
    """Which recording: its id and its file."""

    recording_id: str
    path: str


class ReexecReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a re-execution found (see the module docstring)."""

    verdict: Verdict
    """``identical``, ``changed``, ``regressed`` or ``diverged``."""
    original: RunRef
    """The recording that was re-executed."""
    recording: RunRef
    """The re-execution's own recording (its header's ``replay_of`` is the original)."""
    fork_seq: int | None
    """For a fork (``live_from``, ``overrides``): the recorded event it forks at."""
    status: str
    """How the new run ended: ``completed``, ``failed``, ``cancelled``, ``timed_out``."""
    sources: dict[str, int]
    """How many calls were answered each way: ``recorded``, ``live``, ``override``."""
    divergences: list[Divergence]
    """The calls that diverged, in the order they happened."""
    unused: list[Unused]
    """Recorded node executions no call asked for (outermost only: what a served or
    unused execution did inside is its own business)."""
    notes: list[str]
    """Things worth knowing that are not divergences (a return annotation that could
    not be resolved, so values were served as plain JSON)."""
    diff: RecordingDiff
    """The §6 diff of the new run (B) against the original (A), timing not compared."""

    @property
    def identical(self) -> bool:
        return self.verdict == "identical"

    @property
    def diverged(self) -> bool:
        return self.verdict == "diverged"

    @property
    def regressed(self) -> bool:
        return self.verdict == "regressed"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``diff`` has the §6 shape (`RecordingDiff.to_dict`)."""
        out: dict[str, Any] = msgspec.to_builtins(msgspec.structs.replace(
            self, diff=None))  # type: ignore[arg-type]
        out["identical"] = self.identical
        out["diverged"] = self.diverged
        out["regressed"] = self.regressed
        out["diff"] = self.diff.to_dict()
        return out

    def to_json(self, *, indent: int = 2) -> str:
        raw = msgspec.json.encode(self.to_dict())
        return msgspec.json.format(raw, indent=indent).decode() if indent else raw.decode()

    def headline(self) -> str:
        """One line: the verdict, and how the calls were answered."""
        how = ", ".join(f"{n} {k}" for k, n in sorted(self.sources.items())) or "no node calls"
        words = {"identical": "identical to the recording",
                 "changed": "changed, not regressed",
                 "regressed": "regressed", "diverged": "diverged"}
        return (f"re-execution of {self.original.recording_id} ({self.recording.recording_id}"
                f"): {words[self.verdict]}; run {self.status}; calls answered: {how}")

    def to_text(self, *, width: int | None = None) -> str:
        """A plain-text report: headline, divergences, unused executions, notes, the diff."""
        lines = [self.headline()]
        if self.fork_seq is not None:
            lines.append(f"forked at seq {self.fork_seq} of the recording")
        if self.divergences:
            lines.append(f"divergences ({len(self.divergences)}):")
            lines.extend("  " + d.message.replace("\n", "\n  ") for d in self.divergences)
        if self.unused:
            lines.append(f"recorded executions never asked for ({len(self.unused)}):")
            lines.extend(f"  seq {u.seq:<6} {u.node}#{u.occurrence} "
                         f"{where(u.path, 'the workflow')}" for u in self.unused)
        lines.extend(f"note: {n}" for n in self.notes)
        lines.append(self.diff.to_text(width=width))
        return "\n".join(lines)


def unused_executions(root: Recorded, live: set[int]) -> list[Unused]:
    """The outermost recorded node executions nobody took. ``live``: the start seqs of
    the taken ones that ran live (their insides were asked for; a served one's were not)."""
    out: list[Unused] = []
    stack = [root]
    while stack:
        r = stack.pop()
        for c in r.children:
            if c.kind == "node" and c.used_by is None:
                out.append(Unused(node=c.node, path=c.path(), seq=c.seq,
                                  occurrence=c.occurrence, attempt=c.attempt))
            elif c.kind != "node" or c.seq in live:
                stack.append(c)
    out.sort(key=lambda u: u.seq)
    return out


def build_report(tape: Tape, new_path: str, *, divergences: list[Divergence],
                 live: set[int], sources: dict[str, int], notes: list[str],
                 fork_seq: int | None) -> ReexecReport:
    """The report of a finished re-execution whose recording is at ``new_path``."""
    diff = diff_recordings(tape.path, new_path, compare_timing=False)
    regressed = diff.status_worse or any(c.b is not msgspec.UNSET for c in diff.error_changes)
    verdict: Verdict = ("diverged" if divergences else "regressed" if regressed
                        else "identical" if diff.identical else "changed")
    return ReexecReport(
        verdict=verdict,
        original=RunRef(recording_id=tape.recording_id, path=tape.path),
        recording=RunRef(recording_id=diff.b_recording.recording_id, path=new_path),
        fork_seq=fork_seq, status=str(diff.metadata.status.b), sources=dict(sources),
        divergences=list(divergences), unused=unused_executions(tape.root, live),
        notes=list(notes), diff=diff)

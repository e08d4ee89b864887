"""What a run diff takes and returns: `DiffOptions`, `RecordingDiff` and its parts,
`RegressionPolicy`, the text report.

The result is a value (frozen msgspec Structs, a docstring under each
field), as Temporal's replay results are: the caller decides whether a
difference is an error. `RecordingDiff.to_dict` is the stable JSON shape of
SPEC §6 (docs/diff.md documents it key by key); `RecordingDiff.to_text` is
a plain-text report for places that cannot use rich (the pytest plugin,
logs), written by `storage.analysis.difftext`. The engine that fills these in is
`storage.analysis.diff`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import msgspec

from .._words import plural
from .difftext import format_value, text_report
from .valuediff import ABSENT

__all__ = [
    "STATUS_RANK",
    "Change",
    "Delta",
    "DiffMetadata",
    "DiffOptions",
    "DivergenceSide",
    "FirstDivergence",
    "NodeChange",
    "RecordingDiff",
    "RecordingRef",
    "RegressionPolicy",
    "StateChanges",
    "Step",
    "TimingRegression",
    "format_value",
]

StepOp = Literal["equal", "changed", "only_in_a", "only_in_b"]

#: How bad a run's status is; a higher rank in B than in A is a worse status.
STATUS_RANK = {"completed": 0, "running": 1, "cancelled": 2, "timed_out": 3, "failed": 4,
               "incomplete": 5}

#: The top-level keys of `RecordingDiff.to_dict`, in order (SPEC §6).
DICT_KEYS = ("identical", "regression", "first_divergence", "steps", "only_in_a", "only_in_b",
             "input_changes", "output_changes", "error_changes", "state_changes",
             "timing_regressions", "metadata")


class Change(msgspec.Struct, frozen=True, gc=False):
    """One place where two values differ."""

    path: str
    """Where, in the §6 path grammar: ``outputs.result.score``, ``state.cache.hits``."""
    a: Any = ABSENT
    """The value in A; `msgspec.UNSET` (omitted from JSON) when A has nothing there."""
    b: Any = ABSENT
    """The value in B; `msgspec.UNSET` (omitted from JSON) when B has nothing there."""
    unknown: list[str] | msgspec.UnsetType = ABSENT
    """The sides (``"a"``, ``"b"``) whose value is not known: the recording holds a
    ``{"$truncated": size, "$preview": …}`` stand-in there (the value was over the
    recorder's size limit). Omitted (`msgspec.UNSET`) when both values are known."""


class NodeChange(msgspec.Struct, frozen=True, gc=False):
    """A `Change` inside one node execution, with the node it belongs to."""

    node: str
    """The node (team, member) id."""
    path: str
    """Where, starting at ``inputs``, ``outputs`` or ``error``."""
    a: Any = ABSENT
    """The value in A (`msgspec.UNSET` when absent)."""
    b: Any = ABSENT
    """The value in B (`msgspec.UNSET` when absent)."""
    unknown: list[str] | msgspec.UnsetType = ABSENT
    """The sides whose value is a ``$truncated`` stand-in (see `Change.unknown`)."""


class Step(msgspec.Struct, frozen=True):
    """One row of the alignment: an execution in A, in B, or a pair of them."""

    op: StepOp
    """``equal``, ``changed`` (paired, values differ), ``only_in_a`` or ``only_in_b``."""
    node: str
    """The node (team, member, recursion) id."""
    a: int | None
    """Start ``seq`` of the span in A, or None when only in B."""
    b: int | None
    """Start ``seq`` of the span in B, or None when only in A."""
    changes: list[Change] = []
    """For ``changed``: the input, output and error differences (not ignored)."""


class DivergenceSide(msgspec.Struct, frozen=True, gc=False):
    """One side of the first divergence."""

    node: str
    """The node id of the execution on this side."""
    seq: int
    """Its span's start ``seq``."""
    status: str
    """How the execution ended (`storage.analysis.outcomes.end_status`): ``completed``, ``failed``,
    ``cancelled``, ``timed_out``; never ended: ``running`` while the recording is being
    written, ``incomplete`` once its writer is gone."""


class FirstDivergence(msgspec.Struct, frozen=True, gc=False):
    """The first step of the alignment that is not ``equal``."""

    position: int
    """Index into `RecordingDiff.steps`."""
    a: DivergenceSide | None
    """The execution in A, or None when the step is only in B."""
    b: DivergenceSide | None
    """The execution in B, or None when the step is only in A."""


class StateChanges(msgspec.Struct, frozen=True):
    """Differences of the recorded state (paths start at ``state``)."""

    at_end: list[Change] = []
    """The final states of the two runs."""
    at_first_divergence: list[Change] = []
    """The states just after the first divergent step (on a side that lacks
    the step: after the nearest earlier step it has)."""


class TimingRegression(msgspec.Struct, frozen=True, gc=False):
    """A node execution that got slower beyond the tolerance."""

    node: str
    """The node id."""
    a_ns: int
    """Duration in A, nanoseconds."""
    b_ns: int
    """Duration in B, nanoseconds."""
    ratio: float
    """``b_ns / a_ns`` (A's duration taken as at least 1 ns)."""
    a_seq: int
    """Start ``seq`` of the node's span in A (which of its executions this is)."""
    b_seq: int
    """Start ``seq`` of the paired span in B."""
    attempt: int = 1
    """The execution's attempt number (the same on both sides: it is part of the key)."""


class Delta(msgspec.Struct, frozen=True, gc=False):
    """A value in A and in B."""

    a: Any
    """The value in A."""
    b: Any
    """The value in B."""


class DiffMetadata(msgspec.Struct, frozen=True, gc=False):
    """Run-level figures of both recordings."""

    status: Delta
    """How each run ended: ``completed``, ``failed``, ``timed_out``, ``cancelled`` or
    ``incomplete``."""
    duration_ns: Delta
    """Wall duration of each run, nanoseconds."""
    event_count: Delta
    """Events in each recording."""
    node_count: Delta
    """Node executions (spans of kind ``node``) in each recording."""


class RecordingRef(msgspec.Struct, frozen=True, gc=False):
    """Which recording a side is (for reports; not part of `RecordingDiff.to_dict`)."""

    path: str
    """The file."""
    recording_id: str
    """The header's recording id."""
    workflow: str
    """The workflow name."""


class RegressionPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """What counts as a regression. By default, every non-ignored difference.

    ::

        RegressionPolicy()                           # anything
        RegressionPolicy.only("errors", "status")    # new/changed errors, worse status
        RegressionPolicy(timing=False)               # anything but slowdowns
    """

    missing_nodes: bool = True
    """A node execution in A that B lacks (``only_in_a``)."""
    extra_nodes: bool = True
    """A node execution in B that A lacks (``only_in_b``)."""
    inputs: bool = True
    """A changed input of a paired execution."""
    outputs: bool = True
    """A changed output of a paired execution."""
    errors: bool = True
    """A new, gone or changed error of a paired execution."""
    state: bool = True
    """A changed final state."""
    status: bool = True
    """B's run ended worse than A's (e.g. ``completed`` -> ``failed``)."""
    timing: bool = True
    """A timing regression (when the diff compared timing)."""

    KINDS: ClassVar[tuple[str, ...]] = ("missing_nodes", "extra_nodes", "inputs", "outputs",
                                        "errors", "state", "status", "timing")

    @classmethod
    def only(cls, *kinds: str) -> RegressionPolicy:
        """A policy counting only the named kinds (see the fields); ValueError for others."""
        unknown = [k for k in kinds if k not in cls.KINDS]
        if unknown:
            raise ValueError(f"unknown regression {'kind' if len(unknown) == 1 else 'kinds'} "
                             f"{', '.join(map(repr, unknown))}; "
                             f"choose from {', '.join(cls.KINDS)}")
        return cls(**{k: k in kinds for k in cls.KINDS})


class DiffOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How two runs are compared (SPEC §6), in one place for every caller.

    `diff_recordings`, `replayer.diff`, ``flowtape compare`` and the pytest
    golden fixture all take these, by name (``ignore=[...]``) or as one value::

        options = DiffOptions(ignore=("*.request_id",), compare_timing=False)
        diff_recordings("a.jsonl.zst", "b.jsonl.zst", options)

    Raises ValueError for a value out of range or an ignore rule that is not one.
    """

    ignore: tuple[str, ...] = ()
    """Path globs not to compare (``*.timestamp``, ``fetch_*:outputs.headers``; docs/diff.md).
    Any iterable of strings (or one string) is taken."""
    numeric_tolerance: float = 0.0
    """Numbers differing by at most this much are equal."""
    relative_tolerance: float = 0.0
    """Numbers differing by at most this times the larger magnitude are equal."""
    timing_tolerance: float = 1.5
    """A paired node is a timing regression when B took more than this times A's time …"""
    min_timing_ns: int = 5_000_000
    """… and more than this many nanoseconds longer."""
    compare_timing: bool = True
    """False: no timing regressions at all."""
    policy: RegressionPolicy = RegressionPolicy()
    """What counts as a regression (None is taken as the default: everything)."""

    def __post_init__(self) -> None:
        ignore: Any = self.ignore
        if not isinstance(ignore, tuple):
            msgspec.structs.force_setattr(
                self, "ignore", (ignore,) if isinstance(ignore, str) else tuple(ignore))
        if self.policy is None:
            msgspec.structs.force_setattr(self, "policy", RegressionPolicy())
        if not self.timing_tolerance >= 1.0:
            raise ValueError(f"timing_tolerance must be >= 1.0 (a ratio), not "
                             f"{self.timing_tolerance!r}")
        if not self.min_timing_ns >= 0:
            raise ValueError(f"min_timing_ns must be >= 0, not {self.min_timing_ns!r}")
        if not (self.numeric_tolerance >= 0 and self.relative_tolerance >= 0):
            raise ValueError("tolerances must be >= 0, not "
                             f"{self.numeric_tolerance!r} / {self.relative_tolerance!r}")
        msgspec.structs.force_setattr(self, "min_timing_ns", int(self.min_timing_ns))


class RecordingDiff(msgspec.Struct, frozen=True, kw_only=True):
    """How run B differs from run A (SPEC §6). Made by `diff_recordings`."""

    identical: bool
    """No behavioural difference: every step equal, same final state, same status.
    Timing, durations and event counts do not take part."""
    regression: bool
    """Whether the differences count as a regression under the diff's policy."""
    first_divergence: FirstDivergence | None
    """The first non-equal step, or None."""
    steps: list[Step]
    """The aligned node executions, parents before their children."""
    only_in_a: list[str]
    """Node ids of the executions only A has, in step order."""
    only_in_b: list[str]
    """Node ids of the executions only B has, in step order."""
    input_changes: list[NodeChange]
    """Input differences of paired executions."""
    output_changes: list[NodeChange]
    """Output differences of paired executions."""
    error_changes: list[NodeChange]
    """Error differences of paired executions (``error.type``, ``error.message``,
    ``error.causes``)."""
    state_changes: StateChanges
    """Differences of the recorded state."""
    timing_regressions: list[TimingRegression]
    """Paired node executions slower than the tolerance, slowest ratio first."""
    metadata: DiffMetadata
    """Status, duration, event and node counts of both runs."""
    a_recording: RecordingRef
    """Which recording A is (not in `to_dict`)."""
    b_recording: RecordingRef
    """Which recording B is (not in `to_dict`)."""
    policy: RegressionPolicy = RegressionPolicy()
    """The policy `regression` was judged by (not in `to_dict`)."""

    # --- verdicts ------------------------------------------------------------------------
    def is_regression(self, policy: RegressionPolicy | None = None) -> bool:
        """Whether the differences count as a regression under ``policy`` (default: the diff's)."""
        return bool(self.regression_reasons(policy))

    def regression_reasons(self, policy: RegressionPolicy | None = None) -> list[str]:
        """One short line per kind of difference that counts under ``policy``; empty if none."""
        p = policy if policy is not None else self.policy
        out: list[str] = []

        def count(n: int, what: str, where: str = "") -> None:
            if n:
                out.append(plural(n, what) + where)

        if p.missing_nodes:
            count(len(self.only_in_a), "node execution", " only in A")
        if p.extra_nodes:
            count(len(self.only_in_b), "node execution", " only in B")
        if p.inputs:
            count(len(self.input_changes), "changed input value")
        if p.outputs:
            count(len(self.output_changes), "changed output value")
        if p.errors:
            count(len(self.error_changes), "changed error value")
        if p.state:
            count(len(self.state_changes.at_end), "changed final state value")
        if p.status and self.status_worse:
            out.append(f"status {self.metadata.status.a} -> {self.metadata.status.b}")
        if p.timing:
            count(len(self.timing_regressions), "timing regression")
        return out

    @property
    def status_worse(self) -> bool:
        """B's run ended worse than A's."""
        s = self.metadata.status
        return STATUS_RANK.get(s.b, 4) > STATUS_RANK.get(s.a, 4)

    @property
    def moved(self) -> list[str]:
        """Node ids both only in A and only in B: executions that moved (e.g. a swapped pair)."""
        in_b = set(self.only_in_b)
        out: list[str] = []
        for n in self.only_in_a:
            if n in in_b and n not in out:
                out.append(n)
        return out

    # --- shapes ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The SPEC §6 JSON shape: exactly the documented top-level keys, in a stable order.

        Absent values (a key one side lacks) are omitted from ``{path, a, b}``
        objects; see docs/diff.md.
        """
        full = msgspec.to_builtins(self)
        return {k: full[k] for k in DICT_KEYS}

    def to_json(self, *, indent: int = 2) -> str:
        """`to_dict` as JSON text (stable key order)."""
        raw = msgspec.json.encode(self.to_dict())
        return msgspec.json.format(raw, indent=indent).decode() if indent else raw.decode()

    def to_text(self, *, max_lines: int = 200, width: int | None = None) -> str:
        """A plain-text report: verdict, first divergence, changes, state, timing, metadata.

        Lines fit in ``width`` columns (default: the terminal's, else 120): a long value
        is shown around its first difference (see `storage.analysis.difftext.show_pair`).
        """
        return "\n".join(text_report(self, max_lines, width))

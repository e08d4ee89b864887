"""The analysis room: what a recording means — spans, outcomes, state, value paths, the diff.

Spans and how each ended (`spans`, `outcomes`), the state at any event
(`state`, with `fold` for recordings without state events), RFC 6902
patches (`patch`), the grammar of §6 value paths (`paths`), path-level
value diffs (`valuediff`), sequence alignment (`align`) and the diff of two
runs (`diff`, with `diffside`, `diffmodel` and `difftext`). It lives in
`storage` so that the recorder (re-execution, the pytest plugin) and the
replayer can both use it.

It imports `storage.errors`, `storage._words` and `storage.format` (to read
events), and never `storage.stores`.
"""

from .diff import diff_recordings
from .diffmodel import (
    Change,
    DiffOptions,
    FirstDivergence,
    NodeChange,
    RecordingDiff,
    RegressionPolicy,
    StateChanges,
    Step,
    TimingRegression,
    format_value,
)
from .patch import apply_patch, make_patch
from .spans import EventView, Span, SpanFold, build_spans, iter_event_views, iter_spans
from .state import StateSnapshot, StateTracker, UnknownState, iter_snapshots

__all__ = [
    "Change",
    "DiffOptions",
    "EventView",
    "FirstDivergence",
    "NodeChange",
    "RecordingDiff",
    "RegressionPolicy",
    "Span",
    "SpanFold",
    "StateChanges",
    "StateSnapshot",
    "StateTracker",
    "Step",
    "TimingRegression",
    "UnknownState",
    "apply_patch",
    "build_spans",
    "diff_recordings",
    "format_value",
    "iter_event_views",
    "iter_snapshots",
    "iter_spans",
    "make_patch",
]

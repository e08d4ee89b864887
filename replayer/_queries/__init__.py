"""The questions the terminal, the viewer and the exports ask of a recording, answered once.

`answers` holds the questions about events and state (which events match, which
spans are open, who changed a value, following a growing file); `stepping` the
`Stepping` mixin `Replayer` inherits: where the debugger's moves land (step,
next, return, until, their reverses, search) and what a frame is, found by
walking the ``parent`` / ``span`` links of the events near the cursor rather
than by building every span of the recording.
"""

from .answers import (
    POLL_SECONDS,
    ValueChange,
    follow,
    last_change,
    matcher,
    open_spans_at,
    state_path,
    value_change,
)
from .stepping import Found, Stepping

__all__ = ["POLL_SECONDS", "Found", "Stepping", "ValueChange", "follow", "last_change",
           "matcher", "open_spans_at", "state_path", "value_change"]

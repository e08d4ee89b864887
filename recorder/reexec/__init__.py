"""Deterministic re-execution (SPEC §12): run the code again while ``@node`` calls
return what a recording says they returned, and report where the new run differs.

The room, by job: `tape` reads the recording into a tree of executions,
`matcher` finds a call's recorded execution, `session` decides what each call
does, `serving` rebuilds recorded values and errors, `replaying` is the
recorder that writes the new run, `divergence` and `report` say what happened,
`reexecute` is the way in, and `rerun` is what ``flowtape rerun`` runs. It
reads recordings through `storage` only. See docs/reexecution.md.
"""

from .divergence import Candidate, Divergence
from .reexecute import Reexecution, reexecute
from .report import ReexecReport, Unused

__all__ = ["Candidate", "Divergence", "ReexecReport", "Reexecution", "Unused", "reexecute"]

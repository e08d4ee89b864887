"""Errors the recorder raises, under `storage.FlowtapeError`.

::

    FlowtapeError
     ├── RecorderError (also a ValueError): a bad option to record_workflow / @node /
     │    reexecute
     ├── ReplayDivergenceError (also a LookupError): under re-execution, a call the
     │    recording cannot answer (SPEC §12); carries the `Divergence`
     ├── RecordedNodeError: a recorded node error whose class could not be rebuilt
     └── RecordingWriteError is storage's (strict mode re-raises it)

Recording never raises into a workflow except in ``strict=True`` mode; a bad
option is refused before anything is recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage import FlowtapeError, RecordingWriteError

if TYPE_CHECKING:
    from .reexec.divergence import Divergence

__all__ = ["RecordedNodeError", "RecorderError", "RecordingWriteError", "ReplayDivergenceError"]


class RecorderError(FlowtapeError, ValueError):
    """The recorder was asked for something it cannot honour (a bad option): the
    message names the option, the value given and the values it takes."""


class ReplayDivergenceError(FlowtapeError, LookupError):
    """Under re-execution, a ``@node`` call the recording cannot answer.

    Raised at the first call that differs (never later), from inside the
    code under re-execution. ``divergence`` says how (``kind``: ``unexpected_call``,
    ``inputs_changed``, ``unservable`` or ``exhausted``), where (``seq`` in the new run,
    ``recorded_seq``, ``node``, ``path``), what differs (``input_changes`` as §6 value
    paths) and which recorded executions were nearest (``candidates``). A
    LookupError: the lookup of a recorded answer for the call failed.
    """

    def __init__(self, divergence: Divergence) -> None:
        self.divergence = divergence
        super().__init__(divergence.message)

    @property
    def kind(self) -> str:
        return self.divergence.kind

    @property
    def node(self) -> str:
        return self.divergence.node

    @property
    def seq(self) -> int:
        return self.divergence.seq

    @property
    def recorded_seq(self) -> int | None:
        return self.divergence.recorded_seq


class RecordedNodeError(FlowtapeError):
    """A node error from the recording, raised again under re-execution, whose class
    could not be rebuilt: its module is not loaded, or it cannot be built from the
    recorded message alone. Carries what was recorded.
    """

    def __init__(self, type: str, module: str, message: str, traceback: str, *,
                 node: str, seq: int, recording_id: str) -> None:
        self.type = type
        """The original exception's class name (``__qualname__``)."""
        self.module = module
        """The module that defined it."""
        self.message = message
        """``str()`` of the original exception (masked like any recorded value)."""
        self.traceback = traceback
        """The recorded traceback, formatted."""
        self.node = node
        self.seq = seq
        self.recording_id = recording_id
        super().__init__(
            f"{type}: {message} (recorded by `{node}` at seq {seq} of recording {recording_id}; "
            f"{module}.{type} could not be rebuilt, so it is raised as RecordedNodeError)")

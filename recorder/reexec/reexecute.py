"""`reexecute`: run the workflow's code again against a recording (SPEC §12).

::

    with reexecute("01HX…", live=["format_*"]) as rx:   # or: async with
        triage(question)
    print(rx.report.to_text())

The recording is read once, when `reexecute` is called (so a bad id fails
before any code runs). Inside the block a `ReplayingRecorder` is the current
recorder: ``@node`` calls are answered from the recording, and the block is
recorded like any run — by default into the store the original came from
(for an id) or the default store (for a file), or exactly where ``record_to``
says. The original is only read, never changed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import msgspec

from storage import CODECS, LogReader, LogWriter, Store, suffix_for_codec

from .._options import RecorderOptions
from .._published import ExecutionRecorder
from .._workflow import WorkflowRecording, record_workflow
from ..errors import RecorderError
from .divergence import Divergence
from .replaying import ReplayingRecorder
from .report import ReexecReport, build_report
from .session import Session
from .tape import Tape, open_recording

__all__ = ["Reexecution", "reexecute"]

#: Recording file suffixes and their codecs (".jsonl.zst": "zstd", …).
_SUFFIXES = {suffix_for_codec(c): c for c in CODECS}


class _ReplayRun(WorkflowRecording):
    """`record_workflow`'s context manager, with a `ReplayingRecorder` for the run."""

    def __init__(self, name: str, options: RecorderOptions, session: Session) -> None:
        super().__init__(name, options, 1.0)
        self.session = session

    def _new_recorder(self, options: RecorderOptions) -> ExecutionRecorder:
        return ReplayingRecorder(self.name, options=options, session=self.session)


class Reexecution:
    """What `reexecute` returns: a sync and async context manager; ``rx`` inside."""

    def __init__(self, tape: Tape, session: Session, run: WorkflowRecording) -> None:
        self.tape = tape
        self.session = session
        self._run = run
        self._report: ReexecReport | None = None
        self._ended = False

    @property
    def recorder(self) -> ExecutionRecorder:
        """The recorder of the new run (current inside the block: ``rx.recorder.snapshot``)."""
        if self._run.recorder is None:
            raise RecorderError("rx.recorder exists once the `with reexecute(...)` block "
                                "has been entered")
        return self._run.recorder

    @property
    def path(self) -> str | None:
        """The new run's recording file."""
        return self._run.recorder.path if self._run.recorder is not None else None

    @property
    def recording_id(self) -> str:
        return self.recorder.recording_id

    @property
    def divergences(self) -> list[Divergence]:
        """The divergences so far (the report has them too, once the block has ended)."""
        return list(self.session.divergences)

    @property
    def report(self) -> ReexecReport:
        """The `ReexecReport`, made once the block has ended (on first use).

        Raises `RecorderError` inside the block, and when the new recording could
        not be written (the log said why).
        """
        if self._report is None:
            if not self._ended:
                raise RecorderError("rx.report is ready once the `with reexecute(...)` "
                                    "block has ended")
            path = self.path
            writer = self.recorder._writer
            if path is None or not os.path.exists(path) or not isinstance(writer, LogWriter):
                raise RecorderError(f"the re-execution of {self.tape.recording_id} could not "
                                    f"be recorded (to {path}; see the log), so there is no "
                                    "report")
            s = self.session
            self._report = build_report(self.tape, path, divergences=s.divergences,
                                        live=s.ran_live, sources=dict(s.sources),
                                        notes=s.notes, fork_seq=s.fork_seq)
        return self._report

    def __enter__(self) -> Reexecution:
        if self._run.recorder is not None:
            raise RecorderError("a Reexecution runs once; call reexecute() again for "
                                "another run")
        self._run.__enter__()
        return self

    def __exit__(self, et: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        try:
            self._run.__exit__(et, exc, tb)
        finally:
            self._ended = True
            self.tape.close()
        return False

    async def __aenter__(self) -> Reexecution:
        return self.__enter__()

    async def __aexit__(self, et: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        return self.__exit__(et, exc, tb)


def reexecute(
    recording: str | os.PathLike[str] | LogReader | Any,
    *,
    live: str | Iterable[str] = (),
    on_divergence: Literal["raise", "live"] = "raise",
    match_inputs: bool = True,
    live_from: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    record_to: str | os.PathLike[str] | Store | None = None,
    store: str | Store | None = None,
) -> Reexecution:
    """Run the code inside ``with`` / ``async with`` against ``recording``.

    ``recording`` is a file, an id (unique prefix, ``latest``) in ``store``, or
    anything with a ``path`` (a `replayer.Replayer`). Inside the block:

    * each ``@node`` call is matched to the recorded execution with the same node
      id, nesting path, occurrence under its parent and attempt, and returns its
      recorded output (as the declared return type) without running — or raises
      its recorded error again;
    * ``live`` names or globs run for real (the calls they make are still served);
    * ``live_from=SEQ`` serves what was recorded before event SEQ, runs the rest
      live; ``overrides={"node" or "node#n": value}`` serves those values instead
      (``#n``: the n-th execution of the node in the recording);
    * a call the recording cannot answer raises `ReplayDivergenceError` — or, with
      ``on_divergence="live"``, runs for real and is noted; ``match_inputs=False``
      serves a call whose inputs changed.

    The new run is recorded (``replay_of`` in its header; into ``record_to``: a
    recording file name, or a store; default: the original's store for an id, else
    the default store). After the block, ``rx.report`` is a `ReexecReport`.

    Raises `RecordingNotFoundError` and the read errors for the recording, and
    `RecorderError` for a bad option, before any code runs.
    """
    if on_divergence not in ("raise", "live"):
        raise RecorderError(f"on_divergence must be 'raise' or 'live', not {on_divergence!r}")
    if isinstance(live, str):
        live = [live]
    live = [str(g) for g in live]
    with open_recording(recording, store) as reader:
        tape = Tape.read(reader)
    if live_from is not None and (isinstance(live_from, bool) or not isinstance(live_from, int)
                                  or not 0 <= live_from <= tape.last_seq):
        raise RecorderError(f"live_from must be an event seq of recording {tape.recording_id} "
                            f"(0 to {tape.last_seq}), not {live_from!r}")
    session = Session(tape, live=live, on_divergence=on_divergence,
                      match_inputs=bool(match_inputs), live_from=live_from,
                      overrides=overrides)
    id_given = isinstance(recording, str) and not os.path.exists(recording)
    path, target_store, codec = _destination(record_to, store if id_given else None)
    header = tape.header
    config = header.config  # recorded the way the original was: the same size limit
    plain = record_workflow(
        header.workflow, tags=list(header.tags), store=target_store, path=path, codec=codec,
        inputs=header.inputs, entry=header.entry,
        record_state_snapshots=bool(config.get("record_state_snapshots", True)),
        **{k: config[k] for k in ("max_payload_bytes", "keyframe_every")
           if isinstance(config.get(k), int) and not isinstance(config.get(k), bool)})
    options = msgspec.structs.replace(plain.options, replay_of=tape.recording_id)
    return Reexecution(tape, session, _ReplayRun(header.workflow, options, session))


def _destination(record_to: Any, store: Any) -> tuple[str | None, Any, str]:
    """(path, store, codec) for the new recording (see `reexecute`)."""
    if record_to is None:
        return None, store, "zstd"
    if isinstance(record_to, str | os.PathLike):
        text = os.fspath(record_to)
        for suffix in sorted(_SUFFIXES, key=len, reverse=True):
            if text.endswith(suffix):
                if os.path.lexists(text):
                    raise RecorderError(f"record_to: {text} exists; a re-execution writes a new "
                                        "recording: choose another file name, or a store")
                return text, None, _SUFFIXES[suffix]
    return None, record_to, "zstd"

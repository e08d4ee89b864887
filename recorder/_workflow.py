"""`record_workflow` and the earlier-published switches around it.

`record_workflow` opens a recording, makes it current for the code inside
(sync ``with`` or ``async with``), and on the way out writes the outcome —
``workflow_complete``, or ``workflow_error`` from the exception, which it
re-raises unchanged — closes the log and catalogues it in the store.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from typing import Any, Literal

import msgspec

from storage import DEFAULT_FLUSH_EVERY, DEFAULT_FLUSH_INTERVAL, Footer, Store, open_store

from ._context import ACTIVE, CURRENT, FRAME
from ._options import DEFAULT_KEYFRAME_EVERY, DEFAULT_MAX_PAYLOAD, RecorderOptions, check_options
from ._published import ExecutionRecorder
from ._recorder import status_for_exception
from ._sampled import SampledOutRecorder

__all__ = [
    "WorkflowRecording",
    "disable_workflow_recording",
    "enable_workflow_recording",
    "record_workflow",
]

Keep = Literal["always", "failure"] | Callable[[Footer], bool]


class WorkflowRecording:
    """The context manager `record_workflow` returns; yields an `ExecutionRecorder`."""

    def __init__(self, name: str, options: RecorderOptions, sample_rate: float) -> None:
        self.name = name
        self.options = options
        self.sample_rate = sample_rate
        self.recorder: ExecutionRecorder | None = None
        self._tokens: tuple[Any, Any] | None = None
        self._joined = False

    def __enter__(self) -> ExecutionRecorder:
        outer = CURRENT.get()
        if outer is not None and outer.absorbs_runs:
            # Under re-execution, a workflow that records itself joins the re-execution:
            # one recording, and its @node calls answered from the original.
            self.recorder, self._joined = outer, True
            return outer
        # Each entry is its own run: its own copy of the options, its own sampling draw,
        # which chooses the recorder once (a sampled-out run's does nothing).
        opts = msgspec.structs.replace(self.options)
        rec: ExecutionRecorder
        if self.sample_rate < 1.0 and random.random() >= self.sample_rate:
            rec = SampledOutRecorder(self.name, options=opts)
        else:
            store_error: BaseException | None = None
            if opts.path is None or opts.store is not None:
                try:
                    opts.store = open_store(opts.store)  # $FLOWTAPE_STORE is read now
                except Exception as exc:  # OSError, StoreError, a driver's own error...
                    store_error = exc  # reported (once) when the recording opens its file
            rec = self._new_recorder(opts)
            rec._placement.store_error = store_error
        rec._managed = True
        self.recorder = rec
        rec._begin_workflow()
        self._tokens = (CURRENT.set(rec), FRAME.set(rec.root_frame()))
        ACTIVE.append(rec)
        return rec

    def _new_recorder(self, options: RecorderOptions) -> ExecutionRecorder:
        """The recorder of one run (re-execution makes one that serves recorded calls)."""
        return ExecutionRecorder(self.name, options=options)

    def __exit__(self, et: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        if self._joined:
            self._joined = False
            return False
        rec = self.recorder
        assert rec is not None and self._tokens is not None
        for var, token in zip((CURRENT, FRAME), self._tokens, strict=True):
            try:
                var.reset(token)  # type: ignore[attr-defined]
            except (ValueError, RuntimeError):
                var.set(None)  # type: ignore[attr-defined]
        if rec in ACTIVE:
            ACTIVE.remove(rec)
        status = status_for_exception(exc)
        outputs: Any = None
        error: Any = None
        if exc is None and rec._pending_outcome is not None:
            status, outputs, error = rec._pending_outcome
        failure: Exception | None = None
        try:
            rec._end_workflow(status, outputs, exc=exc, error=error)
        except Exception as e:  # strict mode only
            failure = e
        try:
            rec._close(status)  # always: the file is closed even when writing the end failed
        except Exception as e:  # strict mode only
            failure = failure or e
        if failure is not None and exc is None:
            raise failure  # strict mode: the recording's own failure is the error
        return False

    async def __aenter__(self) -> ExecutionRecorder:
        return self.__enter__()

    async def __aexit__(self, et: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        return self.__exit__(et, exc, tb)


def record_workflow(
    name: str,
    *,
    tags: Collection[str] = (),
    store: str | Store | None = None,
    path: str | None = None,
    codec: str = "zstd",
    record_inputs: bool = True,
    record_outputs: bool = True,
    record_state_snapshots: bool = True,
    sample_rate: float = 1.0,
    keep: Keep = "always",
    redact: Collection[str] | Callable[[str, Any], Any] | None = None,
    redact_patterns: Collection[str] | None = None,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD,
    inputs: Any = None,
    entry: str | None = None,
    strict: bool = False,
    meta: dict[str, Any] | None = None,
    keyframe_every: int = DEFAULT_KEYFRAME_EVERY,
    flush_every: int = DEFAULT_FLUSH_EVERY,
    flush_interval: float = DEFAULT_FLUSH_INTERVAL,
) -> WorkflowRecording:
    """Record the workflow run inside ``with`` / ``async with``.

    ::

        with record_workflow("etl", tags=["nightly"]) as rec:
            run_pipeline()

    The recording goes to ``store`` (a URL or `Store`; default
    ``$FLOWTAPE_STORE`` or ``./recordings``), or exactly to ``path``. See
    SPEC §4 for every option.

    Secrets are masked wherever a value lands (header, events, footer):
    values under secret key names, at any depth, in objects as they are
    encoded and in ``(name, value)`` pairs; a name is split into words (case,
    ``-``, ``_``, camelCase) and is secret when it ends in password, passwd,
    pwd, secret, token, auth, authorization, cookie, credential(s),
    passphrase, or api/private/secret/access + key (``x-api-key``,
    ``access_token``, ``Set-Cookie``; not ``max_tokens`` or ``author``).
    ``redact={...}`` replaces those names (split the same way);
    ``redact=callable(path, value)`` returns what to record for each payload.
    A value once seen under a secret key is masked wherever it appears later
    in the run, and ``redact_patterns`` (regular expressions; default
    `DEFAULT_REDACT_PATTERNS`: ``sk-…``, GitHub, AWS, Slack tokens, JWTs,
    ``Bearer …``; ``()`` for none) are masked inside any string.

    Raises `RecorderError` (a ValueError) for a bad option, before anything
    is recorded; I/O trouble while recording is logged and never raised
    (unless ``strict``).
    """
    check_options(codec=codec, sample_rate=sample_rate, keep=keep,
                  max_payload_bytes=max_payload_bytes, redact=redact,
                  redact_patterns=redact_patterns)
    if isinstance(tags, str):
        tags = [tags]
    options = RecorderOptions(
        codec=codec, path=path, store=store, tags=list(tags), record_inputs=record_inputs,
        record_outputs=record_outputs, record_state_snapshots=record_state_snapshots,
        redact=redact, redact_patterns=redact_patterns, max_payload_bytes=max_payload_bytes,
        keyframe_every=max(1, keyframe_every),
        flush_every=flush_every, flush_interval=flush_interval, strict=strict, keep=keep,
        inputs=inputs, entry=entry, meta=dict(meta or {}),
    )
    return WorkflowRecording(name, options, sample_rate)


_ENABLED: list[WorkflowRecording] = []


def enable_workflow_recording(workflow_name: str, tags: Collection[str] | None = None,
                              **options: Any) -> ExecutionRecorder:
    """Start recording and make the recorder current (the earlier-published switch)."""
    cm = record_workflow(workflow_name, tags=tags or (), **options)
    rec = cm.__enter__()
    _ENABLED.append(cm)
    return rec


def disable_workflow_recording() -> ExecutionRecorder | None:
    """Finish the recording `enable_workflow_recording` started; no recorder is current after."""
    if not _ENABLED:
        CURRENT.set(None)
        return None
    cm = _ENABLED.pop()
    cm.__exit__(None, None, None)
    CURRENT.set(None)
    return cm.recorder

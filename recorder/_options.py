"""What `record_workflow` can set, checked once, in one place.

`RecorderOptions` holds a run's options; `check_options` refuses a bad one
with `RecorderError` (a ValueError) naming it and what it takes, before
anything is recorded (SPEC §11). The flush defaults are storage's: the
writer owns the flush policy (SPEC §3).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import msgspec

from storage import DEFAULT_FLUSH_EVERY, DEFAULT_FLUSH_INTERVAL, DEFAULT_KEYFRAME_EVERY

from ._payload import Redactor
from .errors import RecorderError

__all__ = [
    "DEFAULT_KEYFRAME_EVERY",
    "DEFAULT_MAX_PAYLOAD",
    "MAX_PAYLOAD_CAP",
    "RecorderOptions",
    "check_options",
]

DEFAULT_MAX_PAYLOAD = 1 << 20
#: A quarter of the largest frame (16 MiB, SPEC §3): a line with a few payloads still fits.
MAX_PAYLOAD_CAP = 4 << 20
#: A state keyframe every this many state events (SPEC §4); patches in between.
CODECS = ("gzip", "none", "zstd")


class RecorderOptions(msgspec.Struct, kw_only=True):
    """Everything `record_workflow` can set, in one place."""

    codec: str = "zstd"
    path: str | None = None
    store: Any = None
    tags: list[str] = []
    record_inputs: bool = True
    record_outputs: bool = True
    record_state_snapshots: bool = True
    redact: Any = None
    redact_patterns: Any = None
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD
    keyframe_every: int = DEFAULT_KEYFRAME_EVERY
    flush_every: int = DEFAULT_FLUSH_EVERY
    flush_interval: float = DEFAULT_FLUSH_INTERVAL
    strict: bool = False
    keep: Any = "always"
    inputs: Any = None
    entry: str | None = None
    meta: dict[str, Any] = {}
    replay_of: str | None = None


def check_options(*, codec: str, sample_rate: float, keep: Any, max_payload_bytes: int,
                  redact: Collection[str] | Any, redact_patterns: Collection[str] | None,
                  ) -> None:
    """Raise `RecorderError` for the first bad option, naming it and what it takes."""
    if codec not in CODECS:
        raise RecorderError(f"unknown codec {codec!r}; choose one of {', '.join(CODECS)}")
    if not 0.0 <= sample_rate <= 1.0:
        raise RecorderError(f"sample_rate must be between 0 and 1, not {sample_rate!r}")
    if keep not in ("always", "failure") and not callable(keep):
        raise RecorderError(
            f"keep must be 'always', 'failure' or a callable taking the footer, not {keep!r}")
    if max_payload_bytes < 64:
        raise RecorderError(
            f"max_payload_bytes must be at least 64, not {max_payload_bytes!r}")
    try:
        Redactor.from_option(redact, redact_patterns)
    except (TypeError, ValueError) as exc:
        raise RecorderError(str(exc)) from None

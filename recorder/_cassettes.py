"""Cassettes: when a test's node calls are recorded and when they are served (SPEC §12).

vcrpy's record modes, at the level of workflow nodes. A cassette is an
ordinary recording (``cassettes/<test name>.jsonl.zst`` beside the test,
masked like any recording); serving it is `reexecute`. `RecordMode` says,
for a cassette that exists or not, what a run does (`cassette_action`):

=============  ==========================  =====================================
mode           no cassette                 a cassette
=============  ==========================  =====================================
once           record it                   serve; a call it lacks fails the test
none           fail: "no cassette at …"    serve; a call it lacks fails the test
new_episodes   record it                   serve; a call it lacks runs for real
                                           and the cassette is written again
                                           with it
all            record it                   record it again (every call for real)
rewrite        record it                   remove it first, then record
=============  ==========================  =====================================

A cassette is written only when the ``with`` block ends without an
exception, so a broken run never becomes the cassette later runs replay.
"""

from __future__ import annotations

import enum
from typing import Literal

from .errors import RecorderError

__all__ = ["CassetteAction", "RecordMode", "cassette_action"]

CassetteAction = Literal["record", "serve", "extend", "missing"]


class RecordMode(enum.StrEnum):
    """When a cassette is recorded (see the module docstring); a str Enum (``StrEnum``),
    so ``RecordMode.ONCE == "once"``."""

    ONCE = "once"
    NONE = "none"
    ALL = "all"
    NEW_EPISODES = "new_episodes"
    REWRITE = "rewrite"

    @classmethod
    def parse(cls, text: str | RecordMode) -> RecordMode:
        """The mode named ``text``; `RecorderError` (a ValueError) listing the valid ones."""
        try:
            return cls(text)
        except ValueError:
            raise RecorderError(f"unknown flowtape record mode {text!r}; choose one of "
                                f"{', '.join(m.value for m in cls)}") from None


def cassette_action(mode: RecordMode, exists: bool) -> CassetteAction:
    """What a run does under ``mode`` when the cassette ``exists`` or not."""
    if mode in (RecordMode.ALL, RecordMode.REWRITE):
        return "record"
    if not exists:
        return "missing" if mode is RecordMode.NONE else "record"
    return "extend" if mode is RecordMode.NEW_EPISODES else "serve"

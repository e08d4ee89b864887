"""The recorder's flush and keyframe defaults are the ones storage declares (SPEC §3, §4)."""

from __future__ import annotations

import inspect

import storage
from recorder import record_workflow


def test_record_workflow_defaults_are_storages() -> None:
    """keyframe_every, flush_every and flush_interval default to storage's constants."""
    params = inspect.signature(record_workflow).parameters
    assert params["keyframe_every"].default == storage.DEFAULT_KEYFRAME_EVERY == 64
    assert params["flush_every"].default == storage.DEFAULT_FLUSH_EVERY == 256
    assert params["flush_interval"].default == storage.DEFAULT_FLUSH_INTERVAL == 0.25

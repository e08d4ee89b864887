"""Shared fixtures: a store directory, reading a recording back, and no leaked recorder.

Recordings in tests are made with the public API and read back with
`storage.LogReader`, the same reader every other part uses. An autouse
fixture checks that each test leaves no recorder current (a leaked
``record_workflow`` would make every later ``@node`` record into it) and
resets that global state so one leak fails one test, not the rest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import strategies  # noqa: F401  (registers and loads the hypothesis profile)

from recorder import _context, _workflow, get_current_recorder
from storage import Event, Footer, Header, LogReader


@dataclass
class ReadBack:
    """What `LogReader` finds in one recording file."""

    path: str
    header: Header
    events: list[Event]
    footer: Footer | None
    status: str
    tail_garbage: int

    def kinds(self) -> list[str]:
        """The event kinds, in order."""
        return [e.kind for e in self.events]

    def of_kind(self, *kinds: str) -> list[Event]:
        """The events of the given kinds, in order."""
        return [e for e in self.events if e.kind in kinds]


def read_recording(source: Any, *, recover: bool = False) -> ReadBack:
    """Read a recording (a path, or a recorder whose ``path`` is set) with `LogReader`."""
    path = source if isinstance(source, str | os.PathLike) else source.path
    assert path is not None, "the recorder has no file"
    with LogReader.open(path, recover=recover) as reader:
        events = list(reader.iter_events())
        return ReadBack(os.fspath(path), reader.header, events, reader.footer, reader.status,
                        reader.tail_garbage)


RECORDING_SUFFIXES = (".jsonl.zst", ".jsonl.gz", ".jsonl")


def recording_files(root: str | os.PathLike[str]) -> list[str]:
    """Paths of the recording files in a store directory (not its catalog), sorted."""
    return sorted(os.path.join(root, n) for n in os.listdir(root)
                  if n.endswith(RECORDING_SUFFIXES) and not n.startswith("."))


def files_under(root: str | os.PathLike[str]) -> list[str]:
    """Every file below ``root`` except a store's SQLite catalog, hidden ones included."""
    base = Path(root)
    return sorted(str(p.relative_to(base)) for p in base.rglob("*")
                  if p.is_file() and not p.name.startswith("catalog.sqlite"))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """An empty directory to record into (``store=``)."""
    root = tmp_path / "recordings"
    root.mkdir()
    return root


@pytest.fixture
def read() -> Callable[..., ReadBack]:
    """``read(path_or_recorder, recover=False)`` -> header, events, footer, status."""
    return read_recording


@pytest.fixture(autouse=True)
def no_recorder_left_current() -> Iterator[None]:
    """Fail a test that leaves a recording current, and reset that state either way."""
    yield
    leaked_active = list(_context.ACTIVE)
    leaked_current = get_current_recorder()
    leaked_enabled = list(_workflow._ENABLED)
    _context.ACTIVE.clear()
    _context.CURRENT.set(None)
    _context.FRAME.set(None)
    _workflow._ENABLED.clear()
    assert not leaked_active, f"recordings left active: {leaked_active}"
    assert leaked_current is None, f"recorder left current: {leaked_current}"
    assert not leaked_enabled, f"enable_workflow_recording() never disabled: {leaked_enabled}"

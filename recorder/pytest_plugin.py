"""pytest plugin: golden runs — record the code under test and compare it with a baseline.

Enabled through the ``pytest11`` entry point ``flowtape`` (or ``pytest -p
recorder.pytest_plugin``). It adds the fixture ``flowtape_golden`` and the
option ``--flowtape-update``::

    def test_pipeline(flowtape_golden):
        with flowtape_golden(ignore=["*.request_id"]) as rec:   # or: async with
            run_pipeline()

The ``with`` block is recorded like ``record_workflow`` (into a temporary
file), then compared with ``golden/<test name>[-<name>].jsonl.zst`` beside
the test file by `storage.diff_recordings`; a regression fails the test
with the text report. A missing baseline fails with a hint; ``pytest
--flowtape-update`` writes missing or changed baselines instead of
comparing. Timing is not compared unless asked (``compare_timing=True``):
CI machines are too noisy for it. See docs/diff.md.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import pytest

from storage import diff_recordings

from ._published import ExecutionRecorder
from ._workflow import WorkflowRecording, record_workflow

__all__ = ["GoldenRecorder", "GoldenRun", "flowtape_golden"]

_UPDATE_HELP = ("write or rewrite the flowtape golden baselines (golden/<test>.jsonl.zst "
                "beside each test file) instead of comparing against them")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\[\]-]")
_written = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flowtape", "flowtape golden runs")
    group.addoption("--flowtape-update", action="store_true", default=False, help=_UPDATE_HELP)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_written] = []


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int,
                            config: pytest.Config) -> None:
    written = config.stash.get(_written, [])
    if written:
        terminalreporter.write_sep("-", "flowtape golden baselines written")
        for line in written:
            terminalreporter.write_line(line)


class GoldenRecorder:
    """What the ``flowtape_golden`` fixture is: call it to get the recording context manager."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self._request = request
        self._tmp = tmp_path
        self._used: set[str] = set()

    def baseline_path(self, name: str | None = None) -> Path:
        """``golden/<test name>[-<name>].jsonl.zst`` beside the test file."""
        return Path(self._request.node.path).parent / "golden" / f"{self._stem(name)}.jsonl.zst"

    def _stem(self, name: str | None) -> str:
        node = self._request.node
        # The test's name within its file: "test_x", "TestY.test_x", "test_z[param]".
        test = node.nodeid.split("::", 1)[-1].replace("::", ".")
        stem = _UNSAFE.sub("_", test)
        if name is not None:
            if not name or _UNSAFE.search(name):
                raise ValueError(f"flowtape_golden name {name!r} must be non-empty and use only "
                                 "letters, digits, '_', '.', '-'")
            stem += f"-{name}"
        return stem

    def __call__(self, name: str | None = None, ignore: Iterable[str] = (),
                 **diff_options: Any) -> GoldenRun:
        """Record the ``with`` block and compare it with its baseline on the way out.

        ``name`` tells apart several golden runs in one test; ``ignore`` and
        ``diff_options`` (``numeric_tolerance``, ``relative_tolerance``,
        ``compare_timing``, ``timing_tolerance``, ``min_timing_ns``,
        ``policy``) go to `storage.diff_recordings`.
        """
        stem = self._stem(name)
        if stem in self._used:
            raise ValueError(f"flowtape_golden() used twice with the same name in one test "
                             f"({stem!r}); pass name= to tell the runs apart")
        self._used.add(stem)
        if isinstance(ignore, str):
            ignore = [ignore]
        return self._run(name, stem, list(ignore), dict(diff_options))

    def _run(self, name: str | None, stem: str, ignore: list[str],
             options: dict[str, Any]) -> GoldenRun:
        fresh = self._tmp / f"flowtape-golden-{stem}.jsonl.zst"
        return GoldenRun(record_workflow(stem, path=str(fresh)),
                         lambda: self._check(name, fresh, ignore, options))

    def _check(self, name: str | None, fresh: Path, ignore: list[str],
               options: dict[str, Any]) -> None:
        """Compare the fresh recording with its baseline (or write it, under --flowtape-update)."""
        options.setdefault("compare_timing", False)
        baseline = self.baseline_path(name)
        shown = _shown(baseline)
        config = self._request.config
        if config.getoption("flowtape_update"):
            if baseline.exists() and diff_recordings(baseline, fresh, ignore=ignore,
                                                     **options).identical:
                return  # still matches: leave the file alone (no churn in git)
            _install(fresh, baseline)
            config.stash[_written].append(f"{shown} ({self._request.node.nodeid})")
            return
        if not baseline.exists():
            pytest.fail(f"flowtape golden baseline {shown} does not exist yet; record it with "
                        "`pytest --flowtape-update`, check it, and commit it", pytrace=False)
        result = diff_recordings(baseline, fresh, ignore=ignore, **options)
        if result.regression:
            pytest.fail(f"flowtape golden run differs from {shown}; if the change is intended, "
                        "rewrite it with `pytest --flowtape-update`\n\n" + result.to_text(),
                        pytrace=False)


class GoldenRun:
    """One golden run: ``with`` or ``async with``; records like `record_workflow`, then
    compares when the block did not raise (an exception fails the test anyway)."""

    def __init__(self, recording: WorkflowRecording, check: Callable[[], None]) -> None:
        self._recording = recording
        self._check = check

    def __enter__(self) -> ExecutionRecorder:
        return self._recording.__enter__()

    def __exit__(self, et: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        self._recording.__exit__(et, exc, tb)
        if exc is None:
            self._check()
        return False

    async def __aenter__(self) -> ExecutionRecorder:
        return self.__enter__()

    async def __aexit__(self, et: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        return self.__exit__(et, exc, tb)


def _install(fresh: Path, baseline: Path) -> None:
    """Copy the new recording over the baseline atomically (never a half-written file)."""
    baseline.parent.mkdir(parents=True, exist_ok=True)
    tmp = baseline.with_name(f".{baseline.name}.tmp")
    shutil.copyfile(fresh, tmp)
    os.replace(tmp, baseline)


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)


@pytest.fixture
def flowtape_golden(request: pytest.FixtureRequest, tmp_path: Path) -> GoldenRecorder:
    """Record a golden run and compare it with its baseline::

        with flowtape_golden(name=None, ignore=(), **diff_options) as rec:
            ...
    """
    return GoldenRecorder(request, tmp_path)

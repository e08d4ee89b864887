"""pytest plugin: golden runs and cassettes.

Enabled through the ``pytest11`` entry point ``flowtape`` (or ``pytest -p
recorder.pytest_plugin``). Golden runs record the code under test and
compare it with a baseline: the fixture ``flowtape_golden`` and the option
``--flowtape-update``::

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

Cassettes record a test's node calls once and serve them afterwards, as
vcrpy does for HTTP: the fixture ``flowtape_cassette`` and the option
``--flowtape-record-mode once|none|all|new_episodes|rewrite`` (`RecordMode`;
``once`` by default)::

    def test_agent(flowtape_cassette):
        with flowtape_cassette() as rec:       # or: async with
            assert run_agent("hi").ok          # model and tool calls: served after the 1st run

The cassette is ``cassettes/<test name>[-<name>].jsonl.zst`` beside the test
file: an ordinary recording, secrets masked. When the modes record and serve
is `recorder._cassettes`; serving is `recorder.reexecute`. A missing cassette
under ``none`` fails with "no cassette at PATH; run with
--flowtape-record-mode once"; a call the cassette does not have fails with
"the cassette PATH has no such call", and what it is. See
docs/reexecution.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import pytest

from storage import diff_recordings

from ._cassettes import RecordMode, cassette_action
from ._published import ExecutionRecorder
from ._workflow import WorkflowRecording, record_workflow
from .errors import RecorderError, ReplayDivergenceError
from .reexec import Reexecution, reexecute

__all__ = ["CassetteRecorder", "CassetteRun", "GoldenRecorder", "GoldenRun", "RecordMode",
           "flowtape_cassette", "flowtape_golden"]

_UPDATE_HELP = ("write or rewrite the flowtape golden baselines (golden/<test>.jsonl.zst "
                "beside each test file) instead of comparing against them")
_MODE_HELP = ("when flowtape cassettes (cassettes/<test>.jsonl.zst) are recorded: once "
              "(default: record a missing one, else serve it), none (serve; never record), "
              "new_episodes (serve, and record calls it lacks), all (record every run), "
              "rewrite (delete, then record)")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\[\]-]")
_written = pytest.StashKey[list[str]]()
_cassettes_written = pytest.StashKey[list[str]]()


def _record_mode(text: str) -> RecordMode:
    try:
        return RecordMode.parse(text)
    except RecorderError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flowtape", "flowtape golden runs and cassettes")
    group.addoption("--flowtape-update", action="store_true", default=False, help=_UPDATE_HELP)
    group.addoption("--flowtape-record-mode", metavar="MODE", type=_record_mode,
                    default=RecordMode.ONCE, help=_MODE_HELP)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_written] = []
    config.stash[_cassettes_written] = []


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int,
                            config: pytest.Config) -> None:
    for key, title in ((_written, "flowtape golden baselines written"),
                       (_cassettes_written, "flowtape cassettes written")):
        written = config.stash.get(key, [])
        if written:
            terminalreporter.write_sep("-", title)
            for line in written:
                terminalreporter.write_line(line)


def _test_stem(request: pytest.FixtureRequest, name: str | None, fixture: str) -> str:
    """The test's name within its file ("test_x", "TestY.test_x", "test_z[param]"), made
    safe for a file name, plus ``-<name>`` when given."""
    test = request.node.nodeid.split("::", 1)[-1].replace("::", ".")
    stem = _UNSAFE.sub("_", test)
    if name is not None:
        if not name or _UNSAFE.search(name):
            raise ValueError(f"{fixture} name {name!r} must be non-empty and use only "
                             "letters, digits, '_', '.', '-'")
        stem += f"-{name}"
    return stem


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
        return _test_stem(self._request, name, "flowtape_golden")

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


class CassetteRecorder:
    """What the ``flowtape_cassette`` fixture is: call it to get the cassette context manager."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self._request = request
        self._tmp = tmp_path
        self._used: set[str] = set()

    def cassette_path(self, name: str | None = None) -> Path:
        """``cassettes/<test name>[-<name>].jsonl.zst`` beside the test file."""
        stem = _test_stem(self._request, name, "flowtape_cassette")
        return Path(self._request.node.path).parent / "cassettes" / f"{stem}.jsonl.zst"

    def __call__(self, name: str | None = None, *, record_mode: str | None = None,
                 live: Iterable[str] = (), match_inputs: bool = True) -> CassetteRun:
        """Record the ``with`` block's node calls into its cassette, or serve them from it.

        ``name`` tells apart several cassettes in one test; ``record_mode``
        overrides ``--flowtape-record-mode`` for this one; ``live`` and
        ``match_inputs`` go to `reexecute` when the cassette is served.
        """
        stem = _test_stem(self._request, name, "flowtape_cassette")
        if stem in self._used:
            raise ValueError(f"flowtape_cassette() used twice with the same name in one test "
                             f"({stem!r}); pass name= to tell them apart")
        self._used.add(stem)
        mode = (RecordMode.parse(record_mode) if record_mode is not None
                else self._request.config.getoption("flowtape_record_mode"))
        if isinstance(live, str):
            live = [live]
        return CassetteRun(self, stem, self.cassette_path(name), mode, live=list(live),
                           match_inputs=match_inputs)

    def _written(self, path: Path, what: str) -> None:
        self._request.config.stash[_cassettes_written].append(
            f"{_shown(path)} ({what}, {self._request.node.nodeid})")


class CassetteRun:
    """One cassette: ``with`` or ``async with``; yields the run's `ExecutionRecorder`."""

    def __init__(self, owner: CassetteRecorder, stem: str, path: Path, mode: RecordMode, *,
                 live: list[str], match_inputs: bool) -> None:
        self._owner = owner
        self.path = path
        self.mode = mode
        self._stem = stem
        self._fresh = owner._tmp / f"flowtape-cassette-{stem}.jsonl.zst"
        self._live = live
        self._match_inputs = match_inputs
        self._recording: WorkflowRecording | None = None
        self._replay: Reexecution | None = None
        self._action = "record"

    def __enter__(self) -> ExecutionRecorder:
        exists = self.path.exists()
        self._action = cassette_action(self.mode, exists)
        if self.mode is RecordMode.REWRITE and exists:
            self.path.unlink()
        if self._action == "missing":
            pytest.fail(f"no cassette at {_shown(self.path)}; run with "
                        "--flowtape-record-mode once", pytrace=False)
        if self._action == "record":
            self._recording = record_workflow(self._stem, path=str(self._fresh))
            return self._recording.__enter__()
        self._replay = reexecute(self.path, record_to=self._fresh, live=self._live,
                                 match_inputs=self._match_inputs,
                                 on_divergence="live" if self._action == "extend" else "raise")
        self._replay.__enter__()
        return self._replay.recorder

    def __exit__(self, et: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        if self._recording is not None:
            self._recording.__exit__(et, exc, tb)
            if exc is None:
                _install(self._fresh, self.path)
                self._owner._written(self.path, f"recorded, {self.mode.value}")
            return False
        assert self._replay is not None
        self._replay.__exit__(et, exc, tb)
        if isinstance(exc, ReplayDivergenceError):
            self._no_such_call(exc.divergence.message)
        if exc is None:
            divergences = self._replay.report.divergences
            if divergences and self._action == "serve":  # (one the code caught and went on)
                self._no_such_call(divergences[0].message)
            if divergences:  # new_episodes: the calls it lacked ran for real; keep them
                _install(self._fresh, self.path)
                self._owner._written(self.path, f"{len(divergences)} call(s) added")
        return False

    def _no_such_call(self, message: str) -> None:
        pytest.fail(f"the cassette {_shown(self.path)} has no such call:\n{message}\n"
                    "(record the calls it lacks with --flowtape-record-mode new_episodes, or "
                    "all of them again with rewrite)", pytrace=False)

    async def __aenter__(self) -> ExecutionRecorder:
        return self.__enter__()

    async def __aexit__(self, et: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        return self.__exit__(et, exc, tb)


@pytest.fixture
def flowtape_cassette(request: pytest.FixtureRequest, tmp_path: Path) -> CassetteRecorder:
    """Record the node calls of a ``with`` block once, then serve them (a cassette)::

        with flowtape_cassette(name=None, record_mode=None, live=()) as rec:
            ...
    """
    return CassetteRecorder(request, tmp_path)


@pytest.fixture
def flowtape_golden(request: pytest.FixtureRequest, tmp_path: Path) -> GoldenRecorder:
    """Record a golden run and compare it with its baseline::

        with flowtape_golden(name=None, ignore=(), **diff_options) as rec:
            ...
    """
    return GoldenRecorder(request, tmp_path)

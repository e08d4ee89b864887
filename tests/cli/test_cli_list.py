"""`flowtape list`: date bounds as RFC 3339 or relative to now, and `--failed` (issue 9.12).

``--start``/``--end`` (aliases ``--since``/``--until``) take an RFC 3339
time, a date (a whole day: from its start, or to its end), ``today``,
``yesterday``, ``now``, or a span back from now (``30m``, ``2h``, ``7d``,
``1w``). ``--failed`` lists every run that did not complete, those that
never finished (``incomplete``) included.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from store_recordings import add_recording

from replayer.cli import main
from storage import FileStore

Run = Callable[..., tuple[int, list[str], str]]


@pytest.fixture
def flowtape(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
             store: Path) -> Run:
    """``flowtape(*argv)`` -> (exit code, workflows that `list --json` printed, stderr)."""
    monkeypatch.delenv("COLUMNS", raising=False)

    def run(*argv: str) -> tuple[int, list[str], str]:
        code = main(["--store", str(store), "list", "--json", *argv])
        out, err = capsys.readouterr()
        return code, [row["workflow"] for row in json.loads(out or "[]")], err

    return run


def local_midnight() -> dt.datetime:
    """Today's start, local time (what `today` means), as an aware datetime."""
    return dt.datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)


def test_relative_spans_back_from_now(flowtape: Run, store: Path) -> None:
    """30m, 2h, 7d, 1w, 90s: that long before now; --since/--until are the same options."""
    now = dt.datetime.now(dt.UTC)
    s = FileStore(store)
    for name, ago in (("10m", dt.timedelta(minutes=10)), ("3h", dt.timedelta(hours=3)),
                      ("3d", dt.timedelta(days=3)), ("10d", dt.timedelta(days=10))):
        add_recording(s, workflow=name, started=now - ago)
    assert flowtape("--start", "30m")[1] == ["10m"]
    assert flowtape("--start", "90s")[1] == []
    assert flowtape("--since", "2h")[1] == ["10m"]
    assert flowtape("--start", "7d")[1] == ["10m", "3h", "3d"]
    assert flowtape("--start", "2w", "--end", "1w")[1] == ["10d"]
    assert flowtape("--until", "2h")[1] == ["3h", "3d", "10d"]
    assert flowtape("--start", "1h", "--end", "now")[1] == ["10m"]


def test_calendar_days_today_and_yesterday(flowtape: Run, store: Path) -> None:
    """today and yesterday are whole local days; as --end they include the day's last moment."""
    midnight = local_midnight()
    s = FileStore(store)
    for name, when in (("two-days-ago", midnight - dt.timedelta(hours=36)),
                       ("yesterday-noon", midnight - dt.timedelta(hours=12)),
                       ("yesterday-last", midnight - dt.timedelta(microseconds=1)),
                       ("today-first", midnight + dt.timedelta(seconds=1))):
        add_recording(s, workflow=name, started=when)
    assert flowtape("--start", "today")[1] == ["today-first"]
    assert flowtape("--start", "yesterday", "--end", "yesterday")[1] == [
        "yesterday-last", "yesterday-noon"]
    assert flowtape("--end", "yesterday")[1] == ["yesterday-last", "yesterday-noon",
                                                 "two-days-ago"]
    day = (midnight - dt.timedelta(hours=36)).date().isoformat()
    assert flowtape("--start", day, "--end", day)[1] == ["two-days-ago"]


def test_rfc3339_times_with_zones(flowtape: Run, store: Path) -> None:
    """An RFC 3339 time with Z or an offset is that instant; a naive one is local time."""
    s = FileStore(store)
    for hour in (10, 12, 14):
        add_recording(s, workflow=f"h{hour}",
                      started=dt.datetime(2025, 3, 1, hour, tzinfo=dt.UTC))
    assert flowtape("--start", "2025-03-01T11:00:00Z")[1] == ["h14", "h12"]
    assert flowtape("--end", "2025-03-01T13:00:00+01:00")[1] == ["h12", "h10"]
    assert flowtape("--start", "2025-03-01T12:00:00.000001Z", "--end", "2025-03-01 14:00Z"
                    )[1] == ["h14"]


@pytest.mark.parametrize("bad", ["soon", "2x", "-3h", "h", "2025-13-01", "tomorrow"])
def test_a_bad_date_is_a_usage_error(flowtape: Run, bad: str) -> None:
    """Anything else is a usage error naming the option and the forms that work: exit 2."""
    code, rows, err = flowtape(f"--start={bad}")
    assert code == 2 and rows == []
    assert "--start" in err and "2025-01-31T12:00:00Z" in err and "30m, 2h, 7d" in err


def test_failed_includes_runs_that_never_finished(flowtape: Run, store: Path) -> None:
    """--failed: failed, timed_out, cancelled and incomplete; --status narrows it further."""
    s = FileStore(store)
    for status in ("completed", "failed", "timed_out", "cancelled", "incomplete"):
        add_recording(s, workflow=status, status=status)
    assert sorted(flowtape("--failed")[1]) == ["cancelled", "failed", "incomplete",
                                               "timed_out"]
    assert flowtape("--failed", "--status", "incomplete")[1] == ["incomplete"]
    assert flowtape("--success")[1] == ["completed"]
    code, _, err = flowtape("--failed", "--status", "completed")
    assert code == 2 and "--status completed" in err and "--failed" in err


def test_a_running_recording_has_no_duration_yet(store: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A recording still being written lists as running with no duration ("-"), as an
    incomplete one does, not as a run that took 0ns."""
    from recorder import record_workflow

    monkeypatch.delenv("COLUMNS", raising=False)  # whole table lines into the pipe
    with record_workflow("live", store=store):
        assert main(["--store", str(store), "list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if " live " in line)
    assert "running" in row and "0ns" not in row
    assert row.split()[row.split().index("running") + 3] == "-"  # status, date, time, duration

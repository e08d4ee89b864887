"""The answers `flowtape serve` gives its pages, asked directly (no server, no browser)."""

from __future__ import annotations

import datetime as dt

import pytest

from replayer.viewer._api import BadParameter, query


def test_list_filters_take_the_dates_flowtape_list_takes() -> None:
    """since/until read relative spans, days and RFC 3339 times as `list --start/--end` do;
    anything else is a BadParameter naming the parameter and the forms that work."""
    now = dt.datetime.now(dt.UTC)
    q = query({"since": "7d", "until": "today"})
    assert q.start_date is not None and q.end_date is not None
    assert abs((now - q.start_date) - dt.timedelta(days=7)) < dt.timedelta(minutes=1)
    assert q.end_date.astimezone().time() == dt.time(23, 59, 59, 999999)  # to the day's end
    assert query({"since": "2025-01-31T12:00"}).start_date == \
        dt.datetime(2025, 1, 31, 12).astimezone()
    with pytest.raises(BadParameter, match=r"since=.*yesterdayish.*30m, 2h, 7d"):
        query({"since": "yesterdayish"})

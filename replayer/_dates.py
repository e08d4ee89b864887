"""Moments as people type them: ``2025-01-31T12:00Z``, ``2025-01-31``, ``today``, ``7d``.

`flowtape list --start/--end` and the viewer's list filters read a bound
with `parse_when`, so both take the same forms (SPEC §8): an RFC 3339 time
(without a zone: local time), a date (a whole day), ``today``,
``yesterday``, ``now``, or a span back from now (``30m``, ``2h``, ``7d``,
``1w``, ``90s``).
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["DATE_FORMS", "parse_when"]

#: Relative spans back from now: ``30m``, ``2h``, ``7d``, ``1w``, ``90s``.
_SPAN = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DATE_FORMS = ("an RFC 3339 time (2025-01-31T12:00:00Z; without a zone: local time), a date "
              "(2025-01-31: the whole day), today, yesterday, now, or a span back from now "
              "(30m, 2h, 7d, 1w)")


def parse_when(text: str, *, end: bool = False, now: dt.datetime | None = None) -> dt.datetime:
    """The moment ``text`` names, as a ``--start`` bound (or ``--end`` with ``end``).

    A day — a date, ``today``, ``yesterday`` — starts at local midnight; as an
    end bound it lasts to its last microsecond, so ``--end yesterday`` keeps
    all of yesterday. Raises ValueError naming the forms that work.
    """
    now = (now or dt.datetime.now(dt.UTC)).astimezone()
    word = text.strip().lower()
    day: dt.date | None = None
    if word == "now":
        return now
    if word in ("today", "yesterday"):
        day = now.date() - dt.timedelta(days=word == "yesterday")
    elif span := _SPAN.fullmatch(word):
        return now - dt.timedelta(**{_UNITS[span[2]]: int(span[1])})
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", word):
        try:
            day = dt.date.fromisoformat(word)
        except ValueError:
            raise ValueError(f"{text!r} is not a date; use {DATE_FORMS}") from None
    else:
        try:
            when = dt.datetime.fromisoformat(text.strip().replace("z", "Z"))
        except ValueError:
            raise ValueError(f"{text!r} is not a time; use {DATE_FORMS}") from None
        return when if when.tzinfo is not None else when.astimezone()
    if end:  # the next midnight (a DST day is 23 or 25 hours long), less a microsecond
        day += dt.timedelta(days=1)
    midnight = dt.datetime.combine(day, dt.time()).astimezone()
    return midnight - dt.timedelta(microseconds=1) if end else midnight

"""Recording ids: sortable, unique, and safe to use as file names.

An id is a ULID in lower-case Crockford base32 (26 characters): the first
ten encode the start time in milliseconds, so ids sort by start time; the
rest are random. Ids given by users are checked against ``[0-9A-Za-z_-]+``
so no id can address a file outside a store (SPEC §7). Runs of the same
minute share long prefixes while their ends are random, so a user may name
a recording by a unique prefix or a unique suffix of at least
`MIN_SUFFIX` characters (`shortest_handles` finds the shortest).
"""

from __future__ import annotations

import bisect
import os
import re
import time
from collections.abc import Iterable, Sequence

from ..errors import InvalidIdError

__all__ = ["MIN_SUFFIX", "is_valid_id", "new_recording_id", "shortest_handles", "validate_id"]

#: A suffix names a recording from this many characters on (fewer would too often be
#: someone's prefix, and a prefix of any length is fine).
MIN_SUFFIX = 4

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_ID_RE = re.compile(r"[0-9A-Za-z_-]{1,128}")


def new_recording_id(now_ns: int | None = None) -> str:
    """A new time-ordered unique id (a lower-case ULID)."""
    ms = (time.time_ns() if now_ns is None else now_ns) // 1_000_000
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_valid_id(value: object) -> bool:
    """True when ``value`` is a string that may be used as an id or id prefix."""
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def validate_id(value: str) -> str:
    """``value`` if it is a well-formed id or prefix; else `InvalidIdError`."""
    if not is_valid_id(value):
        raise InvalidIdError(str(value))
    return value


def shortest_handles(ids: Iterable[str], among: Sequence[str], *,
                     min_suffix: int = MIN_SUFFIX) -> dict[str, str]:
    """For each of ``ids``, the shortest prefix or suffix (of ``min_suffix`` or more
    characters) that names it alone among the ids ``among`` — read as a store reads it:
    whatever ids the text begins or ends. At equal length a prefix wins; an id no shorter
    text names is its own handle (an exact id always wins)."""
    forward = sorted(set(among))
    backward = sorted(i[::-1] for i in forward)

    def named(text: str) -> set[str]:
        """The ids that ``text`` names (at most 2: enough to know it is not unique)."""
        hits = set(_starting(forward, text, 2))
        if len(text) >= min_suffix:
            hits.update(r[::-1] for r in _starting(backward, text[::-1], 2))
        return hits

    def handle(rid: str) -> str:
        # Nothing shorter than what rid shares with its sorted neighbours can be unique.
        first = min(_shared(forward, rid), max(min_suffix - 1, _shared(backward, rid[::-1])))
        for n in range(first + 1, len(rid)):
            for text in (rid[:n], rid[-n:]):
                if named(text) == {rid}:
                    return text
        return rid

    return {rid: handle(rid) for rid in ids}


def _starting(ordered: Sequence[str], prefix: str, most: int) -> list[str]:
    """Up to ``most`` strings of the sorted ``ordered`` that begin with ``prefix``."""
    i = bisect.bisect_left(ordered, prefix)
    return [s for s in ordered[i:i + most] if s.startswith(prefix)]


def _shared(ordered: Sequence[str], key: str) -> int:
    """How many leading characters ``key`` shares with its nearest other string in the sorted
    ``ordered`` (whose neighbours share the most)."""
    i = bisect.bisect_left(ordered, key)
    near = [s for s in ordered[max(0, i - 1):i + 2] if s != key]
    return max((_common(key, s) for s in near), default=0)


def _common(a: str, b: str) -> int:
    """How many leading characters ``a`` and ``b`` share."""
    return next((n for n, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))

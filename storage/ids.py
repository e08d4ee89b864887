"""Recording ids: sortable, unique, and safe to use as file names.

An id is a ULID in lower-case Crockford base32 (26 characters): the first
ten encode the start time in milliseconds, so ids sort by start time; the
rest are random. Ids given by users are checked against ``[0-9A-Za-z_-]+``
so no id can address a file outside a store (SPEC §7).
"""

from __future__ import annotations

import os
import re
import time

from .errors import InvalidIdError

__all__ = ["is_valid_id", "new_recording_id", "validate_id"]

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

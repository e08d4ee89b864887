"""The stand-ins the recorder writes where a value could not be kept (docs/format.md).

* ``{"$repr": "...", "$type": "module.Class"}`` — a value that cannot be encoded as JSON;
* ``{"$truncated": <encoded size>, "$preview": "..."}`` — a payload over ``max_payload_bytes``.

Readers must not take either for the value itself: a truncated state is
*unknown*, not a dict with a ``$truncated`` key, and a ``$repr`` cannot be
served back by re-execution. These predicates are the one place that knows
the shapes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["REPR_KEY", "TRUNCATED_KEY", "is_placeholder", "is_repr", "is_truncated"]

TRUNCATED_KEY = "$truncated"
REPR_KEY = "$repr"


def is_truncated(value: Any) -> bool:
    """True for the stand-in of a payload that was over the size limit."""
    return type(value) is dict and TRUNCATED_KEY in value and "$preview" in value


def is_repr(value: Any) -> bool:
    """True for the stand-in of a value that could not be encoded."""
    return type(value) is dict and REPR_KEY in value and "$type" in value


def is_placeholder(value: Any) -> bool:
    """True for either stand-in: the recording does not hold the real value."""
    return is_truncated(value) or is_repr(value)

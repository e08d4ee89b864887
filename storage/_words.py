"""How flowtape words a count in a message: ``1 frame``, ``2 frames`` (`plural`).

One definition for every message and report of the three packages — the
rooms of `storage` and the `replayer` alike — so none of them writes
``1 events`` or ``frame(s)``.
"""

from __future__ import annotations

__all__ = ["plural"]


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 frame``, ``2 frames``; ``words`` is the plural when adding ``s`` is wrong
    (``plural(2, "watch", "watches")``)."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {words if words is not None else word + 's'}"

"""Recordings the stepper's tests and the command line's step through (one of each kind).

`record_shop`: a cart snapshot, a team member pricing it, a checkpoint and a
failing checkout; `record_truncated`: states where one snapshot was over
``max_payload_bytes``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from recorder import node, record_workflow


@node
def load_cart(user: str) -> dict:
    return {"items": ["apple"]}


@node
def price(item: str) -> int:
    return 3


@node
def checkout(cart: dict) -> None:
    raise ValueError("card declined")


@node
def big_list(n: int) -> list[int]:
    return list(range(n))


def record_shop(store: Path) -> str:
    with record_workflow("shop", store=store) as rec:
        cart = load_cart("ann")
        rec.snapshot({"cart": cart})
        cart["items"].append("pear")
        rec.snapshot({"cart": cart, "total": 0})
        team = rec.team("pricing", formation="pair", members=["a", "b"])
        with team, team.member("a"):
            price("apple")
            team.message("a", "b", "apple is 3")
        rec.snapshot({"cart": cart, "total": 3})
        rec.checkpoint("priced", {"total": 3})
        with contextlib.suppress(ValueError):
            checkout(cart)
    assert rec.path is not None
    return rec.path


def record_truncated(store: Path) -> str:
    """States 1, 2 (over max_payload_bytes: truncated), a checkpoint, then 3."""
    with record_workflow("big", store=store, max_payload_bytes=200) as rec:
        rec.snapshot({"total": 1, "blob": "x"})
        rec.snapshot({"total": 2, "blob": "x" * 500})  # 521 bytes encoded
        rec.checkpoint("mid")
        rec.snapshot({"total": 3, "blob": "y"})
    assert rec.path is not None
    return rec.path

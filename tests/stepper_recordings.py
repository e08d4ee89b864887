"""Recordings the stepper's tests and the command line's step through (one of each kind).

`record_shop`: a cart snapshot, a team member pricing it, a checkpoint and a
failing checkout; `record_truncated`: states where one snapshot was over
``max_payload_bytes``; `record_debugger`: a loop, nesting 3 deep, a retry, a team of
three concurrent members and a failure.

`screen` runs commands through a stepper as a pipe would give them and
returns the screen, times normalised (``+T`` for offsets, ``D`` for
durations, ``<ID>`` for the id); `expect` dedents a transcript.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import textwrap
import threading
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

from rich.console import Console

from recorder import node, record_workflow
from replayer import Replayer, Stepper


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


# --- the debugger's recording: a loop, nesting 3 deep, a retry, a team of 3, a failure ----------
@node
def fetch(page: int) -> dict:
    return {"page": page, "rows": 2 * page}


@node
def tidy(page: int) -> int:
    return page


@node
def inner(n: int) -> dict:
    return {"y": 7 * n}


@node
def middle(n: int) -> dict:
    return inner(n)


@node
def outer(n: int) -> dict:
    return middle(n)


_FLAKY_CALLS: dict[str, int] = {}


@node
def flaky(key: str) -> str:
    """Times out on its first call for each ``key``, then answers."""
    _FLAKY_CALLS[key] = _FLAKY_CALLS.get(key, 0) + 1
    if _FLAKY_CALLS[key] == 1:
        raise TimeoutError("slow service")
    return "ok"


SCORES = {"alice": 0.9, "bob": 0.4, "carol": 0.7}


@node
def research(who: str) -> dict:
    return {"score": SCORES[who]}


@node
def publish(score: float) -> None:
    raise RuntimeError(f"score {score} is too low to publish")


class _Turns:
    """Runs the team's threads one turn at a time, so the interleaving is the same every run."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.turn = 0

    @contextlib.contextmanager
    def take(self, n: int) -> Iterator[None]:
        with self.cond:
            if not self.cond.wait_for(lambda: self.turn == n, timeout=30):
                raise RuntimeError(f"turn {n} never came (at turn {self.turn})")
        try:
            yield
        finally:
            with self.cond:
                self.turn += 1
                self.cond.notify_all()


def record_debugger(store: Path) -> str:
    """The recording the debugger's tests step through (its events: tests/terminal/
    test_debugger.py): three pages fetched and tidied in a loop with a state change after each,
    outer -> middle -> inner, a flaky node retried (attempt 2), a team of three members in their
    own threads (lanes alice, bob, carol; turns interleaved in a fixed order) and a failing
    publish."""
    with record_workflow("debug", store=store) as rec:
        rec.snapshot({"x": 0, "pages": 0})
        for page in range(3):
            fetch(page)
            tidy(page)
            rec.snapshot({"x": 10 * (page + 1), "pages": page + 1})
        outer(2)
        _FLAKY_CALLS.clear()
        for _ in range(2):
            with contextlib.suppress(TimeoutError):
                flaky("citations")
        turns = _Turns()
        team = rec.team("panel", formation="parallel", members=list(SCORES))

        def member(i: int, name: str) -> None:
            seat = team.member(name)
            with turns.take(i):
                seat.__enter__()
            with turns.take(3 + i):
                research(name)
            with turns.take(6 + i):
                seat.__exit__(None, None, None)

        with team:
            threads = [threading.Thread(target=contextvars.copy_context().run,
                                        args=(member, i, name), name=name)
                       for i, name in enumerate(SCORES)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        rec.snapshot({"x": 40, "pages": 3, "scores": SCORES})
        with contextlib.suppress(RuntimeError):
            publish(min(SCORES.values()))
    assert rec.path is not None
    return rec.path


# --- transcripts -------------------------------------------------------------------------------
_OFFSET = re.compile(r" *\+(\d+(\.\d+)?(ns|µs|ms|s)|\d+m\d\ds|\d+h\d\dm\d\ds)(?=  )")
_DURATION = re.compile(r"(?<=  )\d+(\.\d+)?(ns|µs|ms|s)(?=  |$)", re.MULTILINE)


def screen(r: Replayer, commands: list[str], *, width: int = 100,
           stepper: Stepper | None = None, cut: int | None = None) -> str:
    """Run ``commands`` through a stepper on ``r``; the screen with times normalised.

    ``cut``: render wide (200 columns) and cut each line to ``cut`` characters after the
    times are normalised, so a line's end does not depend on how long a duration was."""
    if cut is not None:
        width = 200
    out = StringIO()
    console = Console(file=out, width=width, color_system=None)
    stdin = StringIO("".join(c + "\n" for c in commands))
    if stepper is None:
        stepper = Stepper(r, console, stdin=stdin, interactive=False)
    else:
        stepper.console, stepper.stdin = console, stdin
    assert stepper.cmdloop() == 0
    text = _OFFSET.sub(" +T", out.getvalue())
    text = _DURATION.sub("D", text)
    return "\n".join(line[:cut].rstrip() for line in text.replace(r.recording_id, "<ID>")
                     .splitlines()) + "\n"


def expect(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")

"""Small workflows the re-execution tests record and then run again.

Every node counts its real runs in `RUNS`, so a test can tell a served call
(the function did not run) from a live one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TypedDict

import attrs
import msgspec
import pydantic

from recorder import node, record_workflow

#: How many times each node's function really ran (reset by `reset`).
RUNS: Counter[str] = Counter()


def reset() -> None:
    RUNS.clear()


@node
def search(query: str) -> list[str]:
    RUNS["search"] += 1
    return [f"{query}-1", f"{query}-2"]


@node
def summarize(hits: list[str]) -> str:
    RUNS["summarize"] += 1
    return " + ".join(hits)


@node
def plan(task: str) -> dict[str, Any]:
    RUNS["plan"] += 1
    hits = search(task)
    return {"task": task, "hits": hits, "summary": summarize(hits)}


@node
async def fetch(i: int, delay: float) -> dict[str, int]:
    RUNS["fetch"] += 1
    await asyncio.sleep(delay)
    return {"i": i, "square": i * i}


def pipeline(task: str = "cats") -> dict[str, Any]:
    """Sequential: plan (search, summarize inside), then a second search."""
    first = plan(task)
    more = search(task + "!")
    return {"first": first, "more": more}


# --- typed values ----------------------------------------------------------------------------
@dataclasses.dataclass
class Hit:
    title: str
    score: float


class Page(msgspec.Struct):
    url: str
    hits: list[Hit]


class Usage(TypedDict):
    prompt_tokens: int
    completion_tokens: int


@attrs.define
class Verdict:
    ok: bool
    reason: str


class Answer(pydantic.BaseModel):
    text: str
    confidence: float


@node
def get_hit() -> Hit:
    RUNS["get_hit"] += 1
    return Hit("a", 0.5)


@node
def get_page() -> Page:
    RUNS["get_page"] += 1
    return Page("https://example.org", [Hit("b", 0.25)])


@node
def get_usage() -> Usage:
    RUNS["get_usage"] += 1
    return {"prompt_tokens": 3, "completion_tokens": 5}


@node
def get_verdict() -> Verdict:
    RUNS["get_verdict"] += 1
    return Verdict(True, "fine")


@node
async def get_answer() -> Answer:
    RUNS["get_answer"] += 1
    return Answer(text="42", confidence=0.9)


@node
def get_pair() -> tuple[int, str]:
    RUNS["get_pair"] += 1
    return (1, "one")


def typed_flow() -> dict[str, Any]:
    return {"hit": get_hit(), "page": get_page(), "usage": get_usage(),
            "verdict": get_verdict(), "answer": asyncio.run(get_answer()), "pair": get_pair()}


# --- errors ----------------------------------------------------------------------------------
class QuotaError(Exception):
    """An error a user's code defines and catches."""


class NeedsTwoArgs(Exception):
    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"{code}: {detail}")


@node
def over_quota(user: str) -> None:
    RUNS["over_quota"] += 1
    raise QuotaError(f"{user} is over quota")


@node
def missing_key(d: dict[str, int]) -> int:
    RUNS["missing_key"] += 1
    return d["absent"]


@node
def odd_error() -> None:
    RUNS["odd_error"] += 1
    raise NeedsTwoArgs(7, "odd")


# --- streams ---------------------------------------------------------------------------------
@node("llm_stream", node_type="llm")
def stream_words(prompt: str) -> Iterator[str]:
    RUNS["stream_words"] += 1
    yield from prompt.split()


@node("llm_astream", node_type="llm")
async def astream_chunks(prompt: str) -> AsyncIterator[Hit]:
    RUNS["astream_chunks"] += 1
    for i, word in enumerate(prompt.split()):
        await asyncio.sleep(0)
        yield Hit(word, i / 10)


def record(path: Path, fn: Any, *args: Any, name: str = "flow", **kwargs: Any) -> Any:
    """Run ``fn`` once under `record_workflow` into ``path``; returns what it returned."""
    with record_workflow(name, path=os.fspath(path)):
        return fn(*args, **kwargs)

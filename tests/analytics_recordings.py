"""A store of many small, varied recordings for the analytics and export tests.

`fill_store` records real runs with the public API — three workflows, nodes
that fail and are retried, failed runs, an LLM node that reports its model
and token usage, a tool, a team whose members message each other, and a
recursion level — so DuckDB, the Parquet export and the OTLP export all see
every kind of span. The runs are small (a dozen events) so that a module can
build 200 of them once and share them.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from recorder import node, record_workflow

__all__ = ["WORKFLOWS", "fill_store", "record_one"]

WORKFLOWS = ("etl", "report", "triage")


class TransformError(RuntimeError):
    """A transform step that failed (retried once in some runs)."""


class PublishError(RuntimeError):
    """The last step of a run that failed."""


@node("extract", node_type="tool")
def extract(rows: int) -> list[int]:
    return list(range(rows))


@node("transform")
def transform(rows: list[int], fail: bool) -> int:
    if fail:
        raise TransformError(f"row {len(rows)} is malformed")
    return sum(rows)


@node("load")
def load(total: int) -> dict[str, int]:
    return {"loaded": total}


@node("draft", node_type="llm")
def draft(prompt: str, model: str) -> dict[str, Any]:
    return {"model": model, "text": prompt.upper(),
            "usage": {"input_tokens": len(prompt), "output_tokens": 2 * len(prompt)}}


@node("search", node_type="tool")
def search(query: str) -> list[str]:
    return [f"{query}-1", f"{query}-2"]


@node("planner", node_type="agent")
def planner(topic: str) -> list[str]:
    return [f"{topic}/a", f"{topic}/b"]


@node("publish")
def publish(doc: str, fail: bool) -> str:
    if fail:
        raise PublishError(f"refused {doc!r}")
    return doc


def _etl(i: int) -> None:
    rows = extract(3 + i % 4)
    with contextlib.suppress(TransformError):  # retried below: attempt 2
        transform(rows, fail=i % 5 == 0)
    total = transform(rows, fail=False) if i % 5 == 0 else sum(rows)
    load(total)


def _report(i: int) -> None:
    hits = search(f"topic{i % 3}")
    text = draft(" ".join(hits), model="gpt-4o-mini" if i % 2 else "claude-3-haiku")
    publish(text["text"], fail=i % 7 == 0)


def _triage(i: int, rec: Any) -> None:
    topics = planner(f"case{i}")
    with rec.team("reviewers", formation="pair", members=["ann", "bob"]) as team:
        with team.member("ann"):
            team.message("ann", "bob", {"note": topics[0]})
        with team.member("bob"):
            team.message("bob", "ann", {"note": "ok"})
    with rec.recursion("split", topics[1]):
        search(topics[1])
    rec.snapshot({"case": i, "topics": topics})


def record_one(store: str | os.PathLike[str], i: int) -> str:
    """Record run number ``i`` (its workflow and outcome follow from ``i``); returns its id."""
    workflow = WORKFLOWS[i % len(WORKFLOWS)]
    try:
        with record_workflow(workflow, store=os.fspath(store), tags=[f"batch{i % 2}"],
                             inputs={"run": i}) as rec:
            if workflow == "etl":
                _etl(i)
            elif workflow == "report":
                _report(i)
            else:
                _triage(i, rec)
    except PublishError:
        pass
    return rec.recording_id


def fill_store(store: str | os.PathLike[str], count: int, *, first: int = 0) -> list[str]:
    """Record runs ``first`` … ``first + count - 1`` into ``store``; returns their ids."""
    return [record_one(store, i) for i in range(first, first + count)]

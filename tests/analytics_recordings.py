"""A store of many small, varied recordings for the analytics and export tests.

`fill_store` records real runs with the public API — three workflows, nodes
that fail and are retried, failed runs, an LLM node that reports its model
and token usage, a tool, a team whose members message each other, and a
recursion level — so DuckDB, the Parquet export and the OTLP export all see
every kind of span. The runs are small (a dozen events) so that a module can
build 200 of them once and share them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from recorder import node, record_workflow

__all__ = ["RUNS", "WORKFLOWS", "analytics_store", "fill_store", "record_damaged", "record_one"]

WORKFLOWS = ("etl", "report", "triage")
RUNS = 200


class TransformError(RuntimeError):
    """A transform step that failed (retried once in some runs)."""


class PublishError(RuntimeError):
    """The last step of a run that failed."""


@node("extract", node_type="tool")
def extract(rows: int) -> list[int]:
    return list(range(rows))


#: Whether the next transform call fails (a flaky step: the retry, with the same inputs, is
#: attempt 2 of the same node).
_flaky = [False]


@node("transform")
def transform(rows: list[int]) -> int:
    if _flaky[0]:
        _flaky[0] = False
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
    _flaky[0] = i % 5 == 0
    try:
        total = transform(rows)
    except TransformError:
        total = transform(rows)  # attempt 2
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


def record_damaged(store: str | os.PathLike[str]) -> str:
    """Record a 600-event run into ``store`` and damage a frame in its middle; its id."""
    with record_workflow("big", store=os.fspath(store)) as rec:
        for i in range(600):
            rec.event("tick", {"i": i})
    assert rec.path is not None
    with open(rec.path, "r+b") as f:
        f.seek(os.path.getsize(rec.path) // 2)
        f.write(b"\xff" * 8)
    return rec.recording_id


@pytest.fixture(scope="session", name="store")
def analytics_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`RUNS` recordings of the three workflows, recorded once per test process and shared by
    the modules that import this fixture (they only read it, or copy it first)."""
    root = tmp_path_factory.mktemp("analytics") / "recordings"
    fill_store(root, RUNS)
    return root

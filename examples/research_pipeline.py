"""A research pipeline recorded with flowtape: load, plan, a team, recursion, retries, failures.

Run it (no network, no API keys — the agents are simulated, deterministic fakes)::

    .venv/bin/python examples/research_pipeline.py                  # into ./recordings
    .venv/bin/python examples/research_pipeline.py --store /tmp/rec
    .venv/bin/python examples/research_pipeline.py --fail           # a run that fails

What the run does, and what each step leaves in the recording (SPEC §3 kinds):

1. ``load``: read and parse a small corpus; parsing runs in a worker thread,
   so its node has its own lane (``node_start``/``node_complete``, ``state``,
   ``checkpoint``).
2. ``plan``: a planner agent splits the topic into subtopics.
3. A team of three researcher agents works on the subtopics in parallel
   asyncio tasks, one lane each. Each sends its summary to a peer and
   answers the summary it receives with feedback (``team_start``,
   ``team_member_start``/``_complete``, ``team_message``, ``team_complete``).
4. ``refine_outline``: the outline is refined recursively, section by
   section, three levels deep (``recursion_enter``/``_exit`` with ``depth``).
5. ``fetch_citations`` times out once and is retried: attempts 1 and 2 of
   the same node under the same parent (a ``node_error``, then a
   ``node_complete``, and a ``custom`` event for the retry).
6. ``fact_check`` fails; the pipeline notes it and goes on.
7. ``publish`` writes the report — or, with ``--fail``, is refused, and the
   whole run ends in ``workflow_error`` (exit code 1).

The state dict grows as it goes and is snapshotted after every step. After
the run the script prints a summary and how to look at the recording.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shlex
import sys
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from recorder import ExecutionRecorder, TeamRecorder, node, record_workflow
from storage import LogReader, default_store_url

WORKFLOW = "research_pipeline"
DEFAULT_TOPIC = "event sourcing for agent workflows"
RESEARCHERS = ("alice", "bob", "carol")
TICK = 0.004  # seconds; the simulated latency unit of the fake services


class PublishError(RuntimeError):
    """The (simulated) destination refused the report."""


class FactCheckError(ValueError):
    """Some claims could not be verified."""


# --- simulated services -----------------------------------------------------------------------
class FakeLLM:
    """A deterministic stand-in for a language model: same prompt, same answer."""

    def __init__(self, model: str = "fake-llm-1") -> None:
        self.model = model
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def __repr__(self) -> str:  # what a node's inputs show for it (no memory address)
        return f"FakeLLM(model={self.model!r})"

    async def complete(self, role: str, prompt: str, *, latency: int = 2) -> str:
        await asyncio.sleep(latency * TICK)
        digest = hashlib.sha256(f"{role}|{prompt}".encode()).hexdigest()
        words = [_VOCAB[int(digest[i:i + 2], 16) % len(_VOCAB)] for i in range(0, 16, 2)]
        self.prompt_tokens += len(prompt.split())
        self.completion_tokens += len(words)
        return " ".join(words)


_VOCAB = ("append-only", "log", "replay", "snapshot", "projection", "idempotent", "causal",
          "ordering", "checkpoint", "compaction", "retry", "agent", "span", "lineage",
          "deterministic", "diff", "regression", "latency", "budget", "schema")


class CitationIndex:
    """A citation search service that times out the first ``failures`` times it is asked."""

    def __init__(self, failures: int = 1) -> None:
        self._failures_left = failures

    @node("fetch_citations", node_type="tool")
    async def fetch(self, query: str, limit: int = 3) -> list[dict[str, Any]]:
        await asyncio.sleep(TICK)
        if self._failures_left > 0:
            self._failures_left -= 1
            raise TimeoutError(f"citation index did not answer within {TICK * 1000:.0f} ms")
        return [{"key": f"ref{i}", "title": f"{query.title()}, part {i}", "year": 2019 + i}
                for i in range(1, limit + 1)]


# --- the nodes --------------------------------------------------------------------------------
@node("load", node_type="io")
async def load(topic: str, source: dict[str, Any]) -> list[dict[str, Any]]:
    """Read the corpus; parsing is CPU work, so it goes to a worker thread."""
    await asyncio.sleep(TICK)
    raw = [f"{topic} :: document {i} :: " + " ".join(_VOCAB[i:i + 6]) for i in range(6)]
    return await asyncio.to_thread(parse_documents, raw)


@node("parse_documents")
def parse_documents(raw: list[str]) -> list[dict[str, Any]]:
    docs = []
    for line in raw:
        _, name, body = (part.strip() for part in line.split("::"))
        docs.append({"id": name.replace(" ", "-"), "words": len(body.split()), "body": body})
    return docs


@node("plan", node_type="agent")
async def plan(llm: FakeLLM, topic: str, documents: int) -> list[str]:
    await llm.complete("planner", f"split {topic} over {documents} documents")
    return ["history and prior art", "storage and replay design", "evaluation and regressions"]


@node("research", node_type="agent")
async def research(llm: FakeLLM, member: str, subtopic: str) -> dict[str, Any]:
    text = await llm.complete(member, f"research {subtopic}", latency=3)
    confidence = round(0.6 + 0.1 * (len(member) % 3), 2)
    return {"subtopic": subtopic, "summary": text, "confidence": confidence}


@node("critique", node_type="agent")
async def critique(llm: FakeLLM, member: str, summary: str) -> str:
    return await llm.complete(member, f"critique {summary}")


@node("refine_section", node_type="agent")
async def refine_section(llm: FakeLLM, title: str, level: int) -> dict[str, Any]:
    text = await llm.complete("editor", f"refine {title} at level {level}", latency=1)
    children = [f"{title}.{i}" for i in (1, 2)] if level < 3 else []
    return {"title": title, "text": text, "children": children}


@node("fact_check", node_type="tool")
async def fact_check(claims: list[str]) -> dict[str, Any]:
    await asyncio.sleep(TICK)
    unverified = [c for c in claims if "regression" in c or "budget" in c] or claims[:1]
    raise FactCheckError(f"{len(unverified)} of {len(claims)} claims could not be verified")


@node("publish", node_type="io")
async def publish(report: dict[str, Any], destination: str, *, refuse: bool) -> dict[str, Any]:
    await asyncio.sleep(TICK)
    if refuse:
        raise PublishError(f"{destination} refused the report: reviewer sign-off missing")
    return {"destination": destination, "sections": len(report["sections"]), "ok": True}


# --- the pipeline -----------------------------------------------------------------------------
async def researcher(team: TeamRecorder, llm: FakeLLM, name: str, subtopic: str, *,
                     inboxes: dict[str, asyncio.Queue[tuple[str, str]]],
                     feedback: dict[str, asyncio.Queue[str]]) -> dict[str, Any]:
    """One team member: research, send the summary to a peer, answer the peer's summary."""
    peer = RESEARCHERS[(RESEARCHERS.index(name) + 1) % len(RESEARCHERS)]
    with team.member(name, role="researcher"):
        findings = await research(llm, name, subtopic)
        team.message(name, peer, {"type": "summary", "subtopic": subtopic,
                                  "text": findings["summary"]})
        await inboxes[peer].put((name, findings["summary"]))
        sender, summary = await inboxes[name].get()
        note = await critique(llm, name, summary)
        team.message(name, sender, {"type": "feedback", "text": note})
        await feedback[sender].put(note)
        findings["feedback"] = await feedback[name].get()
        return findings


async def refine_outline(rec: ExecutionRecorder, llm: FakeLLM, title: str, level: int,
                         state: dict[str, Any]) -> dict[str, Any]:
    """Refine one outline section, then its children, one recursion level each."""
    with rec.recursion("refine_outline", title):
        section = await refine_section(llm, title, level)
        state["outline"][title] = section["text"]
        rec.snapshot(state)
        section["children"] = [await refine_outline(rec, llm, child, level + 1, state)
                               for child in section["children"]]
        return section


async def with_retries(rec: ExecutionRecorder, index: CitationIndex, query: str,
                       attempts: int = 3) -> list[dict[str, Any]]:
    for attempt in range(1, attempts + 1):
        try:
            return await index.fetch(query)
        except TimeoutError as exc:
            if attempt == attempts:
                raise
            delay = TICK * attempt
            rec.event("retry", {"node": "fetch_citations", "attempt": attempt,
                                "delay_s": delay, "reason": str(exc)})
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def pipeline(rec: ExecutionRecorder, topic: str, *, fail: bool) -> dict[str, Any]:
    llm = FakeLLM()
    state: dict[str, Any] = {"topic": topic, "stage": "start", "warnings": []}
    rec.snapshot(state)

    documents = await load(topic, {"kind": "corpus", "api_key": "sk-demo-not-a-real-key"})
    state.update(stage="loaded", documents=[d["id"] for d in documents])
    rec.snapshot(state)
    rec.checkpoint("corpus_loaded", {"documents": len(documents)})

    subtopics = await plan(llm, topic, len(documents))
    state.update(stage="planned", subtopics=subtopics)
    rec.snapshot(state)

    inboxes: dict[str, asyncio.Queue[tuple[str, str]]] = {n: asyncio.Queue() for n in RESEARCHERS}
    feedback: dict[str, asyncio.Queue[str]] = {n: asyncio.Queue() for n in RESEARCHERS}
    async with rec.team("researchers", formation="parallel", members=list(RESEARCHERS)) as team:
        tasks = [asyncio.create_task(researcher(team, llm, name, sub, inboxes=inboxes,
                                                feedback=feedback),
                                     name=f"researcher:{name}")
                 for name, sub in zip(RESEARCHERS, subtopics, strict=True)]
        findings = await asyncio.gather(*tasks)
        team.output = {"subtopics": len(findings)}
    state.update(stage="researched", findings={f["subtopic"]: f["summary"] for f in findings})
    rec.snapshot(state)
    rec.checkpoint("research_done", {"findings": len(findings)})

    state.update(stage="outlining", outline={})
    outline = await refine_outline(rec, llm, "report", 1, state)

    citations = await with_retries(rec, CitationIndex(failures=1), topic)
    state.update(stage="cited", citations=[c["key"] for c in citations])
    rec.snapshot(state)

    try:
        await fact_check([f["summary"] for f in findings])
    except FactCheckError as exc:
        state["warnings"].append(f"fact check: {exc}")
        rec.checkpoint("fact_check_skipped", {"reason": str(exc)})
    state["stage"] = "checked"
    rec.snapshot(state)

    rec.event("llm_usage", {"prompt_tokens": llm.prompt_tokens,
                            "completion_tokens": llm.completion_tokens})
    report = {"title": topic, "sections": [outline["title"], *state["outline"]],
              "citations": state["citations"], "warnings": state["warnings"]}
    receipt = await publish(report, "wiki://research/reports", refuse=fail)
    state["stage"] = "published"
    rec.snapshot(state)
    rec.checkpoint("published", receipt)
    return receipt


@dataclass(frozen=True)
class RunResult:
    """What one run left behind."""

    recording_id: str
    path: str
    error: BaseException | None


def run(store: str, *, fail: bool = False, topic: str = DEFAULT_TOPIC) -> RunResult:
    """Run the pipeline once, recorded into ``store``; a failed run is returned, not raised."""
    recording = record_workflow(WORKFLOW, store=store, tags=["example", "simulated"],
                                inputs={"topic": topic, "fail": fail})

    async def main_task() -> None:
        task = asyncio.current_task()
        if task is not None:
            task.set_name("pipeline")  # the lane of everything not in a member or a thread
        async with recording as rec:
            await pipeline(rec, topic, fail=fail)

    error: BaseException | None = None
    try:
        asyncio.run(main_task())
    except PublishError as exc:
        error = exc
    rec = recording.recorder
    assert rec is not None and rec.path is not None
    return RunResult(rec.recording_id, rec.path, error)


# --- the summary ------------------------------------------------------------------------------
def print_summary(console: Console, result: RunResult, store: str) -> None:
    """The recording at a glance, and the commands that show more of it."""
    with LogReader.open(result.path) as reader:
        header, footer, status = reader.header, reader.footer, reader.status
        size = reader.size
    counts = footer.counts if footer is not None else None
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    colour = "green" if status == "completed" else "red"
    rows: list[tuple[str, str]] = [
        ("recording", header.recording_id),
        ("workflow", header.workflow),
        ("status", f"[{colour}]{status}[/]"),
        ("events", str(footer.event_count if footer else reader.event_count)),
    ]
    if counts is not None and footer is not None:
        rows += [
            ("nodes", str(counts.nodes)),
            ("teams", str(counts.teams)),
            ("messages", str(counts.messages)),
            ("max depth", str(counts.max_depth)),
            ("duration", f"{footer.duration_ns / 1e6:.1f} ms"),
        ]
    if result.error is not None:
        rows.append(("error", f"{type(result.error).__name__}: {result.error}"))
    rows += [("file", result.path), ("size", f"{size:,} bytes")]
    for key, value in rows:
        table.add_row(key, value)
    console.print(Panel(table, title="flowtape recording", border_style=colour, expand=False))

    rid, path = header.recording_id, result.path
    # The CLI looks in $FLOWTAPE_STORE or ./recordings unless told otherwise.
    elsewhere = os.path.abspath(store) != os.path.abspath(default_store_url())
    opt = f" --store {shlex.quote(store)}" if elsewhere else ""
    cat = f"zstdcat {shlex.quote(path)} | jq -c"
    commands = [
        ("timeline", f"flowtape replay {rid}{opt}"),
        ("step through it", f"flowtape replay {rid} --step{opt}"),
        ("the errors, with jq", f"{cat} 'select(.kind==\"node_error\") "
         "| {seq, node, attempt, error: .data.error.message}'"),
        ("who told whom what", f"{cat} 'select(.kind==\"team_message\") "
         "| {seq, lane, from: .data.from, to: .data.to, type: .data.message.type}'"),
    ]
    console.print("[bold]Look at it:[/]")
    for label, command in commands:
        console.print(f"  [dim]{label}[/]")
        # Unwrapped and without markup, so the line can be copied as it is.
        console.print(f"    {command}", markup=False, highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record a simulated research pipeline.")
    parser.add_argument("--store", default="./recordings",
                        help="directory to record into (default: ./recordings)")
    parser.add_argument("--fail", action="store_true",
                        help="make the publish step fail, so the whole run fails")
    parser.add_argument("--topic", default=DEFAULT_TOPIC, help="what to research")
    parser.add_argument("--quiet", action="store_true",
                        help="print only the recording's path (for `flowtape demo`)")
    args = parser.parse_args(argv)
    os.makedirs(args.store, exist_ok=True)
    result = run(args.store, fail=args.fail, topic=args.topic)
    if args.quiet:
        print(result.path)
    else:
        print_summary(Console(), result, args.store)
    return 1 if result.error is not None else 0


if __name__ == "__main__":
    sys.exit(main())

"""Exports: DOT, Chrome trace JSON, Mermaid, JSON, summary and the Markdown failure report.

The recordings are made with the public recorder API — a failing run with a
team whose members message each other, recursion, two lanes, state
snapshots, a handled error and payloads full of quotes, newlines, markup
and backticks — and each format is checked for what a consumer relies on:
Graphviz renders the DOT, the trace is valid trace-event JSON whose spans
nest per thread, the flowchart's ids and labels are safe, the JSON holds
exactly the recording, and the report points at the failure. The `export`
command and ``ExecutionReplayer.visualize`` are driven in-process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import msgspec
import pytest
from rich.console import Console

from recorder import ExecutionRecorder, node, record_workflow
from replayer import ExecutionReplayer, Replayer
from replayer.cli import export as cmd_export
from replayer.export import EXPORTERS, STREAMS, export, iter_export
from replayer.export.failure import locate_failure
from replayer.export.mermaid import mermaid_id
from replayer.export.scan import walk
from storage import CorruptRecordingError, Event

try:
    from _tools import require_tool
except ImportError:  # pragma: no cover - tests/_tools.py is another change's
    def require_tool(name: str) -> str:
        path = shutil.which(name)
        if path is None:
            pytest.skip(f"{name} is not installed")
        return path

SECRET = "hunter2-do-not-print"
#: Quotes, a backslash, newlines, rich markup, HTML, a Markdown fence, a pipe, unicode.
HOSTILE = 'say "hi" <script>x</script>\nline 2 \\ [bold]x[/bold] ``` | é ☃ {x} #1;'
WEIRD_NODE = 'we"ird\nnode [b] <i> \\ ✓'
FORMATS = {"dot", "chrome", "mermaid", "json", "summary", "markdown", "html", "otlp"}


@node("fetch", node_type="tool")
def fetch(url: str) -> dict[str, Any]:
    return {"body": HOSTILE, "n": len(url)}


@node("flaky")
def flaky(n: int) -> None:
    raise TimeoutError(f"attempt {n} timed out")


@node("parse")
def parse(doc: dict[str, Any]) -> Any:
    return doc["missing"]


@node("analyse")
def analyse(doc: dict[str, Any]) -> Any:
    try:
        return parse(doc)
    except KeyError as exc:
        raise ValueError(f"cannot analyse {doc['name']!r}") from exc


@node(WEIRD_NODE)
def weird(x: int) -> int:
    return x + 1


def _record_failing(path: Path) -> Path:
    with pytest.raises(ValueError, match="cannot analyse"), \
            record_workflow("pipeline", path=str(path), tags=["t"]) as rec:
        rec.snapshot({"stage": "start", "cart": {"items": []}, "password": SECRET})
        fetch("http://a")
        with contextlib.suppress(TimeoutError):
            flaky(1)
        worker = threading.Thread(target=fetch, args=("http://thread",), name="worker-1")
        worker.start()
        worker.join()
        with rec.team("research", formation="pair", members=["alice", "bob"]) as team:
            with team.member("alice"):
                team.message("alice", "bob", HOSTILE)
                fetch("http://b")
            with team.member("bob"):
                team.message("bob", "alice", {"ok": True})
                team.message("bob", "carol", "anyone there?")  # carol never runs
        with rec.recursion("solve", "level-1"), rec.recursion("solve", "level-2"):
            fetch("deep")
        rec.snapshot({"stage": "analyse", "cart": {"items": ["x", HOSTILE]},
                      "password": SECRET})
        analyse({"name": "doc-7"})
    return path


def _record_completed(path: Path) -> Path:
    with record_workflow("tidy", path=str(path)) as rec:
        weird(1)
        fetch("http://c")
        rec.checkpoint("halfway", {"done": 1})
        rec.event("note", HOSTILE)
    return path


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("exports")
    failing = _record_failing(root / "failing.jsonl.zst")
    completed = _record_completed(root / "completed.jsonl.zst")
    # An incomplete copy: the failing run without its footer frame and trailer.
    with Replayer.open(failing) as r:
        last = r.reader.frames[-1]
        cut = last.offset + last.length
    incomplete = root / "incomplete.jsonl.zst"
    incomplete.write_bytes(failing.read_bytes()[:cut])
    return {"failing": failing, "completed": completed, "incomplete": incomplete}


@pytest.fixture
def failing(recordings: dict[str, Path]) -> Iterator[Replayer]:
    with Replayer.open(recordings["failing"]) as r:
        yield r


@pytest.fixture
def completed(recordings: dict[str, Path]) -> Iterator[Replayer]:
    with Replayer.open(recordings["completed"]) as r:
        yield r


# --- the registry ----------------------------------------------------------------------------
def test_registry_has_every_format(failing: Replayer) -> None:
    """EXPORTERS names the six formats, and each gives text ending in a newline."""
    assert set(EXPORTERS) == FORMATS == set(STREAMS)
    for fmt, exporter in EXPORTERS.items():
        text = exporter(failing)
        assert text.endswith("\n") and text == export(failing, fmt)
        assert "".join(iter_export(failing, fmt)) == text


def test_unknown_format_lists_the_known_ones(failing: Replayer) -> None:
    """An unknown format is a ValueError naming every known one."""
    with pytest.raises(ValueError, match="unknown export format 'svg'") as info:
        export(failing, "svg")
    for fmt in FORMATS:
        assert fmt in str(info.value)


def test_no_export_prints_a_redacted_secret(recordings: dict[str, Path]) -> None:
    """Payloads were redacted when recorded; no format shows the secret."""
    for name in ("failing", "completed", "incomplete"):
        with Replayer.open(recordings[name]) as r:
            for fmt in FORMATS:
                assert SECRET not in export(r, fmt), (name, fmt)


# --- dot -------------------------------------------------------------------------------------
@pytest.mark.tools
def test_dot_renders_with_graphviz(recordings: dict[str, Path], tmp_path: Path) -> None:
    """`dot -Tsvg` renders every recording's DOT, one SVG node per span plus stand-ins."""
    dot = require_tool("dot")
    for name in ("failing", "completed", "incomplete"):
        with Replayer.open(recordings[name]) as r:
            text = export(r, "dot")
            spans = r.spans()
        src = tmp_path / f"{name}.dot"
        src.write_text(text, encoding="utf-8")
        done = subprocess.run([dot, "-Tsvg", str(src)], capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", done.stderr  # no syntax warnings either
        svg = done.stdout
        assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
        stand_ins = len(re.findall(r"^\s*m\d+ \[", text, flags=re.M))
        assert svg.count('class="node"') == len(spans) + stand_ins
        assert svg.count('class="cluster"') == sum(s.kind == "team" for s in spans)


def test_dot_draws_spans_teams_status_and_messages(failing: Replayer) -> None:
    """A node per span, teams as clusters, failure colour, durations, dashed messages."""
    text = export(failing, "dot")
    spans = failing.spans()
    assert text.startswith("digraph pipeline {\n") and text.rstrip().endswith("}")
    for s in spans:
        assert re.search(rf"^\s*s{s.start_seq} \[label=", text, flags=re.M), s
        if s.parent is not None:
            assert f"  s{s.parent} -> s{s.start_seq};\n" in text
    team = next(s for s in spans if s.kind == "team")
    assert f"subgraph cluster_s{team.start_seq} {{" in text
    alice = next(s for s in spans if s.node == "alice")
    bob = next(s for s in spans if s.node == "bob")
    # alice's message to bob, dashed, labelled with the (escaped) payload
    edge = re.search(rf"^  s{alice.start_seq} -> s{bob.start_seq} \[style=dashed.*$", text,
                     flags=re.M)
    assert edge is not None and '\\"hi\\"' in edge.group()
    assert re.search(r'^\s*m\d+ \[label="carol"', text, flags=re.M)  # never ran: a stand-in
    parse_line = next(ln for ln in text.splitlines()
                      if re.match(rf"\s*s{_span(failing, 'parse').start_seq} \[", ln))
    assert 'fillcolor="#ffebee"' in parse_line and "KeyError" in parse_line
    assert re.search(r"\d+(\.\d+)?(ns|µs|ms|s)", parse_line)  # a duration on the label
    assert "recursion depth 2" in text


@pytest.mark.tools
def test_dot_escapes_hostile_names_and_payloads(completed: Replayer, tmp_path: Path) -> None:
    """Quotes, newlines, backslashes and markup in names and payloads do not break the DOT."""
    text = export(completed, "dot")
    assert 'we\\"ird\\nnode [b] <i> \\\\ ✓' in text
    for line in text.splitlines():  # every quote is escaped or part of a balanced pair
        assert len(re.findall(r'(?<!\\)"', line.replace("\\\\", ""))) % 2 == 0, line
    src = tmp_path / "weird.dot"
    src.write_text(text, encoding="utf-8")
    done = subprocess.run([require_tool("dot"), "-Tsvg", str(src)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "we&quot;ird" in done.stdout and "✓" in done.stdout


def test_visualize_writes_dot_named_workflow_execution(recordings: dict[str, Path],
                                                       tmp_path: Path) -> None:
    """ExecutionReplayer.visualize(path) writes and returns DOT for graph workflow_execution."""
    out = tmp_path / "run.dot"
    r = ExecutionReplayer.load(recordings["failing"])
    with r:
        text = r.visualize(out)
        assert text == export(r, "dot").replace("digraph pipeline {", "digraph "
                                                "workflow_execution {", 1)
    assert text.startswith("digraph workflow_execution {")
    assert out.read_text(encoding="utf-8") == text


# --- chrome ----------------------------------------------------------------------------------
def _check_trace(doc: Any) -> list[dict[str, Any]]:
    """Assert ``doc`` is a valid trace-event document; returns its events."""
    assert isinstance(doc, dict) and set(doc) >= {"traceEvents", "displayTimeUnit"}
    assert doc["displayTimeUnit"] == "ms"
    events = doc["traceEvents"]
    assert isinstance(events, list) and events
    named: dict[int, str] = {}
    for e in events:
        assert isinstance(e, dict) and e["ph"] in {"X", "M", "i", "s", "f"}, e
        assert e["pid"] == 1 and isinstance(e["name"], str) and e["name"], e
        if e["ph"] == "M":
            assert e["name"] in {"process_name", "thread_name", "thread_sort_index"}
            assert isinstance(e["args"], dict)
            if e["name"] == "thread_name":
                assert isinstance(e["tid"], int) and e["tid"] not in named
                named[e["tid"]] = e["args"]["name"]
            continue
        assert type(e["tid"]) is int and isinstance(e["ts"], int | float) and e["ts"] >= 0, e
        if e["ph"] == "X":
            assert isinstance(e["dur"], int | float) and e["dur"] >= 0, e
            assert {"status", "attempt", "start_seq"} <= set(e["args"])
        if e["ph"] == "i":
            assert e["s"] in {"t", "p", "g"}
        if e["ph"] in {"s", "f"}:
            assert isinstance(e["id"], int)
    used = {e["tid"] for e in events if e["ph"] != "M" and "tid" in e}
    assert used <= set(named), "every thread has a thread_name"
    # Complete events on one thread nest like a call stack.
    by_tid: dict[int, list[tuple[float, float]]] = {}
    for e in events:
        if e["ph"] == "X":
            by_tid.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
    eps = 1e-6
    for tid, slices in by_tid.items():
        stack: list[float] = []
        for start, end in sorted(slices, key=lambda x: (x[0], -x[1])):
            while stack and stack[-1] <= start + eps:
                stack.pop()
            assert not stack or end <= stack[-1] + eps, f"slices overlap on tid {tid}"
            stack.append(end)
    flows = Counter((e["id"], e["ph"]) for e in events if e["ph"] in {"s", "f"})
    for (fid, ph), n in flows.items():
        assert n == 1 and flows[(fid, "f" if ph == "s" else "s")] == 1
    return events


def test_chrome_is_valid_trace_json_with_spans_per_lane(failing: Replayer) -> None:
    """Every span a complete event on its lane's thread; messages, errors marked."""
    doc = json.loads(export(failing, "chrome"))
    events = _check_trace(doc)
    spans = failing.spans()
    complete = [e for e in events if e["ph"] == "X"]
    assert len(complete) == len(spans)
    assert {e["args"]["start_seq"] for e in complete} == {s.start_seq for s in spans}
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert set(names.values()) == {"MainThread", "worker-1"}
    worker = next(e for e in complete if names[e["tid"]] == "worker-1")
    assert worker["name"] == "fetch" and worker["args"]["status"] == "completed"
    for s, e in zip(spans, sorted(complete, key=lambda e: e["args"]["start_seq"]), strict=True):
        assert e["ts"] == pytest.approx(s.start_ns / 1000)
        assert e["dur"] == pytest.approx((s.duration_ns or 0) / 1000)
        assert e["args"]["status"] == s.status and e["args"]["attempt"] == s.attempt
    parse_x = next(e for e in complete if e["name"] == "parse")
    assert parse_x["cname"] == "terrible" and parse_x["args"]["error"]["type"] == "KeyError"
    errors = [e for e in events if e["ph"] == "i" and e["cat"] == "error"]
    assert [e["args"]["type"] for e in errors] == ["TimeoutError", "KeyError", "ValueError",
                                                  "ValueError"]
    assert "Traceback" in errors[1]["args"]["traceback"]
    messages = [e for e in events if e["ph"] == "i" and e["cat"] == "message"]
    assert [m["args"]["message"] for m in messages][:1] == [HOSTILE]
    assert len(messages) == 3
    # An arrow for alice -> bob only: alice had finished when bob answered, carol never ran.
    flows = [e for e in events if e["ph"] in {"s", "f"}]
    assert [(e["ph"], names[e["tid"]]) for e in flows] == [("s", "MainThread"),
                                                          ("f", "MainThread")]
    bob = next(e for e in complete if e["name"] == "bob")
    assert flows[1]["ts"] == bob["ts"]  # the arrow ends where bob starts
    assert doc["otherData"]["status"] == "failed"


def test_chrome_moves_overlapping_spans_to_an_extra_track(tmp_path: Path) -> None:
    """Spans that overlap on one lane without nesting go to a second track of that lane."""
    path = tmp_path / "overlap.jsonl.zst"
    with record_workflow("overlap", path=str(path)) as rec:
        assert isinstance(rec, ExecutionRecorder)
        rec.record_node_start("a")
        rec.record_node_start("b")
        rec.record_node_complete("a")  # a ends while b, started inside it, still runs
        rec.record_node_complete("b")
    with Replayer.open(path) as r:
        events = _check_trace(json.loads(export(r, "chrome")))
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert sorted(names.values()) == ["MainThread", "MainThread (2)"]
    b = next(e for e in events if e["ph"] == "X" and e["name"] == "b")
    assert names[b["tid"]] == "MainThread (2)"


def test_chrome_marks_checkpoints_and_custom_events(completed: Replayer) -> None:
    """Checkpoints and custom events are instant events with their values."""
    events = _check_trace(json.loads(export(completed, "chrome")))
    marks = {e["name"]: e for e in events if e["ph"] == "i"}
    assert marks["halfway"]["cat"] == "checkpoint"
    assert marks["halfway"]["args"]["value"] == {"done": 1}
    assert marks["note"]["cat"] == "custom" and marks["note"]["args"]["value"] == HOSTILE


# --- mermaid ---------------------------------------------------------------------------------
_MERMAID_NODE = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)(\(\[|\[/|\{\{|\[|\()"([^"]*)"'
                           r'(\]\)|/\]|\}\}|\]|\))(:::\w+)?$')
_MERMAID_EDGE = re.compile(r'^\s*([A-Za-z_]\w*) (-->|-\.->\|"[^"]*"\|) ([A-Za-z_]\w*)$')


def _check_mermaid(text: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Parse the flowchart line by line; returns node ids -> class and the edges."""
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, str]] = []
    depth = 0
    for line in lines[1:]:
        stripped = line.strip()
        if stripped.startswith(("%%", "classDef ")):
            continue
        if re.match(r'subgraph ([A-Za-z_]\w*)\["([^"]*)"\]$', stripped):
            depth += 1
            continue
        if stripped == "end":
            depth -= 1
            assert depth >= 0
            continue
        if m := _MERMAID_NODE.match(line):
            assert m.group(1) not in nodes, f"node defined twice: {line}"
            nodes[m.group(1)] = (m.group(5) or ":::").removeprefix(":::")
            continue
        m = _MERMAID_EDGE.match(line)
        assert m is not None, f"not a node, edge, subgraph or style line: {line!r}"
        edges.append((m.group(1), m.group(2), m.group(3)))
    assert depth == 0, "subgraph without end"
    for a, _, b in edges:
        assert a in nodes and b in nodes, (a, b)
    for ident in nodes:
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ident) and ident != "end"
    return nodes, edges


def test_mermaid_flowchart_is_well_formed(failing: Replayer) -> None:
    """flowchart TD, safe ids, quoted labels, failed nodes styled, messages dotted."""
    text = export(failing, "mermaid")
    nodes, edges = _check_mermaid(text)
    spans = failing.spans()
    assert {f"s{s.start_seq}" for s in spans} <= set(nodes)
    assert nodes[f"s{_span(failing, 'parse').start_seq}"] == "failed"
    assert nodes[f"s{_span(failing, 'fetch').start_seq}"] == "completed"
    assert "classDef failed " in text
    assert sum(kind == "-->" for _, kind, _ in edges) == sum(s.parent is not None for s in spans)
    assert sum(kind.startswith("-.->") for _, kind, _ in edges) == 3
    assert "subgraph team_" in text
    # Payload text cannot close a label or inject markup.
    assert "<script>" not in text and "#lt;script#gt;" in text and "#quot;hi#quot;" in text


def test_mermaid_escapes_hostile_node_names(completed: Replayer) -> None:
    """A node name with quotes, newlines and markup is one safe label."""
    text = export(completed, "mermaid")
    _check_mermaid(text)
    assert "we#quot;ird<br/>node [b] #lt;i#gt; \\ ✓" in text


def test_mermaid_id_is_sanitised() -> None:
    """Ids keep only letters, digits and underscores, and are never the keyword end."""
    assert mermaid_id('a b-"c"') == "a_b__c_"
    assert mermaid_id("end") == "n_end"
    assert mermaid_id("9x") == "n_9x"


def test_mermaid_limits_big_runs_and_says_so(tmp_path: Path) -> None:
    """Past max_spans, the first spans are drawn and a note counts the rest."""
    from replayer.export.mermaid import to_mermaid

    path = tmp_path / "many.jsonl.zst"
    with record_workflow("many", path=str(path)):
        for i in range(30):
            fetch(str(i))
    with Replayer.open(path) as r:
        text = to_mermaid(r, max_spans=10)
    nodes, edges = _check_mermaid(text.replace('  more["', '  more_note["'))
    assert len([n for n in nodes if n.startswith("s")]) == 10 and len(edges) == 9
    assert "21 more spans not drawn" in text


# --- json ------------------------------------------------------------------------------------
def test_json_round_trips_the_recording(recordings: dict[str, Path]) -> None:
    """The document's events equal iter_events; header, footer and summary as read."""
    for name in ("failing", "completed", "incomplete"):
        with Replayer.open(recordings[name]) as r:
            doc = json.loads(export(r, "json"))
            assert set(doc) == {"header", "events", "footer", "summary"}
            assert msgspec.convert(doc["events"], list[Event]) == list(r.iter_events())
            assert doc["header"] == msgspec.to_builtins(r.header)
            assert doc["summary"] == msgspec.to_builtins(r.summary)
            if name == "incomplete":
                assert doc["footer"] is None and doc["summary"]["status"] == "incomplete"
            else:
                assert doc["footer"] == json.loads(msgspec.json.encode(r.footer))


# --- summary ---------------------------------------------------------------------------------
def test_summary_tells_status_counts_slowest_and_errors(failing: Replayer) -> None:
    """Status, counts, lanes, the final error, the slowest spans and each error."""
    text = export(failing, "summary")
    first = text.splitlines()[0]
    assert first.startswith("pipeline · failed · ") and first.endswith(f"{len(failing)} events")
    assert "ran 7 nodes, 1 team, 2 member turns, 3 messages" in text
    assert "on 2 lanes: MainThread, worker-1" in text
    assert "error: ValueError: cannot analyse 'doc-7'" in text
    assert "slowest spans:" in text
    assert "4 errors:" in text and "TimeoutError: attempt 1 timed out" in text


# --- markdown --------------------------------------------------------------------------------
def _fences_balanced(text: str) -> bool:
    """Each fence opened is closed by a fence of the same length."""
    open_fence: str | None = None
    for line in text.splitlines():
        m = re.match(r"^(`{3,})", line)
        if not m:
            continue
        if open_fence is None:
            open_fence = m.group(1)
        elif line == open_fence:
            open_fence = None
    return open_fence is None


def test_markdown_reports_where_and_why_a_run_failed(failing: Replayer) -> None:
    """Failing node, error type and message, traceback, inputs, state, events before it."""
    text = export(failing, "markdown")
    parse_span = _span(failing, "parse")
    assert text.startswith("# ✗ `pipeline` failed: `KeyError` in `parse`\n")
    # the path from the root to the first error on the failing path
    path = re.findall(r"^\d+\. (?:\*\*)?(\w+) `([^`]*)`", text, flags=re.M)
    assert path == [("workflow", "pipeline"), ("node", "analyse"), ("node", "parse")]
    assert "**node `parse` — failed" in text
    assert "KeyError: 'missing'" in text
    assert "Traceback (most recent call last):" in text and 'return doc["missing"]' in text
    assert '"name": "doc-7"' in text  # parse's inputs
    state = text.split("## State at the failure")[1].split("##")[0]
    assert f"(after event {parse_span.end_seq})" in text
    assert '"stage": "analyse"' in state and '"password": "[REDACTED]"' in state
    events = text.split("## The last events before the failure")[1]
    assert f"| {parse_span.end_seq} |" in events and "node_error" in events
    # the handled TimeoutError is listed, and is not taken for the cause
    assert "## Other errors" in text and "TimeoutError: attempt 1 timed out" in text
    assert _fences_balanced(text)


def test_markdown_for_a_completed_run_is_short(completed: Replayer) -> None:
    """A completed run gets a short summary: no traceback, no failure sections."""
    text = export(completed, "markdown")
    assert text.startswith("# ✓ `tidy` completed\n")
    assert "Traceback" not in text and "## Path" not in text
    assert "## Slowest spans" in text
    assert len(text.splitlines()) < 30


def test_markdown_for_an_incomplete_run_points_at_where_it_stopped(
        recordings: dict[str, Path]) -> None:
    """Without a footer the report says so and still leads with the error it holds."""
    with Replayer.open(recordings["incomplete"]) as r:
        text = export(r, "markdown")
    assert "`pipeline` incomplete" in text.splitlines()[0]
    assert "no footer" in text and "KeyError" in text
    assert _fences_balanced(text)


def test_markdown_payload_cannot_break_out_of_code(tmp_path: Path) -> None:
    """An error message holding fences, pipes and markup stays inside its code block."""
    @node("boom")
    def boom() -> None:
        raise RuntimeError("```\n# not a heading\n| a | b |\n<img src=x onerror=alert(1)>")

    path = tmp_path / "boom.jsonl.zst"
    with pytest.raises(RuntimeError), record_workflow("boom", path=str(path)):
        boom()
    with Replayer.open(path) as r:
        text = export(r, "markdown")
    assert _fences_balanced(text)
    assert "\n# not a heading" in text  # inside a fence of four backticks
    assert "````text\nRuntimeError: ```" in text


# --- deep and odd shapes -----------------------------------------------------------------
def test_deep_recursion_exports_without_python_recursion(tmp_path: Path) -> None:
    """1500 nested recursion levels export in every format (the tree walk uses a stack)."""
    path = tmp_path / "deep.jsonl.zst"
    with record_workflow("deep", path=str(path)) as rec, contextlib.ExitStack() as stack:
        for i in range(1500):
            stack.enter_context(rec.recursion("dive", f"level-{i}"))
        fetch("bottom")
    with Replayer.open(path) as r:
        for fmt in FORMATS:
            assert export(r, fmt)
        assert export(r, "dot").count("recursion depth") == 1500


def test_messages_outside_a_team_span_get_stand_ins(tmp_path: Path) -> None:
    """The published API may record a message with no team running; it still draws."""
    path = tmp_path / "loose.jsonl.zst"
    with record_workflow("loose", path=str(path)) as rec:
        assert isinstance(rec, ExecutionRecorder)
        rec.record_team_member_communication("ghost-team", "x", "y", "hello")
    with Replayer.open(path) as r:
        dot = export(r, "dot")
        _check_mermaid(export(r, "mermaid"))
        _check_trace(json.loads(export(r, "chrome")))
    assert re.search(r'^  m0 \[label="x"', dot, flags=re.M)
    assert re.search(r'^  m0 -> m1 \[style=dashed.*xlabel="hello"', dot, flags=re.M)


def test_one_pass_walk_agrees_with_replayer_spans(recordings: dict[str, Path]) -> None:
    """The full walk gives Replayer.spans; the light one the same totals and failure path."""
    def key(spans: list[Any]) -> list[tuple[Any, ...]]:
        return [(s.start_seq, s.end_seq, s.status, s.duration_ns, s.parent) for s in spans]

    for name in ("failing", "completed", "incomplete"):
        with Replayer.open(recordings[name]) as r:
            full, light = walk(r, full=True, marks=True), walk(r, full=False)
            assert full.spans == r.spans()
            for field in ("counts", "lanes", "max_depth", "message_count", "error_count",
                          "errors", "last_ts"):
                assert getattr(light, field) == getattr(full, field), (name, field)
            assert key(light.slowest) == key(full.slowest)
            assert {m.name for m in full.marks} == ({"halfway", "note"}
                                                    if name == "completed" else set())
            first = full.spans[:7]  # the first 7, with their children among the 7
            shown = {s.start_seq for s in first}
            first = [msgspec.structs.replace(s, children=[c for c in s.children if c in shown])
                     for s in first]
            assert walk(r, full=False, first=7).spans[:7] == first
            status = r.summary.status
            a = locate_failure(full.spans, full.errors, status)
            b = locate_failure(light.spans, light.errors, status)
            assert a.error == b.error and key(a.path) == key(b.path)


def test_exports_of_a_damaged_recording_read_with_recover(tmp_path: Path) -> None:
    """With recover=True every format skips a damaged frame; without, it is a clear error."""
    path = tmp_path / "damaged.jsonl.zst"
    with record_workflow("damaged", path=str(path), flush_every=4):
        for i in range(12):
            fetch(str(i))
    with Replayer.open(path) as r:
        frame = r.reader.frames[2]
    data = bytearray(path.read_bytes())
    data[frame.offset + frame.length // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with Replayer.open(path) as r, pytest.raises(CorruptRecordingError, match="frame 3"):
        export(r, "summary")
    with Replayer.open(path, recover=True) as r:
        events = list(r.iter_events())
        assert 0 < len(events) < 26
        for fmt in FORMATS:
            assert export(r, fmt)
        doc = json.loads(export(r, "json"))
        assert msgspec.convert(doc["events"], list[Event]) == events
        _check_trace(json.loads(export(r, "chrome")))


# --- the command -------------------------------------------------------------------------
def _args(**kw: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cmd_export.configure(parser)
    argv = [str(kw.pop("id"))]
    for key, value in kw.items():
        argv += [f"--{key}", str(value)]
    args = parser.parse_args(argv)
    args.store = None
    return args


def test_command_writes_the_output_file(recordings: dict[str, Path], tmp_path: Path) -> None:
    """-o writes the file (owner-only, no temp file left) and prints one line saying where."""
    out = tmp_path / "trace.json"
    screen = StringIO()
    rc = cmd_export.run(_args(id=recordings["failing"], format="chrome", output=out),
                        Console(file=screen, width=200))
    assert rc == 0
    _check_trace(json.loads(out.read_text(encoding="utf-8")))
    said = screen.getvalue()
    assert said.count("\n") == 1 and str(out) in said and "chrome" in said
    assert out.stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trace.json"]


def test_command_guesses_the_format_from_the_suffix(recordings: dict[str, Path],
                                                    tmp_path: Path) -> None:
    """Without --format, -o run.dot writes DOT and -o report.md writes Markdown."""
    console = Console(file=StringIO())
    for name, start in (("run.dot", "digraph "), ("report.md", "# ✗ "),
                        ("flow.mmd", "flowchart TD")):
        assert cmd_export.run(_args(id=recordings["failing"], output=tmp_path / name),
                              console) == 0
        assert (tmp_path / name).read_text(encoding="utf-8").startswith(start)


def test_command_prints_raw_text_to_stdout(recordings: dict[str, Path]) -> None:
    """Without -o the export goes to the console's file as is: no rich markup applied."""
    screen = StringIO()
    console = Console(file=screen, width=40, force_terminal=True)
    with Replayer.open(recordings["failing"]) as r:
        expected = export(r, "json")
    assert cmd_export.run(_args(id=recordings["failing"], format="json"), console) == 0
    assert screen.getvalue() == expected
    assert "[bold]x[/bold]" in expected


def test_command_reports_an_unwritable_output(recordings: dict[str, Path],
                                              tmp_path: Path) -> None:
    """A directory that does not exist is an OSError naming the file the user gave."""
    out = tmp_path / "missing" / "x.dot"
    with pytest.raises(OSError, match=r"cannot write .*x\.dot"):
        cmd_export.run(_args(id=recordings["failing"], output=out), Console(file=StringIO()))


def test_command_stops_quietly_when_the_reader_goes_away(recordings: dict[str, Path]) -> None:
    """A closed pipe on stdout (`flowtape export ID | head`) ends the export with 141."""
    class ClosedPipe(StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    console = Console(file=ClosedPipe())
    assert cmd_export.run(_args(id=recordings["failing"], format="json"), console) == 141


def test_command_module_interface() -> None:
    """NAME, HELP, configure and run, as replayer/cli/__init__.py expects of a command module."""
    assert cmd_export.NAME == "export" and cmd_export.HELP
    parser = argparse.ArgumentParser()
    cmd_export.configure(parser)
    args = parser.parse_args(["abc", "-f", "mermaid", "-o", "x.mmd"])
    assert (args.id, args.format, args.output) == ("abc", "mermaid", "x.mmd")
    with pytest.raises(SystemExit):
        parser.parse_args(["abc", "--format", "svg"])


def _span(r: Replayer, name: str) -> Any:
    return next(s for s in r.spans() if s.node == name)

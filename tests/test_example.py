"""The research-pipeline example records a well-formed run of every kind of SPEC §3.

The example (examples/research_pipeline.py) is run once as it is shipped and
once with ``--fail``; its recordings are read back with `storage.LogReader`
and checked for the structural invariants of the event log: dense ``seq``,
``span`` and ``parent`` links, ``depth``, ``lane`` and ``attempt``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from storage import EVENT_KINDS, Event, Footer, LogReader, apply_patch

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "research_pipeline.py"

#: Each end kind and the start kind it closes.
START_OF = {
    "workflow_complete": "workflow_start",
    "workflow_error": "workflow_start",
    "node_complete": "node_start",
    "node_error": "node_start",
    "team_complete": "team_start",
    "team_member_complete": "team_member_start",
    "recursion_exit": "recursion_enter",
}
ROOT_KINDS = {"workflow_start", "workflow_complete", "workflow_error"}


@dataclass
class Run:
    """One run of the example, read back."""

    exit_code: int
    output: str
    path: str
    events: list[Event]
    footer: Footer | None

    def of_kind(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    def ends(self) -> dict[int, Event]:
        """Each span's end event, keyed by the ``seq`` of its start."""
        return {e.span: e for e in self.events if e.kind in START_OF and e.span is not None}


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("research_pipeline", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def _run(tmp: Path, *args: str) -> Run:
    example = _load_example()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = example.main(["--store", str(tmp), *args])
    files = sorted(tmp.glob("*.jsonl.zst"))
    assert len(files) == 1, files
    with LogReader.open(files[0]) as reader:
        return Run(code, out.getvalue(), str(files[0]), list(reader.iter_events()),
                   reader.footer)


@pytest.fixture(scope="module")
def ok_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(tmp_path_factory.mktemp("ok"))


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(tmp_path_factory.mktemp("failed"), "--fail")


@pytest.fixture(params=["ok", "failed"])
def run(request: pytest.FixtureRequest) -> Run:
    """Both runs: every structural invariant holds whether the run succeeds or fails."""
    return request.getfixturevalue(f"{request.param}_run")  # type: ignore[no-any-return]


# --- what the run contains --------------------------------------------------------------------
def test_every_kind_appears(ok_run: Run, failed_run: Run) -> None:
    """The run records every §3 kind; the failed one has workflow_error instead of _complete."""
    kinds = {e.kind for e in ok_run.events}
    assert kinds == set(EVENT_KINDS) - {"workflow_error"}
    failed = {e.kind for e in failed_run.events}
    assert failed == set(EVENT_KINDS) - {"workflow_complete"}


def test_completed_run_and_summary(ok_run: Run) -> None:
    """The run completes (exit 0) and the summary names the recording and how to look at it."""
    assert ok_run.exit_code == 0
    assert ok_run.footer is not None and ok_run.footer.status == "completed"
    assert ok_run.events[-1].kind == "workflow_complete"
    rid = Path(ok_run.path).name.removesuffix(".jsonl.zst")
    for text in (rid, "research_pipeline", "completed", f"flowtape replay {rid}",
                 f"flowtape replay {rid} --step", f"zstdcat {ok_run.path} | jq"):
        assert text in ok_run.output
    counts = ok_run.footer.counts
    assert (counts.teams, counts.messages, counts.max_depth) == (1, 6, 3)
    assert counts.nodes == len(ok_run.of_kind("node_start"))


def test_failed_run_ends_in_workflow_error(failed_run: Run) -> None:
    """With --fail the last event is workflow_error and the footer says failed (exit 1)."""
    assert failed_run.exit_code == 1
    last = failed_run.events[-1]
    assert last.kind == "workflow_error"
    assert last.data["error"]["type"] == "PublishError"
    assert failed_run.footer is not None and failed_run.footer.status == "failed"
    assert failed_run.footer.error is not None
    assert failed_run.footer.error["type"] == "PublishError"
    publish = [e for e in failed_run.of_kind("node_error") if e.node == "publish"]
    assert len(publish) == 1


# --- structural invariants --------------------------------------------------------------------
def test_seq_is_dense(run: Run) -> None:
    """seq runs 0, 1, 2, … with no gap, and the footer counts every event."""
    assert [e.seq for e in run.events] == list(range(len(run.events)))
    assert run.footer is not None and run.footer.event_count == len(run.events)


def test_end_events_close_a_matching_start(run: Run) -> None:
    """Every end's span is the seq of a start of the matching kind, same node, closed once."""
    by_seq = {e.seq: e for e in run.events}
    closed: set[int] = set()
    for end in run.of_kind(*START_OF):
        assert end.span is not None, end
        start = by_seq[end.span]
        assert start.kind == START_OF[end.kind], (start, end)
        assert start.node == end.node, (start, end)
        assert start.seq < end.seq
        assert end.span not in closed, f"span {end.span} closed twice"
        closed.add(end.span)
        # A span's start and end sit side by side in the enclosing span.
        assert (end.parent, end.depth, end.lane) == (start.parent, start.depth, start.lane)
    starts = {e.seq for e in run.events if e.kind in START_OF.values()}
    assert starts == closed, f"spans never closed: {sorted(starts - closed)}"


def test_parent_is_an_enclosing_start(run: Run) -> None:
    """Every event's parent is a start whose span encloses it; only the root span has none.

    The root span's end (workflow_complete / workflow_error) carries the root's own
    parent, None, as every end carries its start's parent.
    """
    by_seq = {e.seq: e for e in run.events}
    ends = run.ends()
    for e in run.events:
        if e.kind in ROOT_KINDS:
            assert e.parent is None, e
            continue
        assert e.parent is not None, e
        parent = by_seq[e.parent]
        assert parent.kind in START_OF.values(), (parent, e)
        assert parent.seq < e.seq <= ends[parent.seq].seq, (parent, e)


def test_depth_counts_the_enclosing_recursions(run: Run) -> None:
    """depth is the number of recursion spans around the event (a level's enter/exit included)."""
    ends = run.ends()
    levels = [(s.seq, ends[s.seq].seq) for s in run.of_kind("recursion_enter")]
    for e in run.events:
        assert e.depth == sum(1 for a, b in levels if a <= e.seq <= b), e
    assert max(e.depth for e in run.events) == 3


def test_lanes(run: Run) -> None:
    """Every event has a lane; members working at the same time have distinct lanes."""
    assert all(isinstance(e.lane, str) and e.lane for e in run.events)
    ends = run.ends()
    members = [(s, ends[s.seq]) for s in run.of_kind("team_member_start")]
    overlapping = 0
    for i, (a, a_end) in enumerate(members):
        for b, b_end in members[i + 1:]:
            if a.seq < b_end.seq and b.seq < a_end.seq:
                overlapping += 1
                assert a.lane != b.lane, (a, b)
    assert overlapping >= 2, "the researchers should have worked concurrently"
    # Work handed to a thread runs in that thread's lane.
    load = next(e for e in run.events if e.kind == "node_start" and e.node == "load")
    parse = next(e for e in run.events if e.kind == "node_start" and e.node == "parse_documents")
    assert parse.parent == load.seq and parse.lane != load.lane


def test_retried_node_has_attempts_one_and_two(run: Run) -> None:
    """The flaky node fails once and succeeds on attempt 2, both under the same parent."""
    starts = [e for e in run.of_kind("node_start") if e.node == "fetch_citations"]
    assert [s.attempt for s in starts] == [1, 2]
    assert starts[0].parent == starts[1].parent
    ends = run.ends()
    assert [ends[s.seq].kind for s in starts] == ["node_error", "node_complete"]
    assert [ends[s.seq].attempt for s in starts] == [1, 2]
    assert ends[starts[0].seq].data["error"]["type"] == "TimeoutError"
    retry = [e for e in run.of_kind("custom") if e.data["name"] == "retry"]
    assert len(retry) == 1 and starts[0].seq < retry[0].seq < starts[1].seq


def test_handled_failure_is_recorded_and_the_run_goes_on(ok_run: Run) -> None:
    """fact_check's error is recorded as node_error, handled, and the run still completes."""
    errors = [e for e in ok_run.of_kind("node_error") if e.node == "fact_check"]
    assert len(errors) == 1
    assert errors[0].data["error"]["type"] == "FactCheckError"
    assert "traceback" in errors[0].data["error"]
    names = [e.data["name"] for e in ok_run.of_kind("checkpoint")]
    assert "fact_check_skipped" in names and names[-1] == "published"


def test_state_history_rebuilds_the_final_state(ok_run: Run) -> None:
    """Folding the state keyframes and patches gives the pipeline's final state."""
    state: Any = None
    states = ok_run.of_kind("state")
    assert states[0].state is not None, "the first state event is a keyframe"
    for e in states:
        state = e.state if e.state is not None else apply_patch(state, e.patch or [])
    assert state["stage"] == "published"
    assert state["citations"] == ["ref1", "ref2", "ref3"]
    assert len(state["outline"]) == 7  # 1 + 2 + 4 sections over three levels
    assert state["warnings"] and state["warnings"][0].startswith("fact check:")


def test_secrets_in_inputs_are_masked(ok_run: Run) -> None:
    """The api_key handed to the load node is recorded as [REDACTED]."""
    load = next(e for e in ok_run.events if e.kind == "node_start" and e.node == "load")
    assert load.data["inputs"]["source"]["api_key"] == "[REDACTED]"


# --- the real command line --------------------------------------------------------------------
def test_command_line_fail_exits_1_without_traceback(tmp_path: Path) -> None:
    """`research_pipeline.py --fail` exits 1, prints the summary, and no traceback."""
    proc = subprocess.run([sys.executable, str(EXAMPLE), "--store", str(tmp_path), "--fail"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "failed" in proc.stdout and "PublishError" in proc.stdout
    assert len(list(tmp_path.glob("*.jsonl.zst"))) == 1


@pytest.mark.tools
@pytest.mark.skipif(not (shutil.which("zstdcat") and shutil.which("jq")),
                    reason="needs zstdcat and jq")
def test_jq_command_from_the_summary_works(ok_run: Run) -> None:
    """The printed `zstdcat … | jq` line finds the two node errors."""
    line = next(ln.strip() for ln in ok_run.output.splitlines()
                if ln.strip().startswith("zstdcat") and "node_error" in ln)
    proc = subprocess.run(line, shell=True, capture_output=True, text=True, timeout=60,
                          check=True)
    nodes = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert len(nodes) == 2
    assert '"fetch_citations"' in nodes[0] and '"fact_check"' in nodes[1]

"""The `flowtape` command: every command, its exit codes, `--json`, and one-line errors.

Most tests call `replayer.cli.main` in-process (output through capsys); the
ones marked slow run ``python -m replayer`` as a real subprocess, the way a
user or a CI job does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from types import ModuleType

import msgspec
import pytest
from rich.console import Console

from recorder import node, record_workflow
from replayer import Replayer
from replayer.cli import COMMAND_MODULES, build_parser, load_commands, main
from replayer.terminal.console import progress
from storage import FlowtapeError, RecordingInfo

ROOT = Path(__file__).resolve().parents[2]


@node
def extract(n: int) -> list[int]:
    return list(range(n))


@node
def load(rows: list[int]) -> int:
    if len(rows) > 3:
        raise RuntimeError("disk full")
    return len(rows)


class Recordings:
    """Three runs in one store: etl ok (tagged), etl failed, and a report run with state."""

    def __init__(self, store: Path) -> None:
        self.store = store
        with record_workflow("etl", store=store, tags=["nightly", "eu"]) as r:
            load(extract(2))
        self.ok = r.path
        with pytest.raises(RuntimeError), \
                record_workflow("etl", store=store, tags=["nightly"]) as r:
            load(extract(5))
        self.failed = r.path
        with record_workflow("report", store=store, flush_every=4) as r:
            for i in range(6):
                r.snapshot({"page": i, "title": f"p{i}"})
                extract(i)
        self.report = r.path

    def id_of(self, path: str) -> str:
        with Replayer.open(path) as r:
            return r.recording_id


@pytest.fixture
def recs(store: Path) -> Recordings:
    return Recordings(store)


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], store: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``cli(*argv)`` -> (exit code, stdout, stderr), with --store set to the fixture store.

    $COLUMNS is cleared: piped output is then as wide as its content (pytest-xdist
    workers inherit a COLUMNS that would squeeze the tables).
    """
    monkeypatch.delenv("COLUMNS", raising=False)

    def run(*argv: str, store_arg: bool = True) -> tuple[int, str, str]:
        code = main([*(["--store", str(store)] if store_arg else []), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def subprocess_cli(*argv: str, store: Path, env: dict[str, str] | None = None
                   ) -> subprocess.CompletedProcess[str]:
    """``python -m replayer ARGV`` with $FLOWTAPE_STORE pointing at ``store``."""
    full_env = {**os.environ, "FLOWTAPE_STORE": str(store), **(env or {})}
    full_env.pop("FLOWTAPE_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "replayer", *argv], capture_output=True,
                          text=True, env=full_env, cwd=ROOT, timeout=60, check=False)


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    """Exit 2, exactly one line on stderr starting ``flowtape: error:``, no traceback."""
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("flowtape: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]


def common_prefix(ids: list[str]) -> str:
    """The longest string every id starts with (ids are time-ordered: they share one)."""
    prefix = ids[0]
    for other in ids[1:]:
        while not other.startswith(prefix):
            prefix = prefix[:-1]
    return prefix


def damage(path: str, frame: int = 1) -> None:
    """Flip a byte in the middle of one event frame (the zstd checksum will notice)."""
    with Replayer.open(path) as r:
        span = r.reader.frames[frame]
    data = bytearray(Path(path).read_bytes())
    data[span.offset + span.length // 2] ^= 0xFF
    Path(path).write_bytes(bytes(data))


# --- list --------------------------------------------------------------------------------
def test_list_table(cli: Run, recs: Recordings) -> None:
    """list prints one row per recording with id, workflow and status."""
    code, out, _ = cli("list")
    assert code == 0
    for path in (recs.ok, recs.failed, recs.report):
        assert recs.id_of(path) in out
    assert "completed" in out and "failed" in out and "report" in out


def test_list_json_is_one_array_of_recording_infos(cli: Run, recs: Recordings) -> None:
    """list --json prints a JSON array whose objects carry exactly the RecordingInfo fields."""
    code, out, _ = cli("list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert isinstance(rows, list) and len(rows) == 3
    assert all(set(row) == set(RecordingInfo.__struct_fields__) for row in rows)
    by_id = {row["recording_id"]: row for row in rows}
    ok = by_id[recs.id_of(recs.ok)]
    assert ok["workflow"] == "etl" and ok["success"] is True and ok["tags"] == ["nightly", "eu"]
    assert ok["path"] == recs.ok
    assert by_id[recs.id_of(recs.failed)]["error_type"] == "RuntimeError"


@pytest.mark.parametrize(("args", "expected"), [
    (["--workflow", "etl"], {"ok", "failed"}),
    (["--failed"], {"failed"}),
    (["--success"], {"ok", "report"}),
    (["--status", "failed"], {"failed"}),
    (["--tags", "nightly"], {"ok", "failed"}),
    (["--tags", "nightly,eu"], {"ok"}),
    (["--tags", "eu", "--tags", "nightly"], {"ok"}),
    (["--tags", "eu,none", "--any-tag"], {"ok"}),
    (["--error-type", "RuntimeError"], {"failed"}),
    (["--workflow", "nope"], set()),
])
def test_list_filters(cli: Run, recs: Recordings, args: list[str], expected: set[str]) -> None:
    """Filters go to the store's query and narrow the list."""
    names = {recs.id_of(recs.ok): "ok", recs.id_of(recs.failed): "failed",
             recs.id_of(recs.report): "report"}
    code, out, _ = cli("list", "--json", *args)
    assert code == 0
    assert {names[row["recording_id"]] for row in json.loads(out)} == expected


def test_list_sort_and_limit(cli: Run, recs: Recordings) -> None:
    """--sort-by/--sort-order order the rows, --limit and --offset page them."""
    code, out, _ = cli("list", "--json", "--sort-by", "workflow", "--sort-order", "asc")
    assert code == 0
    assert [row["workflow"] for row in json.loads(out)] == ["etl", "etl", "report"]
    _, out, _ = cli("list", "--json", "--sort-by", "event_count", "--limit", "1")
    rows = json.loads(out)
    assert len(rows) == 1 and rows[0]["recording_id"] == recs.id_of(recs.report)
    _, out, _ = cli("list", "--json", "--sort-by", "started_at", "--sort-order", "asc",
                    "--offset", "2")
    assert [row["recording_id"] for row in json.loads(out)] == [recs.id_of(recs.report)]


def test_list_empty_store(cli: Run, tmp_path: Path) -> None:
    """An empty store lists nothing and exits 0; --json gives [] (a missing one is an error:
    test_cli_store.py::test_a_bad_store_is_an_error)."""
    (tmp_path / "nothing-here").mkdir()
    empty = str(tmp_path / "nothing-here")
    code, out, _ = cli("list", "--store", empty, store_arg=False)
    assert code == 0 and "No recordings" in out
    code, out, _ = cli("--store", empty, "list", "--json", store_arg=False)
    assert json.loads(out) == []


def test_store_comes_from_the_environment_at_run_time(
        cli: Run, recs: Recordings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --store, $FLOWTAPE_STORE is read when the command runs."""
    monkeypatch.setenv("FLOWTAPE_STORE", str(recs.store))
    code, out, _ = cli("list", "--json", store_arg=False)
    assert code == 0 and len(json.loads(out)) == 3


def test_list_bad_values(cli: Run, recs: Recordings) -> None:
    """A bad option value is a usage error: exit 2, no traceback."""
    code, _, err = cli("list", "--sort-by", "colour")
    assert code == 2 and "invalid choice" in err and "Traceback" not in err
    code, _, err = cli("list", "--limit", "-1")
    assert_one_line_error(code, err, "--limit")


# --- inspect -------------------------------------------------------------------------------
def test_inspect(cli: Run, recs: Recordings) -> None:
    """inspect shows header, outcome, counts, timing, file and integrity."""
    code, out, _ = cli("inspect", recs.id_of(recs.failed))
    assert code == 0
    for needle in ("workflow", "etl", "failed", "RuntimeError: disk full", "node_error 1",
                   "nightly", "zstd", "footer and trailer present", recs.failed):
        assert needle in out, needle


def test_inspect_json(cli: Run, recs: Recordings) -> None:
    """inspect --json is one object: header, summary, kinds, slowest spans, file, integrity."""
    code, out, _ = cli("inspect", recs.report, "--json")
    assert code == 0
    info = json.loads(out)
    assert info["recording_id"] == recs.id_of(recs.report)
    assert info["header"]["workflow"] == "report"
    assert info["summary"]["status"] == "completed"
    assert info["kinds"]["state"] == 6 and info["kinds"]["node_start"] == 6
    assert info["file"]["codec"] == "zstd" and info["file"]["frames"] > 1
    assert info["integrity"] == {"footer": True, "trailer": True, "tail_garbage": 0,
                                 "skipped_frames": []}
    assert len(info["slowest"]) == 5


def test_inspect_and_replay_say_running_while_the_writer_lives(
        cli: Run, store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A footerless file whose writer still holds it is running, in inspect and replay."""
    monkeypatch.setattr(sys, "stdin", StringIO("q\n"))
    with record_workflow("live", store=store) as rec:
        rec.event("started")
        code, out, _ = cli("inspect", str(rec.path))
        assert code == 0
        assert status_row(out) == "running"
        assert "no footer yet: the run is still being recorded" in out
        code, out, _ = cli("inspect", str(rec.path), "--json")
        assert json.loads(out)["summary"]["status"] == "running"
        code, out, _ = cli("replay", str(rec.path))
        assert code == 0 and " · running · " in out.splitlines()[0]
        assert out.splitlines()[-1].startswith("running: no footer yet")
        code, out, _ = cli("replay", str(rec.path), "--step")
        assert code == 0 and " events · running · " in out.splitlines()[0]


def test_inspect_and_replay_say_incomplete_once_the_writer_is_gone(
        cli: Run, recs: Recordings, tmp_path: Path) -> None:
    """A footerless file nobody writes any more (crashed, killed, cut) is incomplete."""
    with Replayer.open(recs.report) as r:
        cut = r.reader.frames[2].offset  # the header and two event frames; no footer
    path = tmp_path / "crashed.jsonl.zst"
    path.write_bytes(Path(recs.report).read_bytes()[:cut])
    code, out, _ = cli("inspect", str(path))
    assert code == 0
    assert status_row(out) == "incomplete"
    assert "no footer: the writer is gone (the run crashed or was killed)" in out
    code, out, _ = cli("replay", str(path))
    assert " · incomplete · " in out.splitlines()[0]
    assert out.splitlines()[-1].startswith("incomplete: no footer, and the writer is gone")


@pytest.mark.parametrize(("columns", "width"), [(None, 80), ("60", 60), ("132", 132)])
def test_inspect_fits_the_width_when_piped(cli: Run, recs: Recordings,
                                           monkeypatch: pytest.MonkeyPatch,
                                           columns: str | None, width: int) -> None:
    """Piped, inspect lays out to $COLUMNS or 80: no line longer, none padded with spaces."""
    if columns is not None:
        monkeypatch.setenv("COLUMNS", columns)
    code, out, _ = cli("inspect", recs.failed)
    assert code == 0
    lines = out.splitlines()
    wide = [line for line in lines if len(line) > width]
    assert all(line.split() == ["file", recs.failed] for line in wide)  # a path stays whole
    assert max(len(line) for line in lines if line not in wide) > width - 20  # wrapped near
    assert all(line == line.rstrip() for line in lines)
    joined = " ".join(line.strip() for line in lines)
    assert "max_payload_bytes=1048576" in joined  # wrapped, not cut
    assert recs.id_of(recs.failed) in out


#: A count of one followed by a plural noun ("1 nodes").
ONE_THEN_PLURAL = re.compile(r"(?<![\d.,])1 (state keyframe|node|team|message|error|span|frame"
                             r"|event|byte|unreadable byte)s\b")


def test_counts_of_one_are_singular(cli: Run, store: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """inspect, replay (and its --limit note) and the stepper never print "1 nodes"."""
    with pytest.raises(RuntimeError), record_workflow("bare", store=store) as bare:
        raise RuntimeError("at once")  # one span, one error, one event frame
    with record_workflow("single", store=store, flush_every=1) as single:
        team = single.team("crew", members=["a"])
        with team, team.member("a"):
            team.message("a", "a", "hi")
            extract(1)
        single.snapshot({"n": 1})
    with Replayer.open(single.path) as r:
        cut = r.reader.frames[1].offset  # the header and the first event only
    one_event = tmp_path / "one-event.jsonl.zst"
    one_event.write_bytes(Path(str(single.path)).read_bytes()[:cut])
    outputs = []
    for path in (str(bare.path), str(single.path), str(one_event)):
        outputs += [cli("inspect", path)[1], cli("replay", path)[1]]
    outputs.append(cli("replay", str(single.path), "--limit", "1")[1])
    monkeypatch.setattr(sys, "stdin", StringIO("j -5\nq\n"))
    outputs.append(cli("replay", str(one_event), "--step")[1])
    text = "\n".join(outputs)
    assert ONE_THEN_PLURAL.findall(text) == []
    for needle in ("1 node,", "1 node ·", "1 team", "1 message", "1 error", "in 1 span",
                   "1 frame", "1 state keyframe", "1 event ·", "stopped after 1 event ",
                   "there is only 1 event"):
        assert needle in text, needle


def status_row(inspect_output: str) -> str:
    """The value of inspect's ``status`` row."""
    row = next(line for line in inspect_output.splitlines() if line.startswith("status"))
    return row.split(maxsplit=1)[1].strip()


def test_ids_by_prefix_latest_and_path(cli: Run, recs: Recordings) -> None:
    """An id prefix, `latest` and a file path all open the same kind of thing."""
    full = recs.id_of(recs.report)
    for arg in (full, full[:-3], "latest", recs.report):
        code, out, _ = cli("inspect", arg, "--json")
        assert code == 0, arg
        assert json.loads(out)["recording_id"] == full


# --- replay ------------------------------------------------------------------------------
def test_replay_timeline(cli: Run, recs: Recordings) -> None:
    """replay prints a headline, one indented line per event, and how the run ended."""
    code, out, _ = cli("replay", recs.failed)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("etl · ") and "failed" in lines[0]
    events = lines[1:-1]
    assert len(events) == 6
    assert events[0].split()[0] == "0" and "workflow_start etl" in events[0]
    assert "    node_start extract" in events[1]  # nested one level under the workflow
    assert "RuntimeError: disk full" in events[4]
    assert lines[-1].startswith("failed in ") and "(RuntimeError: disk full)" in lines[-1]


def test_replay_filters(cli: Run, recs: Recordings) -> None:
    """--kind (repeatable), --node (a glob), --from and --limit narrow the timeline."""
    code, out, _ = cli("replay", recs.report, "--kind", "node_start", "--node", "ext*")
    assert code == 0
    assert sum("node_start extract" in line for line in out.splitlines()) == 6
    assert "state" not in out.split("\n", 1)[1].rsplit("\n", 2)[0]
    code, out, _ = cli("replay", recs.report, "--kind", "state", "--kind", "node_complete",
                       "--from", "10", "--limit", "3")
    body = out.splitlines()[1:-2]
    assert [int(line.split()[0]) for line in body] == [10, 12, 13]
    assert "stopped after 3 events (--limit); continue with --from 15" in out
    code, out, _ = cli("replay", recs.report, "--node", "nobody")
    assert "no events match" in out


def test_replay_show_data_and_state(cli: Run, recs: Recordings) -> None:
    """--show-data prints each payload, --show-state the state after each state event."""
    code, out, _ = cli("replay", recs.report, "--show-data", "--show-state", "--limit", "6")
    assert code == 0
    assert 'data {"inputs": {"n": 0}}' in out
    assert 'data {"outputs": []}' in out
    assert 'state {"page": 1, "title": "p1"}' in out


def test_replay_truncated_state_is_unknown(cli: Run, store: Path) -> None:
    """A state over max_payload_bytes reads as unknown in the timeline and in --show-state."""
    from stepper_recordings import record_truncated

    code, out, _ = cli("replay", record_truncated(store), "--show-state")
    assert code == 0
    assert "$truncated" not in out and "$preview" not in out
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[0] == "2")
    assert lines[at].endswith("state  keyframe unknown: truncated, was 521 bytes")
    assert lines[at + 1].strip() == "state (unknown: state truncated, was 521 bytes)"
    assert lines[at + 2].split()[0] == "3"  # a checkpoint: the state is not shown again


def test_replay_unknown_kind(cli: Run, recs: Recordings) -> None:
    """An unknown --kind is one error line naming the known kinds."""
    code, _, err = cli("replay", recs.ok, "--kind", "node_begin")
    assert_one_line_error(code, err, "node_begin", "node_start")


def test_replay_from_unknown_seq(cli: Run, recs: Recordings) -> None:
    """--from past the end is one error line."""
    code, _, err = cli("replay", recs.ok, "--from", "500")
    assert_one_line_error(code, err, "seq 500")


def test_replay_follow_a_finished_file(cli: Run, recs: Recordings) -> None:
    """--follow on a finished recording prints every event, then how it ended, and exits 0."""
    code, out, _ = cli("replay", recs.ok, "--follow")
    assert code == 0
    assert "following" in out.splitlines()[0]
    assert sum(line.split()[0].isdigit() for line in out.splitlines()[1:]) == 6
    assert out.splitlines()[-1].startswith("completed in ")


def test_replay_step_reads_piped_commands(cli: Run, recs: Recordings,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """replay --step with commands on stdin runs them and exits 0 at the end of input."""
    monkeypatch.setattr(sys, "stdin", StringIO("n\nbreak node_error\nc\nw\n"))
    code, out, _ = cli("replay", recs.failed, "--step", "--from", "1")
    assert code == 0
    assert "(flowtape) n\n" in out
    assert "breakpoint 1 (node_error) at seq 4" in out
    assert "node load" in out.rsplit("(flowtape) w", 1)[1]


def test_replay_step_kind_becomes_a_breakpoint(cli: Run, recs: Recordings,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """With --step, --kind and --node set breakpoints."""
    monkeypatch.setattr(sys, "stdin", StringIO("c\n"))
    code, out, _ = cli("replay", recs.failed, "--step", "--kind", "node_error")
    assert code == 0
    assert "Breakpoint 1 at kind node_error" in out and "at seq 4" in out


# --- verify -----------------------------------------------------------------------------
def test_verify_ok(cli: Run, recs: Recordings) -> None:
    """A clean recording verifies: every check listed, OK, exit 0."""
    code, out, _ = cli("verify", recs.id_of(recs.report))
    assert code == 0
    assert "seq 0..19 dense" in out and "counts and seek index match" in out
    assert "trailer present" in out and out.rstrip().endswith("OK")


def test_verify_damaged_frame(cli: Run, recs: Recordings) -> None:
    """A flipped byte: exit 1 naming the frame; --recover lists it; --json says ok false."""
    damage(recs.report, frame=1)
    code, out, _ = cli("verify", recs.report)
    assert code == 1
    assert "frame 2 at byte offset" in out and "DAMAGED" in out
    assert "--recover lists them" in out
    code, out, _ = cli("verify", recs.report, "--recover")
    assert code == 1 and "damaged frames, skipped by --recover reading" in out
    code, out, _ = cli("verify", recs.report, "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["skipped"][0]["frame"] == 2
    assert any("seq is not dense" in p for p in report["problems"])


def test_verify_incomplete_file(cli: Run, recs: Recordings, tmp_path: Path) -> None:
    """A file cut short (no footer, a partial frame) verifies as damaged with both reasons."""
    data = Path(recs.report).read_bytes()
    with Replayer.open(recs.report) as r:
        cut = r.reader.frames[2].offset + 5
    path = tmp_path / "cut.jsonl.zst"
    path.write_bytes(data[:cut])
    code, out, _ = cli("verify", str(path))
    assert code == 1
    assert "no footer" in out and "5 bytes at the end do not form a complete frame" in out


def test_verify_corrupt_header(cli: Run, tmp_path: Path) -> None:
    """A file that is not a recording at all is damaged (exit 1), not a crash."""
    path = tmp_path / "junk.jsonl.zst"
    path.write_bytes(b"this is not a recording\n")
    code, out, _ = cli("verify", str(path))
    assert code == 1 and "not a flowtape recording" in out


def test_replay_damaged_frame_needs_recover(cli: Run, recs: Recordings) -> None:
    """Reading a damaged frame is one error line; --recover reads around it."""
    damage(recs.report, frame=1)
    code, _, err = cli("replay", recs.report)
    assert_one_line_error(code, err, "corrupt recording", "frame 2")
    code, out, _ = cli("replay", recs.report, "--recover")
    assert code == 0 and "node_start extract" in out


# --- errors ------------------------------------------------------------------------------
def test_unknown_id(cli: Run, recs: Recordings) -> None:
    """An id nothing starts with: one line, exit 2."""
    code, _, err = cli("inspect", "zzzz")
    assert_one_line_error(code, err, "'zzzz'", "flowtape list")


def test_ambiguous_prefix(cli: Run, recs: Recordings) -> None:
    """A prefix of several ids: one line listing the candidates, exit 2."""
    ids = [recs.id_of(p) for p in (recs.ok, recs.failed, recs.report)]
    prefix = common_prefix(ids)
    assert prefix
    code, _, err = cli("replay", prefix)
    assert_one_line_error(code, err, "matches 3 recordings", ids[0])


def test_path_like_argument_that_is_no_file(cli: Run, recs: Recordings) -> None:
    """`../x` is neither a file nor an id: one line, exit 2, no file outside the store read."""
    code, _, err = cli("inspect", "../x")
    assert_one_line_error(code, err, "'../x'", "not a recording id")
    code, _, err = cli("verify", "../x")
    assert_one_line_error(code, err, "'../x'")


def test_corrupt_file(cli: Run, tmp_path: Path) -> None:
    """A file that is not a recording: one line naming it, exit 2."""
    path = tmp_path / "junk.jsonl.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 40)
    for command in ("inspect", "replay"):
        code, _, err = cli(command, str(path))
        assert_one_line_error(code, err, str(path))


def test_directory_as_recording(cli: Run, tmp_path: Path) -> None:
    """A directory given as a recording: one line, exit 2."""
    code, _, err = cli("replay", str(tmp_path))
    assert_one_line_error(code, err, "is a directory")


def test_usage_errors_exit_2(cli: Run) -> None:
    """argparse mistakes (no command, unknown option) exit 2; --help exits 0."""
    assert cli()[0] == 2
    assert cli("replay")[0] == 2
    assert cli("list", "--frobnicate")[0] == 2
    code, out, _ = cli("--help")
    assert code == 0
    for name in ("list", "inspect", "replay", "verify", "demo"):
        assert name in out


# --- the registry ---------------------------------------------------------------------------
def test_registry_lists_compare_and_export() -> None:
    """compare and export are registered by name, loaded only if their modules exist."""
    assert "replayer.cli.compare" in COMMAND_MODULES
    assert "replayer.cli.export" in COMMAND_MODULES


def test_a_missing_command_module_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A command module the table names but that does not exist is listed as unavailable and
    running it is one error line (exit 2), never a silently missing command."""
    commands = load_commands(["replayer.cli.list", "replayer.cli.not_written_yet"])
    assert [c.NAME for c in commands] == ["list", "not-written-yet"]
    assert "unavailable" in commands[1].HELP
    parser = build_parser(commands)
    with pytest.raises(FlowtapeError, match="not_written_yet"):
        commands[1].run(parser.parse_args(["not-written-yet"]), Console())


def test_the_table_names_every_command_module_and_each_loads() -> None:
    """Every public module in replayer/cli/ is in the command table, and each imports cleanly
    (an underscore module is a helper a command shares, not a command)."""
    here = sorted(f"replayer.cli.{p.stem}" for p in (ROOT / "replayer" / "cli").glob("*.py")
                  if not p.stem.startswith("_"))
    assert sorted(COMMAND_MODULES) == here
    assert all(isinstance(c, ModuleType) for c in load_commands())


def test_broken_command_module_reports_when_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A module that fails to import is listed; running it is one error line, not a crash."""
    (tmp_path / "flowtape_broken_cmd.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    commands = load_commands(["flowtape_broken_cmd"])
    assert len(commands) == 1 and "unavailable" in commands[0].HELP
    with pytest.raises(Exception, match="no_such_dependency_xyz"):
        commands[0].run(None, Console(file=StringIO()))  # type: ignore[arg-type]


def test_progress_bar_only_on_a_terminal() -> None:
    """progress() draws on a terminal for big jobs and stays silent otherwise."""
    term = StringIO()
    with progress(100, "checking", threshold=10,
                  console=Console(file=term, force_terminal=True)) as advance:
        advance(100)
    assert "checking" in term.getvalue()
    pipe = StringIO()
    with progress(100, "checking", threshold=10, console=Console(file=pipe)) as advance:
        advance(100)
    assert pipe.getvalue() == ""


# --- as a real subprocess ----------------------------------------------------------------------
@pytest.mark.slow
def test_subprocess_commands(recs: Recordings) -> None:
    """python -m replayer runs list --json, replay and verify with $FLOWTAPE_STORE."""
    listed = subprocess_cli("list", "--json", store=recs.store)
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 3
    replayed = subprocess_cli("replay", "latest", store=recs.store)
    assert replayed.returncode == 0 and "workflow_start report" in replayed.stdout
    assert replayed.stderr == ""
    verified = subprocess_cli("verify", "latest", store=recs.store)
    assert verified.returncode == 0 and "OK" in verified.stdout


@pytest.mark.slow
@pytest.mark.parametrize("argv", [
    ["inspect", "zzzz"],
    ["replay", "../x"],
    ["inspect", "__AMBIGUOUS__"],
    ["replay", "__CORRUPT__"],
])
def test_subprocess_errors_are_one_line(recs: Recordings, tmp_path: Path,
                                        argv: list[str]) -> None:
    """Errors from the real command: exit 2, one line on stderr, nothing on stdout."""
    junk = tmp_path / "junk.jsonl.zst"
    junk.write_bytes(b"garbage")
    prefix = common_prefix([recs.id_of(p) for p in (recs.ok, recs.failed)])
    argv = [{"__AMBIGUOUS__": prefix, "__CORRUPT__": str(junk)}.get(a, a) for a in argv]
    proc = subprocess_cli(*argv, store=recs.store)
    assert_one_line_error(proc.returncode, proc.stderr)
    assert proc.stdout == ""


@pytest.mark.slow
def test_subprocess_debug_shows_the_traceback(recs: Recordings) -> None:
    """--debug adds the traceback before the error line."""
    proc = subprocess_cli("--debug", "inspect", "zzzz", store=recs.store)
    assert proc.returncode == 2
    assert "Traceback (most recent call last)" in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("flowtape: error: ")


@pytest.mark.slow
def test_subprocess_verify_exit_codes(recs: Recordings) -> None:
    """verify exits 0 for an intact file and 1 for a damaged one."""
    assert subprocess_cli("verify", recs.ok, store=recs.store).returncode == 0
    damage(recs.report)
    proc = subprocess_cli("verify", recs.report, store=recs.store)
    assert proc.returncode == 1 and "DAMAGED" in proc.stdout


@pytest.mark.slow
def test_subprocess_step_with_piped_stdin(recs: Recordings) -> None:
    """replay --step reads piped commands and exits 0 at the end of input."""
    proc = subprocess.run(
        [sys.executable, "-m", "replayer", "replay", recs.failed, "--step"],
        input="s\ns\nstate\nq\n", capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "FLOWTAPE_STORE": str(recs.store)}, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("(flowtape) ") == 4
    assert 'state = {"extract": [0, 1, 2, 3, 4]}' in proc.stdout


@pytest.mark.slow
def test_demo(store: Path) -> None:
    """demo records the example workflow in a subprocess and replays it."""
    proc = subprocess_cli("demo", store=store)
    assert proc.returncode == 0, proc.stderr
    assert "Recorded the demo workflow to " in proc.stdout
    assert "workflow_start" in proc.stdout
    assert len(list(store.iterdir())) >= 1


def test_demo_failure_is_one_line(cli: Run, monkeypatch: pytest.MonkeyPatch,
                                  tmp_path: Path) -> None:
    """When the demo subprocess fails, demo reports its last error line, exit 2."""
    from replayer.cli import demo as demo_command

    broken = tmp_path / "research_pipeline.py"
    broken.write_text("raise SystemExit('demo broke: no network')\n")
    monkeypatch.setattr(demo_command, "EXAMPLE", broken)
    code, _, err = cli("demo")
    assert_one_line_error(code, err, "demo broke: no network")


def test_demo_without_a_checkout_says_so(cli: Run, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    """Without the example (an installed wheel), demo says where it looked and what to do."""
    from replayer.cli import demo as demo_command

    monkeypatch.setattr(demo_command, "EXAMPLE", tmp_path / "missing.py")
    code, _, err = cli("demo")
    assert_one_line_error(code, err, "missing.py", "clone the repository")


def test_json_values_roundtrip(cli: Run, recs: Recordings) -> None:
    """list --json rows convert back to RecordingInfo."""
    _, out, _ = cli("list", "--json")
    infos = [msgspec.convert(row, RecordingInfo) for row in json.loads(out)]
    assert {i.workflow for i in infos} == {"etl", "report"}

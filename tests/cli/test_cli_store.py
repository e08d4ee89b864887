"""The store commands of `flowtape`: stats, cleanup, reindex and `verify` of a whole store.

Each test works on a real file store holding real recordings made with
`record_workflow` (some failed, some tagged); the crash tests add one from a
recorder child process killed with SIGKILL. Most run the command in-process
through `replayer.cli.main`; the ones marked slow spawn processes
(``python -m replayer``, or the killed recorder).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console
from store_recordings import BASE, add_recording, kill, running_victim

from recorder import node, record_workflow
from replayer.cli import main
from replayer.cli.reindex import store_progress
from storage import open_store

ROOT = Path(__file__).resolve().parents[2]

Run = Callable[..., tuple[int, str, str]]


@node
def compute(n: int) -> int:
    if n < 0:
        raise RuntimeError("negative input")
    if n > 100:
        raise ValueError("too big")
    return n * 2


class Runs:
    """Six recordings in one store, oldest first.

    ====  ========  =========  ===========
    name  workflow  status     tags
    ====  ========  =========  ===========
    r0    etl       completed  nightly
    r1    etl       failed     (RuntimeError)
    r2    report    completed  release
    r3    etl       completed
    r4    report    failed     (ValueError)
    r5    etl       completed  nightly
    ====  ========  =========  ===========
    """

    #: (workflow, input to compute -- below 0 or above 100 fails, tags), oldest first.
    PLAN: tuple[tuple[str, int, list[str]], ...] = (
        ("etl", 1, ["nightly"]), ("etl", -1, []), ("report", 2, ["release"]),
        ("etl", 3, []), ("report", 101, []), ("etl", 4, ["nightly"]))

    def __init__(self, store: Path) -> None:
        self.store = store
        self.ids: list[str] = []
        for workflow, n, tags in self.PLAN:
            try:
                with record_workflow(workflow, store=str(store), tags=tags) as rec:
                    compute(n)
            except (RuntimeError, ValueError):
                pass
            self.ids.append(rec.recording_id)

    def __getitem__(self, index: int) -> str:
        return self.ids[index]

    def file_of(self, index: int) -> Path:
        """The recording file of run ``index`` in the store."""
        return Path(open_store(str(self.store)).get(self.ids[index]).path)

    def listed(self) -> set[str]:
        """The ids the store's catalog lists now."""
        return {i.recording_id for i in open_store(str(self.store)).list()}


@pytest.fixture
def runs(store: Path) -> Runs:
    return Runs(store)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], store: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``cli(*argv)`` -> (exit code, stdout, stderr), with --store set to the fixture store.

    $COLUMNS is cleared so piped output is as wide as its content (as in test_cli.py).
    """
    monkeypatch.delenv("COLUMNS", raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--store", str(store), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def subprocess_cli(*argv: str, store: Path) -> subprocess.CompletedProcess[str]:
    """``python -m replayer ARGV`` with $FLOWTAPE_STORE pointing at ``store``."""
    env = {**os.environ, "FLOWTAPE_STORE": str(store)}
    env.pop("COLUMNS", None)
    return subprocess.run([sys.executable, "-m", "replayer", *argv], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60, check=False)


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    """Exit 2, exactly one line on stderr starting ``flowtape: error:``, no traceback."""
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("flowtape: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


def line_with(out: str, needle: str) -> list[str]:
    """The whitespace-separated words of the one line of ``out`` that contains ``needle``."""
    lines = [line for line in out.splitlines() if needle in line]
    assert len(lines) == 1, f"{needle!r} on {len(lines)} lines of:\n{out}"
    return lines[0].split()


def row(out: str, first: str) -> list[str]:
    """The words of the one line of ``out`` whose first word is ``first`` (a table row)."""
    rows = [words for words in map(str.split, out.splitlines()) if words[:1] == [first]]
    assert len(rows) == 1, f"{first!r} starts {len(rows)} lines of:\n{out}"
    return rows[0]


def remove_catalog(store: Path) -> None:
    for name in ("catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"):
        (store / name).unlink(missing_ok=True)


# --- stats --------------------------------------------------------------------------------------
def test_stats_text(cli: Run, runs: Runs) -> None:
    """stats shows totals, success rate, sizes, durations, statuses, workflows and errors."""
    code, out, err = cli("stats")
    assert code == 0 and err == ""
    assert row(out, "recordings")[:2] == ["recordings", "6"]
    assert "66.7% (4 of 6 finished runs completed)" in out
    size = " ".join(line_with(out, "size"))
    assert "in all," in size and "on average," in size and "the largest" in size
    duration = " ".join(line_with(out, "duration"))
    for label in ("mean", "p50", "p90", "p99", "max"):
        assert f"{label} " in duration
    assert "unfinished" not in out  # nothing running or incomplete
    assert row(out, "completed") == ["completed", "4", "66.7%"]
    assert row(out, "failed") == ["failed", "2", "33.3%"]
    assert row(out, "etl") == ["etl", "4", "1"]
    assert row(out, "report") == ["report", "2", "1"]
    assert row(out, "RuntimeError") == ["RuntimeError", "1"]
    assert row(out, "ValueError") == ["ValueError", "1"]
    for line in out.splitlines():
        assert line == line.rstrip(), f"trailing spaces: {line!r}"


def test_stats_json(cli: Run, runs: Runs) -> None:
    """stats --json prints StoreStats.to_dict(): the same numbers the store API gives."""
    code, out, _ = cli("stats", "--json")
    assert code == 0
    stats = json.loads(out)
    assert stats == json.loads(json.dumps(open_store(str(runs.store)).stats().to_dict()))
    assert stats["total"] == 6 and stats["successes"] == 4 and stats["failures"] == 2
    assert stats["by_status"] == {"completed": 4, "failed": 2}
    assert stats["workflow_counts"] == {"etl": 4, "report": 2}
    assert stats["workflow_failures"] == {"etl": 1, "report": 1}
    assert stats["top_errors"] == [["RuntimeError", 1], ["ValueError", 1]]
    assert stats["success_rate"] == pytest.approx(4 / 6)
    percentiles = [stats[k] for k in ("p50_duration_ns", "p90_duration_ns", "max_duration_ns")]
    assert percentiles[0] > 0 and percentiles == sorted(percentiles)
    assert stats["oldest"] < stats["newest"]


def test_stats_one_workflow(cli: Run, runs: Runs) -> None:
    """--workflow narrows the statistics; a workflow with no runs says so, exit 0."""
    code, out, _ = cli("stats", "--workflow", "report", "--json")
    stats = json.loads(out)
    assert code == 0 and stats["total"] == 2 and stats["workflow_counts"] == {"report": 2}
    code, out, _ = cli("stats", "--workflow", "report")
    assert code == 0 and "(workflow report)" in out and "50.0% (1 of 2" in out
    code, out, _ = cli("stats", "--workflow", "nope")
    assert code == 0 and out.startswith("No recordings of workflow 'nope' in ")


def test_stats_empty_store(cli: Run, store: Path) -> None:
    """An empty store: one line of text; --json is all zeros, not an error."""
    code, out, _ = cli("stats")
    assert code == 0 and out.startswith("No recordings in ")
    code, out, _ = cli("stats", "--json")
    assert code == 0 and json.loads(out)["total"] == 0


# --- cleanup ------------------------------------------------------------------------------------
def test_cleanup_dry_run_deletes_nothing(cli: Run, runs: Runs) -> None:
    """--dry-run lists what would go, oldest first, with the reason; no file or row goes."""
    files = sorted(os.listdir(runs.store))
    code, out, _ = cli("cleanup", "--max-count", "1", "--dry-run")
    assert code == 0
    assert out.startswith("Dry run: nothing was deleted.")
    assert "3 recordings would be deleted:" in out
    listed = [words[0] for words in map(str.split, out.splitlines())
              if words and words[0] in runs.ids]
    assert listed == [runs[0], runs[2], runs[3]]
    assert " ".join(line_with(out, runs[0])).endswith("beyond max_count=1 (number 4 newest)")
    assert " ".join(line_with(out, runs[3])).endswith("beyond max_count=1 (number 2 newest)")
    assert "Would free" in out and "3 of 6 recordings would go; 2 protected" in out
    assert sorted(os.listdir(runs.store)) == files
    assert runs.listed() == set(runs.ids)


def test_cleanup_dry_run_json(cli: Run, runs: Runs) -> None:
    """--dry-run --json prints RetentionResult.to_dict() and still deletes nothing."""
    code, out, _ = cli("cleanup", "--max-count", "1", "--dry-run", "--json")
    result = json.loads(out)
    assert code == 0 and result["dry_run"] is True and result["to_delete"] == 3
    assert [d["recording_id"] for d in result["deleted"]] == [runs[0], runs[2], runs[3]]
    assert all(d["reason"].startswith("beyond max_count=1") for d in result["deleted"])
    assert result["bytes_freed"] == sum(d["size"] for d in result["deleted"]) > 0
    assert result["protected"] == 2 and result["total_recordings"] == 6
    assert result["policy"]["max_count"] == 1 and result["policy"]["keep_failed"] is True
    assert runs.listed() == set(runs.ids)


def test_cleanup_max_count_keeps_failed(cli: Run, runs: Runs) -> None:
    """--max-count deletes the oldest successes; failed runs are protected and stay."""
    gone = [runs.file_of(i) for i in (0, 2, 3)]
    code, out, _ = cli("cleanup", "--max-count", "1")
    assert code == 0 and "Dry run" not in out
    assert "3 recordings deleted:" in out and "3 of 6 recordings gone; 2 protected" in out
    assert runs.listed() == {runs[1], runs[4], runs[5]}
    assert not any(path.exists() for path in gone)


def test_cleanup_delete_failed(cli: Run, runs: Runs) -> None:
    """--delete-failed lets failed runs count and go like the others."""
    code, out, _ = cli("cleanup", "--max-count", "1", "--delete-failed")
    assert code == 0 and "5 recordings deleted:" in out and "0 protected" in out
    assert line_with(out, runs[1])[2] == "failed"
    assert runs.listed() == {runs[5]}


def test_cleanup_keep_tag_protects(cli: Run, runs: Runs) -> None:
    """Recordings with a --keep-tag tag are never deleted and do not count toward the limit."""
    code, out, _ = cli("cleanup", "--max-count", "1", "--delete-failed",
                       "--keep-tag", "nightly", "--keep-tag", "release")
    assert code == 0
    assert " ".join(row(out, "policy")).endswith("tag 'nightly', tag 'release'")
    assert "2 recordings deleted:" in out and "3 protected" in out
    assert runs.listed() == {runs[0], runs[2], runs[4], runs[5]}


def test_cleanup_max_age(cli: Run, runs: Runs) -> None:
    """--max-age-days deletes only runs older than that, saying how old they were."""
    old = add_recording(open_store(str(runs.store)), workflow="etl", started=BASE)
    code, out, _ = cli("cleanup", "--max-age-days", "30", "--dry-run")
    assert code == 0 and "1 recording would be deleted:" in out
    assert "older than 30 days (" in " ".join(line_with(out, old))
    code, out, _ = cli("cleanup", "--max-age-days", "30")
    assert code == 0 and runs.listed() == set(runs.ids)
    code, out, _ = cli("cleanup", "--max-age-days", "30")
    assert code == 0 and "Nothing to delete" in out and "0 of 6 recordings gone" in out


def test_cleanup_without_a_limit_is_refused(cli: Run, runs: Runs) -> None:
    """No limit (or a negative one): one error line, exit 2, nothing deleted."""
    for argv in (["cleanup"], ["cleanup", "--delete-failed", "--keep-tag", "x"],
                 ["cleanup", "--dry-run", "--json"]):
        code, out, err = cli(*argv)
        assert_one_line_error(code, err, "cleanup needs a limit", "--max-count")
        assert out == ""
    code, _, err = cli("cleanup", "--max-count", "-1")
    assert_one_line_error(code, err, "--max-count must be 0 or more, not -1")
    assert runs.listed() == set(runs.ids)


def test_cleanup_reports_what_it_could_not_delete(cli: Run, runs: Runs) -> None:
    """A recording whose file cannot be removed is reported with the reason; exit 1."""
    path = runs.file_of(0)
    path.unlink()
    path.mkdir()  # unlink() of a directory fails, even for root
    (path / "keep").write_text("x")
    code, out, _ = cli("cleanup", "--max-count", "1")
    assert code == 1
    assert "1 recording could not be deleted:" in out
    assert line_with(out, f"✗ {runs[0]}:")[0] == "✗"
    assert runs.listed() == {runs[0], runs[1], runs[4], runs[5]}
    code, out, _ = cli("cleanup", "--max-count", "1", "--json")
    result = json.loads(out)
    assert code == 1 and [e[0] for e in result["errors"]] == [runs[0]]


# --- reindex ------------------------------------------------------------------------------------
def test_reindex_restores_the_catalog(cli: Run, runs: Runs) -> None:
    """After catalog.sqlite is deleted, reindex rebuilds it: list --json answers as before."""
    _, before, _ = cli("list", "--json")
    _, failed_before, _ = cli("list", "--failed", "--json")
    remove_catalog(runs.store)
    code, out, err = cli("reindex")
    assert code == 0 and err == ""
    assert out.splitlines()[0] == f"reindex {runs.store}"
    assert "6 recordings indexed" in out
    assert (runs.store / "catalog.sqlite").exists()
    assert json.loads(cli("list", "--json")[1]) == json.loads(before)
    assert json.loads(cli("list", "--failed", "--json")[1]) == json.loads(failed_before)


def test_reindex_json_and_dropped_rows(cli: Run, runs: Runs) -> None:
    """reindex --json reports each group; a row whose file vanished is dropped."""
    runs.file_of(3).unlink()
    code, out, _ = cli("reindex", "--json")
    result = json.loads(out)
    assert code == 0
    assert result == {"indexed": 5, "running": [], "incomplete": [], "dropped": [runs[3]],
                      "unreadable": [], "adopted": [], "uploaded": [], "duplicates": []}
    assert runs.listed() == set(runs.ids) - {runs[3]}


def test_reindex_reports_unreadable_files(cli: Run, runs: Runs) -> None:
    """A file that is not a recording is listed as unreadable with the reason, and left alone."""
    junk = runs.store / "01jjunkjunkjunkjunkjunkjunk.jsonl.zst"
    junk.write_bytes(b"not a recording\n")
    code, out, _ = cli("reindex")
    assert code == 0 and "6 recordings indexed" in out and "1 unreadable" in out
    assert f"{junk}: " in out and junk.exists()


def test_reindex_empty_store(cli: Run, store: Path) -> None:
    """An empty store indexes nothing, exit 0."""
    code, out, _ = cli("reindex")
    assert code == 0 and "0 recordings indexed" in out


# --- verify of a whole store --------------------------------------------------------------------
def test_verify_store_missing_file(cli: Run, runs: Runs) -> None:
    """A catalog row whose file vanished: reported and dropped, exit 1; the next run is OK."""
    runs.file_of(2).unlink()
    code, out, _ = cli("verify")
    assert code == 1
    assert out.splitlines()[0] == f"verify store {runs.store}"
    assert "6 catalogued recordings checked" in out
    assert "1 missing: the recording vanished; its catalog row was dropped" in out
    assert line_with(out, runs[2]) == [runs[2]]
    assert out.rstrip().endswith("DAMAGED: 1 problem")
    assert runs.listed() == set(runs.ids) - {runs[2]}
    code, out, _ = cli("verify")
    assert code == 0 and "5 catalogued recordings checked" in out
    assert out.rstrip().endswith("OK")


def test_verify_store_json(cli: Run, runs: Runs) -> None:
    """verify --json without a recording prints the VerifyResult with ok."""
    runs.file_of(0).unlink()
    code, out, _ = cli("verify", "--json")
    result = json.loads(out)
    assert code == 1 and result["ok"] is False and result["missing"] == [runs[0]]
    assert result["checked"] == 6 and result["deep"] is False
    code, out, _ = cli("verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True


def test_verify_store_uncatalogued(cli: Run, runs: Runs, tmp_path: Path) -> None:
    """A recording file the catalog lacks is reported (exit 1) until reindex adds it."""
    with record_workflow("etl", path=str(tmp_path / "outside.jsonl.zst")) as rec:
        compute(7)
    copy = runs.store / f"{rec.recording_id}.jsonl.zst"
    shutil.copyfile(tmp_path / "outside.jsonl.zst", copy)
    code, out, _ = cli("verify")
    assert code == 1 and "1 uncatalogued" in out and "flowtape reindex" in out
    assert line_with(out, str(copy)) == [str(copy)]
    assert cli("reindex")[0] == 0
    code, out, _ = cli("verify")
    assert code == 0 and "7 catalogued recordings checked" in out


def test_verify_store_deep_finds_a_damaged_frame(cli: Run, runs: Runs) -> None:
    """A flipped byte keeps the size: the quick check passes, --deep names the recording."""
    path = runs.file_of(4)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    code, out, _ = cli("verify")
    assert code == 0 and out.rstrip().endswith("OK")
    code, out, _ = cli("verify", "--deep")
    assert code == 1
    assert "every frame decoded" in out and "1 corrupt" in out
    assert line_with(out, f"{runs[4]}:")[0] == f"{runs[4]}:"
    code, out, _ = cli("verify", "--deep", "--json")
    result = json.loads(out)
    assert code == 1 and [c[0] for c in result["corrupt"]] == [runs[4]]


def test_verify_one_recording_still_works(cli: Run, runs: Runs) -> None:
    """With an id, verify checks that one recording, as before."""
    code, out, _ = cli("verify", runs[1])
    assert code == 0 and out.splitlines()[0] == f"verify {runs.file_of(1)}"
    assert out.rstrip().endswith("OK")


def test_verify_store_refuses_recover(cli: Run, runs: Runs) -> None:
    """--recover lists one recording's frames: without a recording it is one error line."""
    code, _, err = cli("verify", "--recover")
    assert_one_line_error(code, err, "--recover", "give its id or path")


# --- a crashed recorder ------------------------------------------------------------------------
@pytest.mark.slow
def test_killed_recorder_through_the_store_commands(cli: Run, runs: Runs) -> None:
    """A SIGKILLed run: verify fixes its row, stats counts it, reindex restores it, cleanup
    keeps it."""
    with running_victim(str(runs.store)) as (proc, victim):
        kill(proc)
    code, out, _ = cli("verify")
    assert code == 0 and "1 fixed" in out and line_with(out, victim) == [victim]
    code, out, _ = cli("stats")
    assert "0 running, 1 incomplete (crashed or killed)" in out
    assert row(out, "incomplete")[:2] == ["incomplete", "1"]
    _, before, _ = cli("list", "--json")
    remove_catalog(runs.store)
    code, out, _ = cli("reindex")
    assert code == 0 and "7 recordings indexed" in out
    assert "1 incomplete: no footer and their writer is gone" in out
    assert line_with(out, victim) == [victim]
    assert json.loads(cli("list", "--json")[1]) == json.loads(before)
    code, out, _ = cli("cleanup", "--max-count", "0")
    assert code == 0 and "3 protected" in out and runs.listed() == {runs[1], runs[4], victim}


# --- the commands as a user runs them -------------------------------------------------------------
@pytest.mark.slow
def test_store_commands_as_a_subprocess(runs: Runs) -> None:
    """python -m replayer: stats --json, cleanup (refused, then real), reindex, verify --deep."""
    proc = subprocess_cli("stats", "--json", store=runs.store)
    assert proc.returncode == 0 and json.loads(proc.stdout)["total"] == 6
    proc = subprocess_cli("cleanup", store=runs.store)
    assert_one_line_error(proc.returncode, proc.stderr, "cleanup needs a limit")
    assert "Traceback" not in proc.stderr
    proc = subprocess_cli("cleanup", "--max-count", "2", store=runs.store)
    assert proc.returncode == 0 and "2 recordings deleted:" in proc.stdout
    assert runs.listed() == {runs[1], runs[3], runs[4], runs[5]}
    remove_catalog(runs.store)
    proc = subprocess_cli("reindex", store=runs.store)
    assert proc.returncode == 0 and "4 recordings indexed" in proc.stdout
    assert proc.stderr == ""  # no progress bar into a pipe
    runs.file_of(5).unlink()
    proc = subprocess_cli("verify", "--deep", store=runs.store)
    assert proc.returncode == 1 and "1 missing" in proc.stdout and runs[5] in proc.stdout


def test_help_lists_the_store_commands(cli: Run) -> None:
    """flowtape --help names stats, cleanup and reindex."""
    code, out, _ = cli("--help")
    assert code == 0
    for name in ("stats", "cleanup", "reindex", "verify"):
        assert name in out


# --- the progress bar --------------------------------------------------------------------------
def test_store_progress_draws_on_a_terminal_only() -> None:
    """store_progress turns a store's progress(done, total) into a bar, on a terminal only."""
    term = StringIO()
    with store_progress("indexing", threshold=3,
                        console=Console(file=term, force_terminal=True)) as report:
        for done in range(1, 6):
            report(done, 5)
    assert "indexing" in term.getvalue()
    pipe = StringIO()
    with store_progress("indexing", threshold=3, console=Console(file=pipe)) as report:
        for done in range(1, 6):
            report(done, 5)
    assert pipe.getvalue() == ""
    small = StringIO()
    with store_progress("indexing", threshold=10,
                        console=Console(file=small, force_terminal=True)) as report:
        report(1, 2)
        report(2, 2)
    assert small.getvalue() == ""


# --- a --store that is not a store -------------------------------------------------------------
#: Every command that reads a store; the id commands look "abcd" up in the store.
STORE_READERS = [["list"], ["list", "--json"], ["stats"], ["stats", "--json"],
                 ["cleanup", "--max-count", "1"], ["reindex"], ["verify"], ["verify", "--deep"],
                 ["verify", "abcd"], ["inspect", "abcd"], ["replay", "abcd"],
                 ["export", "abcd", "--format", "json"], ["compare", "abcd", "abce"]]


@pytest.mark.parametrize("argv", STORE_READERS, ids=" ".join)
@pytest.mark.parametrize("kind", ["file", "missing"])
def test_a_bad_store_is_an_error(cli: Run, tmp_path: Path, kind: str, argv: list[str]) -> None:
    """--store naming a file or a missing directory: one line naming it and the way out, exit 2."""
    bad = tmp_path / ("some_file.py" if kind == "file" else "no/such/dir")
    if kind == "file":
        bad.write_text("print('not a store')\n")
    code, out, err = cli("--store", str(bad), *argv)
    needle = "is a file, not a store directory" if kind == "file" else "does not exist"
    assert_one_line_error(code, err, str(bad), needle, "--store")
    assert out == ""
    assert not (tmp_path / "no").exists()  # reading never creates a store


# --- verify --deep: one verdict per recording, the one `verify FILE` gives ---------------------
@pytest.mark.slow
def test_deep_verify_gives_each_recording_the_verdict_of_verify_file(cli: Run, runs: Runs
                                                                     ) -> None:
    """A killed run is incomplete and a flipped byte damaged, in verify --deep as in verify
    FILE; a run still being written is running, which is not a problem."""
    with running_victim(str(runs.store)) as (proc, killed):
        kill(proc)
    damaged = runs.file_of(4)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with running_victim(str(runs.store)) as (_, live):
        code, out, _ = cli("verify", "--deep", "--json")
        result = json.loads(out)
        assert code == 1 and result["ok"] is False
        assert result["running"] == [live] and result["incomplete"] == [killed]
        assert [c[0] for c in result["corrupt"]] == [runs[4]]
        verdicts = {}
        for rid in [*runs.ids, killed, live]:
            _, single, _ = cli("verify", rid, "--json")
            verdicts[rid] = json.loads(single)["verdict"]
        assert verdicts == {**dict.fromkeys(runs.ids, "intact"), runs[4]: "damaged",
                            killed: "incomplete", live: "running"}
        code, out, _ = cli("verify", "--deep")
        assert "1 running: still being written (what is written so far is sound)" in out
        assert "1 incomplete: the writer died before the footer" in out
        assert line_with(out, killed) == [killed]
        assert out.rstrip().endswith("DAMAGED: 2 problems")

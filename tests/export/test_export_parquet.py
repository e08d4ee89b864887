"""`flowtape export --format parquet`: a store as hive-partitioned Parquet tables (SPEC §14).

The real command runs in a subprocess over a store of 200 recordings; DuckDB
and pyarrow read what it wrote, as a user's engine would, and their counts
must be the store's. A second export adds only what is new; query filters
choose what goes out; a run still being written waits for a later export;
``s3://`` output goes through fsspec to the S3-compatible test server.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyarrow", reason="the Parquet export needs the analytics extra (pyarrow)")
pytest.importorskip("duckdb", reason="the analytics tests need the dev extra (duckdb)")

import duckdb
import pyarrow.dataset as pds
from analytics_docs import DOC, connect, query, recipes
from analytics_recordings import (  # noqa: F401 (analytics_store is a fixture)
    RUNS,
    analytics_store,
    fill_store,
    record_damaged,
)
from s3_server import moto_server, s3_environment
from store_recordings import kill, running_victim, subprocess_env

from replayer import Replayer
from storage import RecordingQuery, open_store
from storage.analysis.arrow import EVENT_COLUMNS, SCHEMA_VERSION, SPAN_COLUMNS, table_schema

pytestmark = pytest.mark.xdist_group("analytics")

MANIFEST = "_flowtape_export.json"
#: DuckDB's name for each documented column type.
DUCKDB_TYPES = {"string": "VARCHAR", "int64": "BIGINT", "int32": "INTEGER",
                "timestamp": "TIMESTAMP WITH TIME ZONE"}


def flowtape(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "replayer", *args], capture_output=True,
                          text=True, timeout=300, check=False, env=env or subprocess_env())


@pytest.fixture(scope="module")
def span_count(store: Path) -> int:
    """How many spans the replayer finds in the whole store."""
    total = 0
    for info in open_store(store).list():
        with Replayer.open(info.recording_id, store) as r:
            total += len(r.spans())
    return total


def read(out: Path | str, table: str, sql: str, con: Any = None) -> list[tuple[Any, ...]]:
    """Run ``sql`` in DuckDB against the exported ``table`` (as the view ``t``)."""
    con = con or duckdb.connect()
    con.execute(f"CREATE OR REPLACE VIEW t AS SELECT * FROM read_parquet("
                f"'{out}/{table}/**/*.parquet', hive_partitioning = true)")
    return list(con.execute(sql).fetchall())


def parquet_files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*.parquet"))


@pytest.fixture(scope="module")
def exported(store: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The store exported once to a fresh directory: (directory, the command's result)."""
    out = tmp_path_factory.mktemp("out") / "lake"
    done = flowtape("--store", str(store), "export", "--format", "parquet", "-o", str(out))
    return out, done


def test_the_export_reads_back_in_duckdb_with_the_store_counts(
        store: Path, span_count: int, exported: tuple[Path, Any]) -> None:
    """Every event and span of the 200 runs, partitioned by workflow and date, typed."""
    out, done = exported
    assert done.returncode == 0, done.stderr
    stats = open_store(store).stats()
    assert f"exported {RUNS} recordings ({stats.total_events:,} events, {span_count:,} spans)" \
        in done.stdout
    assert read(out, "events", "SELECT count(*), count(DISTINCT recording_id) FROM t") == [
        (stats.total_events, RUNS)]
    assert read(out, "spans", "SELECT count(*) FROM t") == [(span_count,)]
    assert dict(read(out, "spans", "SELECT workflow, count(*) FROM t WHERE kind = 'workflow' "
                     "GROUP BY workflow")) == stats.workflow_counts
    assert dict(read(out, "spans", "SELECT workflow, count(*) FROM t WHERE kind = 'workflow' "
                     "AND status = 'failed' GROUP BY workflow")) == stats.workflow_failures
    for table, columns in (("events", EVENT_COLUMNS), ("spans", SPAN_COLUMNS)):
        described = [(c[0], c[1]) for c in read(out, table, "DESCRIBE t")]
        assert described[:len(columns)] == [(name, DUCKDB_TYPES[kind])
                                            for name, kind, _ in columns]
        assert sorted(described[len(columns):]) == [("date", "DATE"), ("workflow", "VARCHAR")]
    parts = {tuple(f.split("/")[:3]) for f in parquet_files(out)}
    assert parts == {(table, f"workflow={i.workflow}",
                      f"date={i.started_at.astimezone(dt.UTC).date().isoformat()}")
                     for i in open_store(store).list() for table in ("events", "spans")}
    assert all(re.fullmatch(r"(events|spans)/workflow=\w+/date=\d{4}-\d\d-\d\d/"
                            r"part-[0-9a-z]{26}\.parquet", f) for f in parquet_files(out))


def test_the_parquet_recipe_answers_what_the_raw_files_do(exported: tuple[Path, Any],
                                                           store: Path) -> None:
    """docs/analytics.md's p95 node durations over the export equal its recipe over the
    recording files themselves."""
    out, _ = exported
    con = connect(f"{store}/*.jsonl.zst")
    from_files = query(con, "node_durations")
    sql = recipes()["parquet_node_durations"].replace("'lake/", f"'{out}/")
    assert duckdb.connect().execute(sql).fetchall() == from_files


def test_pyarrow_reads_the_documented_schema(exported: tuple[Path, Any], store: Path) -> None:
    """pyarrow's hive dataset has the table schema (version metadata too) plus the
    partition columns, and the same row counts."""
    out, _ = exported
    for table in ("events", "spans"):
        data = pds.dataset(out / table, format="parquet", partitioning="hive")
        schema = table_schema(table)
        assert data.schema.names == [*schema.names, "workflow", "date"]
        for name in schema.names:
            assert data.schema.field(name).type == schema.field(name).type
        first = pds.dataset(next((out / table).rglob("*.parquet")), format="parquet")
        assert first.schema.metadata[b"flowtape.schema_version"] == str(SCHEMA_VERSION).encode()
    events = pds.dataset(out / "events", format="parquet", partitioning="hive").to_table(
        columns=["recording_id", "kind", "data"], filter=pds.field("kind") == "node_error")
    errors = [json.loads(d)["error"]["type"] for d in events.column("data").to_pylist()]
    assert set(errors) == {"TransformError", "PublishError"}


def test_the_documented_schema_is_the_written_one() -> None:
    """docs/analytics.md's schema tables list exactly the columns and types written."""
    text = DOC.read_text(encoding="utf-8")
    for table, columns in (("events", EVENT_COLUMNS), ("spans", SPAN_COLUMNS)):
        section = text.split(f"<!-- schema: {table} -->", 1)[1].split("\n\n", 2)[1]
        rows = [line.split("|")[1:3] for line in section.splitlines()[2:]]
        assert [(n.strip(" `"), t.strip(" `")) for n, t in rows] == [
            (name, kind) for name, kind, _ in columns]


def test_the_output_is_private_and_says_what_it_holds(exported: tuple[Path, Any]) -> None:
    """Files are owner-only (payloads may hold secrets); the manifest lists the run."""
    out, _ = exported
    for path in out.rglob("*"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["format"] == "flowtape-parquet"
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert [len(r["recordings"]) for r in manifest["runs"]] == [RUNS]


def test_a_second_export_adds_exactly_the_new_recordings(
        store: Path, exported: tuple[Path, Any], tmp_path: Path) -> None:
    """After 10 more runs, exporting again writes files holding only those 10."""
    out = tmp_path / "lake"
    shutil.copytree(exported[0], out)
    mine = tmp_path / "recordings"
    shutil.copytree(store, mine)
    before = set(parquet_files(out))
    new = fill_store(mine, 10, first=RUNS)
    done = flowtape("--store", str(mine), "export", "--format", "parquet", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "exported 10 recordings" in done.stdout and f"{RUNS} already there" in done.stdout
    added = set(parquet_files(out)) - before
    assert added and before <= set(parquet_files(out))
    con = duckdb.connect()
    got = {r[0] for f in added for r in con.execute(
        f"SELECT DISTINCT recording_id FROM read_parquet('{out / f}')").fetchall()}
    assert got == set(new)
    stats = open_store(mine).stats()
    assert read(out, "events", "SELECT count(*), count(DISTINCT recording_id) FROM t") == [
        (stats.total_events, RUNS + 10)]
    again = flowtape("--store", str(mine), "export", "--format", "parquet", "-o", str(out))
    assert again.returncode == 0 and "nothing new to export" in again.stdout
    assert set(parquet_files(out)) == before | added


def test_query_filters_choose_what_goes_out(store: Path, tmp_path: Path) -> None:
    """--workflow etl exports the etl runs only; a later unfiltered export adds the rest."""
    out = tmp_path / "lake"
    done = flowtape("--store", str(store), "export", "-f", "parquet", "--workflow", "etl",
                    "-o", str(out), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    etl = {i.recording_id for i in open_store(store).list(RecordingQuery(workflow_name="etl"))}
    assert set(result["recordings"]) == etl and result["already"] == 0
    assert read(out, "spans", "SELECT DISTINCT workflow FROM t") == [("etl",)]
    rest = json.loads(flowtape("--store", str(store), "export", "-f", "parquet", "-o",
                               str(out), "--json").stdout)
    assert len(rest["recordings"]) == RUNS - len(etl) and rest["already"] == len(etl)


def test_one_recording_by_id(store: Path, tmp_path: Path) -> None:
    """An ID with --format parquet exports that recording alone."""
    rid = open_store(store).list(RecordingQuery(limit=1))[0].recording_id
    out = tmp_path / "one"
    done = flowtape("--store", str(store), "export", rid[:12], "-f", "parquet", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert read(out, "events", "SELECT DISTINCT recording_id FROM t") == [(rid,)]


def test_a_run_still_being_written_waits_for_a_later_export(tmp_path: Path) -> None:
    """A running recording is left out (and said so); once its writer is gone it goes out."""
    root, out = tmp_path / "recordings", tmp_path / "lake"
    fill_store(root, 2)
    with running_victim(str(root)) as (proc, rid):
        done = flowtape("--store", str(root), "export", "-f", "parquet", "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert "exported 2 recordings" in done.stdout
        assert "1 recording still being written was left for a later export" in done.stdout
        kill(proc)
    done = flowtape("--store", str(root), "export", "-f", "parquet", "-o", str(out))
    assert done.returncode == 0 and "exported 1 recording " in done.stdout, done.stdout
    assert read(out, "spans", f"SELECT status FROM t WHERE recording_id = '{rid}'") == [
        ("incomplete",)]


def test_leftovers_of_an_interrupted_export_are_removed(
        store: Path, exported: tuple[Path, Any], tmp_path: Path) -> None:
    """Part files of a run the manifest never committed (a crash) go; the counts stay true."""
    out = tmp_path / "lake"
    shutil.copytree(exported[0], out)
    some = next(out.rglob("*.parquet"))
    orphan = some.with_name("part-01zzzzzzzzzzzzzzzzzzzzzzzz.parquet")
    shutil.copy(some, orphan)
    (some.parent / ".part-x.parquet.tmp").write_bytes(b"half")
    done = flowtape("--store", str(store), "export", "-f", "parquet", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "removed 2 files an interrupted export left" in done.stdout
    assert not orphan.exists() and not (some.parent / ".part-x.parquet.tmp").exists()
    assert read(out, "events", "SELECT count(*) FROM t") == [
        (open_store(store).stats().total_events,)]


def test_a_damaged_recording_is_named_and_the_rest_go_out(tmp_path: Path) -> None:
    """The export goes on past a corrupt recording, then fails naming it; --recover takes
    what can be read; the next export retries it."""
    root, out = tmp_path / "recordings", tmp_path / "lake"
    good = fill_store(root, 2)
    damaged = record_damaged(root)
    done = flowtape("--store", str(root), "export", "-f", "parquet", "-o", str(out))
    assert done.returncode == 2
    assert "exported 2 recordings" in done.stdout
    assert damaged in done.stderr and "--recover" in done.stderr
    assert {r[0] for r in read(out, "events", "SELECT DISTINCT recording_id FROM t")} == set(
        good)
    done = flowtape("--store", str(root), "export", "-f", "parquet", "-o", str(out),
                    "--recover")
    assert done.returncode == 0 and "exported 1 recording " in done.stdout, done.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["-f", "parquet"], "--format parquet writes a directory: give it with -o DIR_OR_URL"),
    (["-f", "summary", "--workflow", "etl", "latest"],
     "query filters (--workflow) choose recordings for --format parquet only"),
    (["-f", "summary"], "export needs a recording ID (or `latest`)"),
    (["-f", "parquet", "-o", "{file}"], "is a file, not a directory"),
    (["-f", "parquet", "-o", "{dir}", "--endpoint", "http://127.0.0.1:1"],
     "--endpoint and --include-payloads apply to --format otlp only"),
    (["-f", "summary", "--json", "latest"], "--json prints what a parquet export did"),
    (["-f", "parquet", "-o", "{dir}", "nosuchid"], "nosuchid"),
])
def test_usage_mistakes_are_one_line_errors(store: Path, tmp_path: Path, args: list[str],
                                            message: str) -> None:
    """Missing -o, filters or --json with a one-recording format, no ID, a file as output,
    otlp options, an unknown id: exit 2, nothing written."""
    (tmp_path / "f").write_text("x")
    done = flowtape("--store", str(store), "export", *[
        a.replace("{file}", str(tmp_path / "f")).replace("{dir}", str(tmp_path / "lake"))
        for a in args])
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "lake").exists()


def test_an_output_of_another_schema_version_is_refused(store: Path, tmp_path: Path) -> None:
    """A manifest of another schema version: exit 2 saying to export to a new place."""
    out = tmp_path / "lake"
    out.mkdir()
    (out / MANIFEST).write_text(json.dumps({"format": "flowtape-parquet",
                                            "schema_version": 99, "runs": []}))
    done = flowtape("--store", str(store), "export", "-f", "parquet", "-o", str(out))
    assert done.returncode == 2
    assert f"{out / MANIFEST} was written with schema version 99" in done.stderr
    assert "export to a new directory" in done.stderr
    (out / MANIFEST).write_text("{not json")
    done = flowtape("--store", str(store), "export", "-f", "parquet", "-o", str(out))
    assert done.returncode == 2 and "is not a flowtape export manifest" in done.stderr


def test_without_pyarrow_the_error_names_the_extra(store: Path, tmp_path: Path) -> None:
    """With pyarrow not importable, the command says pip install 'flowtape[analytics]'."""
    code = ("import sys; sys.modules['pyarrow'] = None\n"
            "from replayer.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", code, "--store", str(store), "export", "-f",
                           "parquet", "-o", str(tmp_path / "lake")], capture_output=True,
                          text=True, timeout=120, check=False, env=subprocess_env())
    assert done.returncode == 2
    assert "needs pyarrow: pip install 'flowtape[analytics]'" in done.stderr
    assert not (tmp_path / "lake").exists()


def test_export_to_s3_reads_back_and_stays_incremental(store: Path, tmp_path: Path) -> None:
    """-o s3://… writes the tables through fsspec; DuckDB reads them there; a second export
    to the same URL finds the manifest and adds nothing; a bucket that is not there is a
    one-line error."""
    import fsspec

    small = tmp_path / "recordings"
    small.mkdir()
    for p in sorted(store.glob("*.jsonl.zst"))[:12]:
        shutil.copy(p, small)
    open_store(small).reindex()
    with moto_server() as endpoint, s3_environment(endpoint, tmp_path):
        env = {**subprocess_env(), **{k: os.environ[k] for k in os.environ
                                      if k.startswith(("AWS_", "FLOWTAPE_"))}}
        fs = fsspec.filesystem("s3")
        fs.mkdir("flowtape-lake")
        url = "s3://flowtape-lake/exports/runs"
        done = flowtape("--store", str(small), "export", "-f", "parquet", "-o", url, env=env)
        assert done.returncode == 0, done.stderr
        assert "exported 12 recordings" in done.stdout
        con = duckdb.connect()
        con.register_filesystem(fsspec.filesystem("s3", skip_instance_cache=True))
        stats = open_store(small).stats()
        assert read(url, "events", "SELECT count(*), count(DISTINCT recording_id) FROM t",
                    con) == [(stats.total_events, 12)]
        assert fs.exists(f"{url}/{MANIFEST}")
        again = flowtape("--store", str(small), "export", "-f", "parquet", "-o", url, env=env)
        assert again.returncode == 0 and "nothing new to export" in again.stdout
        nowhere = flowtape("--store", str(small), "export", "-f", "parquet", "-o",
                           "s3://no-such-bucket/lake", env=env)
        assert nowhere.returncode == 2
        assert "cannot export to s3://no-such-bucket/lake: there is no 'no-such-bucket'" \
            in nowhere.stderr


def test_a_workflow_name_with_a_slash_is_escaped_and_read_back(tmp_path: Path) -> None:
    """``a/b c=d`` becomes ``workflow=a%2Fb%20c%3Dd`` on disk, and the engines decode it."""
    from recorder import record_workflow

    root, out = tmp_path / "recordings", tmp_path / "lake"
    with record_workflow("a/b c=d", store=str(root)):
        pass
    done = flowtape("--store", str(root), "export", "-f", "parquet", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert {f.split("/")[1] for f in parquet_files(out)} == {"workflow=a%2Fb%20c%3Dd"}
    assert read(out, "spans", "SELECT DISTINCT workflow FROM t") == [("a/b c=d",)]
    data = pds.dataset(out / "spans", format="parquet", partitioning="hive")
    assert data.to_table(columns=["workflow"]).column("workflow").to_pylist() == ["a/b c=d"]

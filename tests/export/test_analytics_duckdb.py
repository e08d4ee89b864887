"""The DuckDB recipes of docs/analytics.md, run as written over a real store (SPEC §14).

Each SQL block the document marks ``<!-- recipe: NAME -->`` is taken from the
document itself, pointed at a store of 200 recordings (local, then on the
S3-compatible test server through fsspec) and run in DuckDB; its answers must
be the numbers `flowtape stats` and the catalog give, and the spans
`Replayer.spans` gives. So the recipes a reader copies are the ones tested.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb", reason="the analytics tests need the dev extra (duckdb)")

import duckdb
from analytics_docs import connect, query
from analytics_recordings import RUNS, WORKFLOWS, analytics_store  # noqa: F401 (a fixture)
from s3_server import moto_server, s3_environment

from replayer import Replayer
from storage import open_store

pytestmark = pytest.mark.xdist_group("analytics")

NodeSpan = tuple[str, str, str, int | None]
"""(recording id, node, status, duration_ns)."""


def nearest_rank(values: list[int], p: float) -> int:
    """The ``p`` quantile by the nearest-rank method (what `flowtape stats` uses)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


@pytest.fixture(scope="module")
def node_spans(store: Path) -> list[NodeSpan]:
    """The node spans of every recording in the store, as the replayer reads them."""
    return spans_of(str(store))



def spans_of(store: str) -> list[NodeSpan]:
    out = []
    for info in open_store(store).list():
        with Replayer.open(info.recording_id, store) as r:
            out += [(info.recording_id, s.node, s.status, s.duration_ns) for s in r.spans()
                    if s.kind == "node"]
    return out


def stats_json(store: str | Path) -> dict[str, Any]:
    """What `flowtape stats --json` prints for ``store``."""
    done = subprocess.run([sys.executable, "-m", "replayer", "--store", str(store), "stats",
                           "--json"], capture_output=True, text=True, check=True, timeout=120)
    return dict(json.loads(done.stdout))


def check_recipes(con: Any, stats: dict[str, Any], spans: list[NodeSpan]) -> None:
    """Every recipe's answer equals what flowtape says (stats) or the spans show."""
    assert query(con, "runs_per_workflow") == [
        (w, stats["workflow_counts"][w], stats["workflow_failures"].get(w, 0))
        for w in sorted(stats["workflow_counts"])]
    assert query(con, "error_types") == [tuple(e) for e in stats["top_errors"]]
    finished = query(con, "run_durations")
    assert finished == [(stats["p50_duration_ns"], stats["p90_duration_ns"],
                         stats["p99_duration_ns"], stats["max_duration_ns"])]

    failed = [(rid, n) for rid, n, status, _ in spans if status == "failed"]
    assert failed, "the store should hold failed nodes"
    failing = Counter(n for _, n in failed)
    runs = Counter(n for _, n in set(failed))
    assert query(con, "failing_nodes") == sorted(
        ((n, k, runs[n]) for n, k in failing.items()), key=lambda x: (-x[1], x[0]))

    durations: dict[str, list[int]] = defaultdict(list)
    for _, n, _, d in spans:
        if d is not None:
            durations[n].append(d)
    assert query(con, "node_durations") == sorted(
        ((n, len(ds), nearest_rank(ds, 0.5), nearest_rank(ds, 0.95), max(ds))
         for n, ds in durations.items()), key=lambda x: (-x[3], x[0]))


def test_the_json_and_parquet_readers_ship_inside_duckdb() -> None:
    """The recipes need no extension download: json and parquet are built into the wheel."""
    con = duckdb.connect()
    rows = dict(con.execute("SELECT extension_name, install_mode FROM duckdb_extensions() "
                            "WHERE loaded").fetchall())
    assert rows.get("json") == rows.get("parquet") == "STATICALLY_LINKED"


def test_duckdb_reads_every_line_of_the_recordings(store: Path) -> None:
    """The `lines` view holds every header, event and footer line, trailer frames skipped."""
    con = connect(f"{store}/*.jsonl.zst")
    kinds = dict(con.execute("SELECT kind, count(*) FROM lines GROUP BY kind").fetchall())
    stats = open_store(store).stats()
    assert kinds["header"] == kinds["footer"] == RUNS
    assert sum(kinds.values()) - 2 * RUNS == stats.total_events
    assert con.execute("SELECT count(*) FROM runs").fetchone() == (RUNS,)
    assert sorted(r[0] for r in con.execute("SELECT DISTINCT workflow FROM runs").fetchall()) \
        == sorted(WORKFLOWS)


def test_recipes_answer_what_flowtape_stats_and_the_spans_say(
        store: Path, node_spans: list[NodeSpan]) -> None:
    """Runs per workflow, error types, run and node duration quantiles and failing nodes
    from DuckDB equal `flowtape stats --json` and the replayer's spans."""
    check_recipes(connect(f"{store}/*.jsonl.zst"), stats_json(store), node_spans)


def test_the_events_view_joins_each_event_to_its_run(store: Path) -> None:
    """Every event row carries its recording's id and workflow, and a node's end its start."""
    con = connect(f"{store}/*.jsonl.zst")
    ids = {i.recording_id for i in open_store(store).list()}
    got = con.execute("SELECT recording_id, workflow, count(*) FROM events GROUP BY ALL"
                      ).fetchall()
    assert {r[0] for r in got} == ids
    some = next(iter(open_store(store).list()))
    with Replayer.open(some.recording_id, store) as r:
        expected = [(e.seq, e.kind) for e in r.iter_events()]
    assert con.execute("SELECT seq, kind FROM events WHERE recording_id = ? ORDER BY seq",
                       [some.recording_id]).fetchall() == expected


# --- the same recipes on the S3-compatible test server ----------------------------------------

@pytest.fixture(scope="module")
def s3_store(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The module's 200 recordings uploaded as the objects of an ``s3://`` store on a moto
    server on 127.0.0.1 (the environment points at it while the module's tests run): the
    store's URL."""
    with moto_server() as endpoint, s3_environment(endpoint, tmp_path_factory.mktemp("s3")):
        url = "s3://flowtape-analytics/runs"
        fs = open_store(url).fs  # type: ignore[attr-defined]
        fs.mkdir("flowtape-analytics")
        fs.put([str(p) for p in store.glob("*.jsonl.zst")], "flowtape-analytics/runs/")
        yield url


def test_recipes_answer_the_same_over_s3_through_fsspec(s3_store: str,
                                                        node_spans: list[NodeSpan]) -> None:
    """With fsspec's s3 file system registered, the recipes read the objects on the
    S3-compatible server and agree with the object store's stats and spans."""
    import fsspec

    stats = stats_json(s3_store)  # the object store's catalog, rebuilt from the objects
    assert stats["total"] == RUNS
    con = connect(f"{s3_store}/*.jsonl.zst", fsspec.filesystem("s3"))
    check_recipes(con, stats, node_spans)


def test_gzip_recordings_read_the_same(tmp_path: Path) -> None:
    """A store of gzip recordings (trailer member included) answers with *.jsonl.gz."""
    from recorder import record_workflow

    for i in range(3):
        with record_workflow(f"gz{i % 2}", store=str(tmp_path), codec="gzip") as rec:
            for j in range(300):
                rec.event("tick", {"j": j})
    stats = open_store(tmp_path).stats()
    con = connect(f"{tmp_path}/*.jsonl.gz")
    assert query(con, "runs_per_workflow") == [("gz0", 2, 0), ("gz1", 1, 0)]
    assert con.execute("SELECT count(*) FROM events").fetchone() == (stats.total_events,)

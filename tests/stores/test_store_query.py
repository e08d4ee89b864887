"""Queries (RecordingQuery -> SQL in storage/_catalog.py) and id lookup (get, prefixes, latest)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_recordings import BASE, add_recording

from storage import (
    AmbiguousIdError,
    FileStore,
    LogReader,
    MemoryStore,
    RecordingInfo,
    RecordingNotFoundError,
    RecordingQuery,
    Store,
    open_store,
)

HOUR = dt.timedelta(hours=1)

# (workflow, status, hours after BASE, duration s, tags, error type)
PLAN = [
    ("etl", "completed", 0, 1.0, ["nightly"], None),
    ("etl", "failed", 1, 2.5, ["nightly", "prod"], "KeyError"),
    ("etl", "completed", 2, 0.5, ["prod"], None),
    ("report", "completed", 3, 10.0, [], None),
    ("report", "timed_out", 4, 30.0, ["prod"], "TimeoutError"),
    ("report", "failed", 5, 4.0, ["nightly"], "KeyError"),
    ("sync", "cancelled", 6, 0.1, ["adhoc"], "CancelledError"),
    ("sync", "completed", 7, 7.0, ["nightly", "prod", "adhoc"], None),
    ("sync", "incomplete", 8, 0.0, [], None),
    ("etl", "completed", 9, 3.0, ["nightly"], None),
]


@pytest.fixture(scope="module", params=["file", "memory"])
def populated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[Store, dict[int, str]]]:
    """A store holding PLAN's recordings (read-only for the tests); PLAN index -> id."""
    store: FileStore = (FileStore(tmp_path_factory.mktemp("query") / "s")
                        if request.param == "file" else MemoryStore())
    ids = {}
    for n, (wf, status, h, dur, tags, err) in enumerate(PLAN):
        ids[n] = add_recording(store, workflow=wf, status=status, started=BASE + h * HOUR,
                               duration_s=dur, tags=tags, error_type=err)
    yield store, ids
    if isinstance(store, MemoryStore):
        store.close()


def picked(store: Store, ids: dict[int, str], query: RecordingQuery) -> list[int]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[i.recording_id] for i in store.list(query)]


QUERIES: list[tuple[RecordingQuery, list[int]]] = [
    (RecordingQuery(), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]),
    (RecordingQuery(workflow_name="etl"), [9, 2, 1, 0]),
    (RecordingQuery(success=True), [9, 7, 3, 2, 0]),
    (RecordingQuery(success=False), [6, 5, 4, 1]),
    (RecordingQuery(status="incomplete"), [8]),
    (RecordingQuery(status=["failed", "timed_out", "cancelled", "incomplete"]), [8, 6, 5, 4, 1]),
    (RecordingQuery(status=("completed",), workflow_name="sync"), [7]),
    (RecordingQuery(tags=["nightly"]), [9, 7, 5, 1, 0]),
    (RecordingQuery(tags=["nightly", "prod"]), [7, 1]),
    (RecordingQuery(tags=["nightly", "prod"], tags_mode="any"), [9, 7, 5, 4, 2, 1, 0]),
    (RecordingQuery(tags="adhoc"), [7, 6]),  # type: ignore[arg-type]
    (RecordingQuery(start_date=BASE + 2 * HOUR, end_date=BASE + 4 * HOUR), [4, 3, 2]),
    (RecordingQuery(start=BASE + 8 * HOUR), [9, 8]),
    (RecordingQuery(end=BASE), [0]),
    (RecordingQuery(min_duration=4.0), [7, 5, 4, 3]),
    (RecordingQuery(max_duration=1.0), [8, 6, 2, 0]),
    (RecordingQuery(min_duration=2, max_duration=5), [9, 5, 1]),
    (RecordingQuery(error_type="KeyError"), [5, 1]),
    (RecordingQuery(workflow_name="report", success=False, tags=["prod"]), [4]),
    (RecordingQuery(sort_by="duration_ns", sort_order="desc"), [4, 3, 7, 5, 9, 1, 0, 2, 6, 8]),
    (RecordingQuery(sort_by="duration", sort_order="asc", limit=3), [8, 6, 2]),
    (RecordingQuery(sort_order="asc", offset=7), [7, 8, 9]),
    (RecordingQuery(sort_order="asc", offset=2, limit=2), [2, 3]),
    (RecordingQuery(limit=0), []),
    (RecordingQuery(workflow_name="nope"), []),
]


@pytest.mark.parametrize(("query", "expected"), QUERIES, ids=[str(n) for n in range(len(QUERIES))])
def test_query_answers(populated: tuple[Store, dict[int, str]], query: RecordingQuery,
                       expected: list[int]) -> None:
    """Each filter, sort and page selects exactly the expected recordings, in order."""
    store, ids = populated
    assert picked(store, ids, query) == expected


@pytest.mark.parametrize("key", RecordingInfo.__struct_fields__)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sql_agrees_with_the_python_reference(populated: tuple[Store, dict[int, str]],
                                              key: str, order: str) -> None:
    """Sorting by any RecordingInfo field gives what RecordingQuery.apply gives in Python."""
    store, _ = populated
    everything = store.list()
    q = RecordingQuery(sort_by=key, sort_order=order, tags=["prod"], tags_mode="any")
    want = [i.recording_id for i in q.apply(everything)]
    got = [i.recording_id for i in store.list(q)]
    if key in ("tags", "path"):  # orders of lists/paths differ in detail; same members
        assert sorted(got) == sorted(want)
    else:
        assert got == want


def test_naive_dates_mean_local_time(populated: tuple[Store, dict[int, str]]) -> None:
    """A naive datetime bound is read as local time."""
    store, ids = populated
    local = (BASE + 5 * HOUR).astimezone().replace(tzinfo=None)
    assert picked(store, ids, RecordingQuery(start_date=local, end_date=local)) == [5]


def test_list_never_opens_a_recording(populated: tuple[Store, dict[int, str]],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """list, get and stats are answered by the catalog alone."""
    store, ids = populated

    def refuse(*a: object, **k: object) -> LogReader:
        raise AssertionError("a query opened a recording file")

    monkeypatch.setattr(LogReader, "open", refuse)
    assert len(store.list(RecordingQuery(workflow_name="sync"))) == 3
    assert store.get(ids[3]).workflow == "report"
    assert store.stats().total == 10


def test_infos_carry_the_catalogued_facts(populated: tuple[Store, dict[int, str]]) -> None:
    """A RecordingInfo holds the header's and footer's facts."""
    store, ids = populated
    info = store.get(ids[1])
    assert (info.workflow, info.status, info.success, info.error_type) == (
        "etl", "failed", False, "KeyError")
    assert info.started_at == BASE + HOUR
    assert info.duration_ns == 2_500_000_000 and info.event_count == 3
    assert info.tags == ["nightly", "prod"]
    assert store.get(ids[8]).success is None


def test_bad_queries_are_refused() -> None:
    """Unknown modes, orders and sort keys raise ValueError naming the choices."""
    with pytest.raises(ValueError, match="tags_mode"):
        RecordingQuery(tags_mode="some")
    with pytest.raises(ValueError, match="sort_order"):
        RecordingQuery(sort_order="up")
    with pytest.raises(ValueError, match=r"cannot sort by 'colour'.*started_at"):
        RecordingQuery(sort_by="colour")
    with pytest.raises(ValueError, match="limit"):
        RecordingQuery(limit=-1)


# --- get ---------------------------------------------------------------------------------------
def test_get_by_id_prefix_and_latest(populated: tuple[Store, dict[int, str]]) -> None:
    """get takes a full id, a unique prefix, or `latest` (the newest start)."""
    store, ids = populated
    rid = ids[4]
    assert store.get(rid).recording_id == rid
    assert store.get("latest").recording_id == ids[9]
    unique = next(n for n in range(1, len(rid) + 1)
                  if sum(v.startswith(rid[:n]) for v in ids.values()) == 1)
    assert store.get(rid[:unique]).recording_id == rid


def test_ambiguous_prefix_lists_candidates(tmp_path: Path) -> None:
    """A prefix shared by several ids raises AmbiguousIdError (a LookupError) with them."""
    store = open_store(tmp_path)
    a = add_recording(store, started=BASE)
    b = add_recording(store, started=BASE)  # same millisecond: ids share 10 characters
    with pytest.raises(AmbiguousIdError) as err:
        store.get(a[:10])
    assert sorted(err.value.candidates) == sorted([a, b])
    assert isinstance(err.value, LookupError)
    assert a in str(err.value) and "more characters" in str(err.value)


def test_unknown_id_is_not_found(tmp_path: Path) -> None:
    """An id nobody has raises RecordingNotFoundError, also a FileNotFoundError."""
    store = open_store(tmp_path)
    add_recording(store)
    with pytest.raises(FileNotFoundError, match=r"zzzz.*flowtape list"):
        store.get("zzzz")
    with pytest.raises(RecordingNotFoundError):
        store.open("zzzz")
    assert store.delete("zzzz") is False


def test_latest_of_an_empty_store(tmp_path: Path) -> None:
    """`latest` in an empty store says the store is empty."""
    store = open_store(tmp_path)
    add_recording(store)
    store.delete("latest")
    with pytest.raises(RecordingNotFoundError, match="empty"):
        store.get("latest")


# --- stats --------------------------------------------------------------------------------------
def test_stats(populated: tuple[Store, dict[int, str]]) -> None:
    """Totals, outcomes, percentiles, workflows, oldest/newest and top errors."""
    store, _ = populated
    st = store.stats()
    assert (st.total, st.successes, st.failures, st.incomplete, st.running) == (10, 5, 4, 1, 0)
    assert st.by_status == {"completed": 5, "failed": 2, "timed_out": 1, "cancelled": 1,
                            "incomplete": 1}
    assert st.workflow_counts == {"etl": 4, "report": 3, "sync": 3}
    assert st.workflow_failures == {"etl": 1, "report": 2, "sync": 1}
    assert st.top_errors == [("KeyError", 2), ("CancelledError", 1), ("TimeoutError", 1)]
    assert (st.oldest, st.newest) == (BASE, BASE + 9 * HOUR)
    # nine finished durations, sorted: .1 .5 1 2.5 3 4 7 10 30 (the incomplete one is out)
    assert st.p50_duration_ns == 3_000_000_000
    assert st.p90_duration_ns == 30_000_000_000  # nearest rank: the 9th of 9
    assert st.p99_duration_ns == 30_000_000_000
    assert st.total_duration_ns == int(58.1e9)
    assert st.total_size == sum(i.size for i in store.list())
    assert st.total_events == 30
    assert st.success_rate == pytest.approx(5 / 9)
    assert store.stats(RecordingQuery(workflow_name="etl")).workflow_counts == {"etl": 4}
    assert st.to_dict()["top_errors"][0] == ["KeyError", 2]


def test_stats_of_an_empty_store(tmp_path: Path) -> None:
    """An empty store has zero totals and no percentiles."""
    st = open_store(tmp_path).stats()
    assert st.total == 0 and st.p50_duration_ns is None and st.oldest is None

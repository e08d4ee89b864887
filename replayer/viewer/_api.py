"""The answers `flowtape serve` gives its pages, as JSON-ready values (the HTTP is `_server`).

Each function takes what the page asked (query parameters as a dict of
strings) and an open recording or the store, and returns plain values; a
parameter it cannot use raises `BadParameter` naming it. The values are the
ones the rest of flowtape produces: events as the ``json`` export writes
them, `RecordingInfo` fields as ``list --json`` prints them, the §6 diff as
``compare --json`` does, states from `Replayer.get_state_at_event`.

The search predicate mirrors the page's own (``matcher`` in
static/js/recording.js), so a search in a report and under ``serve`` finds
the same event.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from itertools import islice
from typing import Any

import msgspec

from storage import Event, RecordingQuery
from storage.analysis.paths import node_matches

from .._dates import parse_when
from .._diff import diff
from .._replayer import Replayer

__all__ = ["BadParameter", "compare", "events", "find", "meta", "query", "state", "why"]

MAX_PAGE = 1000
_canonical = msgspec.json.Encoder(order="sorted")
Params = Mapping[str, str]


class BadParameter(ValueError):
    """A query parameter the server cannot use; the message names it (HTTP 400)."""


def _int(params: Params, name: str, default: int | None = None, *, low: int | None = None) -> int:
    text = params.get(name)
    if text is None:
        if default is None:
            raise BadParameter(f"the parameter {name} is missing")
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadParameter(f"{name}={text!r} is not a whole number") from None
    if low is not None and value < low:
        raise BadParameter(f"{name} must be {low} or more, not {value}")
    return value


def _float(params: Params, name: str) -> float | None:
    text = params.get(name)
    try:
        return float(text) if text else None
    except ValueError:
        raise BadParameter(f"{name}={text!r} is not a number of seconds") from None


def _date(params: Params, name: str, *, end: bool = False) -> dt.datetime | None:
    """A list filter's bound, in the forms `flowtape list --start/--end` takes."""
    text = params.get(name)
    try:
        return parse_when(text, end=end) if text else None
    except ValueError as exc:
        raise BadParameter(f"{name}={exc}") from None


def _json(params: Params, name: str) -> Any:
    try:
        return json.loads(params.get(name) or "")
    except ValueError:
        raise BadParameter(f"{name} must be JSON") from None


def query(params: Params) -> RecordingQuery:
    """The `RecordingQuery` the list page's filters describe (the options of ``flowtape list``)."""
    tags = [t.strip() for t in (params.get("tags") or "").split(",") if t.strip()]
    try:
        return RecordingQuery(
            workflow_name=params.get("workflow") or None, status=params.get("status") or None,
            tags=tags or None, tags_mode="any" if params.get("any_tag") == "1" else "all",
            start_date=_date(params, "since"), end_date=_date(params, "until", end=True),
            min_duration=_float(params, "min_duration"),
            max_duration=_float(params, "max_duration"),
            error_type=params.get("error_type") or None,
            sort_by=params.get("sort_by") or "started_at",
            sort_order=params.get("sort_order") or "desc",
            limit=_int(params, "limit", 500, low=0), offset=_int(params, "offset", 0, low=0))
    except BadParameter:
        raise
    except ValueError as exc:
        raise BadParameter(str(exc)) from None


def meta(r: Replayer, *, live: bool) -> dict[str, Any]:
    """What the page needs first: header, footer, summary, how many events, still written?"""
    n = len(r)
    dense = n == 0 or r[n - 1].seq == n - 1
    summary = r.summary
    if live:  # agree with `live`, asked of the writer's lock a moment before the summary
        summary = msgspec.structs.replace(summary, status="running")
    return {"header": r.header, "footer": r.footer, "summary": summary, "count": n,
            "live": live, "seqs": None if dense else [e.seq for e in r.iter_events()]}


def events(r: Replayer, params: Params) -> dict[str, Any]:
    """``count`` events from position ``start`` (at most `MAX_PAGE`)."""
    start = _int(params, "start", low=0)
    count = min(_int(params, "count", 200, low=1), MAX_PAGE)
    return {"start": start, "events": list(islice(r.iter_events(start), count))}


def _pos(r: Replayer, params: Params) -> int:
    pos = _int(params, "pos", low=0)
    if pos >= len(r):
        raise BadParameter(f"pos={pos} is past the last event ({len(r) - 1})")
    return pos


def state(r: Replayer, params: Params) -> dict[str, Any]:
    """The state after the event at ``pos``, and after the one before it."""
    pos = _pos(r, params)
    before = r.get_state_at_event(r[pos - 1].seq) if pos > 0 else None
    return {"state": r.get_state_at_event(r[pos].seq), "before": before}


def why(r: Replayer, params: Params) -> dict[str, int]:
    """The position of the event that last changed the state value at ``path`` (a JSON list
    of keys and indices), up to ``pos``; -1 when nothing before it did."""
    pos = _pos(r, params)
    parts = _json(params, "path")
    if not isinstance(parts, list) or not all(isinstance(p, str | int) for p in parts):
        raise BadParameter("path must be a JSON list of keys and indices, like [\"cart\", 0]")
    change = r.last_change(parts, at=r[pos].seq)
    return {"pos": -1 if change is None else r.position_of(change.event.seq)}


def matcher(spec: Any) -> Callable[[Event], bool]:
    """The predicate of a search spec (see ``matcher`` in static/js/recording.js)."""
    if not isinstance(spec, dict):
        raise BadParameter("spec must be a JSON object")
    if isinstance(spec.get("text"), str):
        text = spec["text"]
        fold = text == text.lower()

        def contains(e: Event) -> bool:
            hay = [e.kind, e.node or ""] + [_canonical.encode(v).decode()
                                           for v in (e.data, e.state, e.patch) if v is not None]
            return any(text in (h.lower() if fold else h) for h in hay)

        return contains
    if isinstance(spec.get("breaks"), list):
        kinds = {b["kind"] for b in spec["breaks"] if isinstance(b, dict) and "kind" in b}
        globs = [str(b["node"]) for b in spec["breaks"] if isinstance(b, dict) and "node" in b]
        return lambda e: e.kind in kinds or any(node_matches(e.node, g) for g in globs)
    if isinstance(spec.get("parents"), list):
        parents = set(spec["parents"])
        not_node = spec.get("notNode")
        return lambda e: (-1 if e.parent is None else e.parent) in parents and (
            not_node is None or e.node != not_node)
    raise BadParameter("spec needs text, breaks or parents")


def find(r: Replayer, params: Params) -> dict[str, int]:
    """The first position after ``from`` (``dir`` 1) or before it (-1) whose event matches
    ``spec``; -1 when none does."""
    start, step = _int(params, "from"), _int(params, "dir")
    if step not in (1, -1):
        raise BadParameter(f"dir must be 1 or -1, not {step}")
    match = matcher(_json(params, "spec"))
    if step == 1:
        first = max(0, start + 1)
        for i, e in enumerate(r.iter_events(first) if first < len(r) else (), start=first):
            if match(e):
                return {"pos": i}
    else:
        for i in range(min(start, len(r)) - 1, -1, -1):
            if match(r[i]):
                return {"pos": i}
    return {"pos": -1}


def _side(r: Replayer) -> dict[str, Any]:
    return {"recording_id": r.recording_id, "workflow": r.header.workflow,
            "status": r.summary.status}


def compare(a: Replayer, b: Replayer) -> dict[str, Any]:
    """The §6 diff of B against A (`RecordingDiff.to_dict`), why it is a regression, and who
    A and B are."""
    d = diff(a, b)
    return {"diff": d.to_dict(), "reasons": d.regression_reasons(), "a": _side(a),
            "b": _side(b)}

"""The ``markdown`` export: a one-screen failure report for a person or an LLM (SPEC §8).

For a run that failed: its status, the path of spans from the root down to
the error that brought it down (see `locate_failure`), that span's inputs,
the error with its traceback and causes, the state at the failure, and the
events just before it. For a run that completed, a short summary (and the
errors it handled). A run cut short without an error points at the span
that was still running.

Everything shown is what the recording holds — payloads were redacted when
they were recorded, and nothing is looked up anywhere else. Long values are
cut (and say so) to keep the report to about a screen. Text from the run goes
into code spans and fences long enough that no backtick, pipe or markup in a
payload can break out of them, with its control characters shown (``\\x1b``)
rather than passed raw to whatever displays the report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec

from storage import Event, Span, StateTracker

from .._replayer import Replayer
from .._text import fmt_ns, headline, plural, preview, printable
from .failure import Failure, locate_failure
from .scan import ErrorMark, Scan, walk
from .text import STATUS_MARKS, plain, span_when

__all__ = ["iter_markdown", "to_markdown"]

_enc = msgspec.json.Encoder()
_EVENTS_BEFORE = 10
_JSON_LINES = 25
_LINE_CHARS = 160
_TRACEBACK_LINES = 30
_PATH_SPANS = 12
_BACKTICKS = re.compile("`+")


# --- safe Markdown pieces ---------------------------------------------------------------
def code(text: str, *, table: bool = False) -> str:
    """``text`` as an inline code span, on one line (and safe in a table cell)."""
    text = plain(" ".join(text.split())) or " "
    if table:
        text = text.replace("|", "\\|")
    ticks = "`" * (max((len(m) for m in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text[0] == "`" or text[-1] == "`" else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def fence(text: str, lang: str = "") -> str:
    """``text`` in a fenced block whose fence is longer than any backtick run inside."""
    text = printable(text)
    ticks = "`" * max(3, max((len(m) for m in _BACKTICKS.findall(text)), default=0) + 1)
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}\n"


def _clip_lines(text: str, limit: int, *, keep: str = "head") -> str:
    lines = [ln if len(ln) <= _LINE_CHARS else ln[:_LINE_CHARS - 1] + "…"
             for ln in text.rstrip().splitlines()]
    if len(lines) <= limit:
        return "\n".join(lines)
    cut = len(lines) - limit
    if keep == "tail":
        return "\n".join([f"… ({plural(cut, 'earlier line')} cut)", *lines[-limit:]])
    return "\n".join([*lines[:limit], f"… ({plural(cut, 'more line')} cut)"])


def _json_block(value: Any) -> str:
    try:
        text = msgspec.json.format(_enc.encode(value), indent=2).decode("utf-8", "replace")
    except (TypeError, msgspec.EncodeError):
        text = repr(value)
    return fence(_clip_lines(text, _JSON_LINES), "json")


# --- the parts --------------------------------------------------------------------------
def _span_line(s: Span, error: ErrorMark | None, *, target: bool) -> str:
    attempt = f", attempt {s.attempt}" if s.attempt > 1 else ""
    when = span_when(s)
    ends = f"{s.start_seq}..{s.end_seq if s.end_seq is not None else ''}"
    line = (f"{s.kind} {code(s.node)} — {s.status}, {when}{attempt} "
            f"(seq {ends}{', lane ' + code(s.lane) if s.lane else ''})")
    if target:
        return f"**{line}** ← here"
    return line + (f": {code(preview(error.headline, 80))}" if error is not None else "")


def _path(failure: Failure, errors: dict[int, ErrorMark]) -> Iterator[str]:
    """A numbered list, root first; a deep path keeps its top and bottom."""
    path = failure.path
    shown: list[Span | None] = list(path)
    if len(path) > _PATH_SPANS:
        shown = [*path[:3], None, *path[-(_PATH_SPANS - 4):]]
    for i, s in enumerate(shown):
        if s is None:
            yield f"{i + 1}. … {plural(len(path) - _PATH_SPANS + 1, 'span')}\n"
        else:
            yield (f"{i + 1}. "
                   f"{_span_line(s, errors.get(s.start_seq), target=s is path[-1])}\n")


def _inputs(replayer: Replayer, span: Span) -> tuple[bool, Any]:
    """(recorded?, value) — what the span was given."""
    if span.kind == "workflow" and replayer.header.inputs is not None:
        return True, replayer.header.inputs
    data = replayer.get_event(span.start_seq).data
    if isinstance(data, dict):
        for key in ("inputs", "context"):
            if key in data:
                return True, data[key]
    return False, None


def _error(e: ErrorMark) -> Iterator[str]:
    err = e.error
    kind = str(err.get("type") or "error")
    module = err.get("module")
    where = f" (from {code(str(module))})" if module and module != "builtins" else ""
    yield f"{code(kind)}{where} in {code(e.node)}, event {e.seq}:\n\n"
    yield fence(_clip_lines(headline(err), 12), "text")
    causes = err.get("causes")
    if isinstance(causes, list) and causes:
        yield "\nCaused by:\n\n"
        for c in causes[:5]:
            if isinstance(c, dict):
                kind, message = str(c.get("type") or "?"), preview(c.get("message"), 120)
                yield f"- {code(kind)}: {code(message)}\n"
    tb = err.get("traceback")
    if isinstance(tb, str) and tb.strip():
        yield "\nTraceback (most recent call last, innermost frames kept):\n\n"
        yield fence(_clip_lines(tb, _TRACEBACK_LINES, keep="tail"), "text")


def _detail(e: Event) -> str:
    d = e.data if isinstance(e.data, dict) else {}
    if isinstance(d.get("error"), dict):  # node and workflow errors, members and teams
        err = d["error"]
        return preview(f"{err.get('type', 'error')}: {err.get('message', '')}", 70)
    if e.kind == "team_message":
        return preview(f"{d.get('from')} → {d.get('to')}: {preview(d.get('message'), 50)}", 70)
    if e.kind in ("checkpoint", "custom"):
        return preview(d.get("name", ""), 70)
    if e.kind == "state":
        if e.state is not None:
            return "keyframe " + preview(e.state, 50)
        return plural(len(e.patch or []), "change") + " " + preview(e.patch, 50)
    for key in ("inputs", "outputs", "context"):
        if key in d:
            return f"{key} {preview(d[key], 60)}"
    return ""


def _events(replayer: Replayer, last: int) -> Iterator[str]:
    """A table of the events up to position ``last``."""
    start = max(0, last - _EVENTS_BEFORE)
    yield "| seq | at | kind | node | lane | detail |\n|---:|---:|---|---|---|---|\n"
    for e in replayer[start:last + 1]:
        detail = _detail(e)
        yield (f"| {e.seq} | {fmt_ns(e.ts)} | {code(e.kind, table=True)} | "
               f"{code(e.node, table=True) if e.node else ''} | "
               f"{code(e.lane, table=True) if e.lane else ''} | "
               f"{code(detail, table=True) if detail else ''} |\n")


def _facts(replayer: Replayer, found: Scan) -> Iterator[str]:
    header, summary = replayer.header, replayer.summary
    counts = [plural(found.counts.get("node", 0), "node"),
              plural(found.counts.get("team", 0), "team"),
              plural(found.message_count, "message")]
    if found.max_depth:
        counts.append(f"max depth {found.max_depth}")
    yield "| | |\n|---|---|\n"
    yield f"| recording | {code(header.recording_id, table=True)} |\n"
    yield f"| workflow | {code(header.workflow, table=True)} |\n"
    if header.tags:
        yield f"| tags | {', '.join(code(t, table=True) for t in header.tags)} |\n"
    yield f"| status | **{code(found.status, table=True)}** |\n"
    yield f"| started | {code(header.started_at, table=True)} |\n"
    yield f"| duration | {fmt_ns(summary.duration_ns)} |\n"
    yield f"| events | {summary.event_count} ({', '.join(counts)}) |\n"
    for note in [*summary.dropped, *summary.degraded][:5]:
        yield f"| note | {code(note, table=True)} |\n"


def iter_markdown(replayer: Replayer) -> Iterator[str]:
    """The report, in pieces (see the module docstring)."""
    header, summary = replayer.header, replayer.summary
    found = walk(replayer, full=False, messages=False, slowest=3)
    status = found.status
    failure = locate_failure(found.spans, found.errors, status)
    title = f"# {STATUS_MARKS.get(status, '✗')} {code(header.workflow)} {plain(status)}"
    ok = status == "completed"
    if ok or (failure.error is None and failure.span is None):
        yield f"{title}\n\n"
    elif failure.error is not None:
        yield (f"{title}: {code(str(failure.error.error.get('type') or 'error'))} in "
               f"{code(failure.error.node)}\n\n")
    else:
        yield f"{title}: stopped in {code(failure.path[-1].node)}\n\n"
    yield from _facts(replayer, found)

    if ok:
        yield from _completed(found.slowest, failure)
        return
    if status == "running":
        yield ("\nThe recording has no footer yet: its writer is still recording the run; "
               "this is what it holds so far.\n")
    elif status == "incomplete":
        yield ("\nThe recording has no footer and nothing writes to it any more: the run "
               "crashed or was killed; this is what it holds.\n")
    if summary.error and failure.error is None:
        yield "\n## Error\n\n" + fence(preview(headline(summary.error), 500), "text")
    on_path = {s.start_seq for s in failure.path}
    path_errors: dict[int, ErrorMark] = {}
    for e in failure.handled:
        if e.span is not None and e.span in on_path:
            path_errors.setdefault(e.span, e)
    if failure.path:
        title = "the error" if failure.error is not None else "where it stopped"
        yield f"\n## Path to {title}\n\n"
        yield from _path(failure, path_errors)
    if failure.error is not None:
        yield "\n## Error\n\n"
        yield from _error(failure.error)
    if failure.span is not None:
        recorded, value = _inputs(replayer, failure.span)
        yield f"\n## Inputs of {failure.span.kind} {code(failure.span.node)}\n\n"
        yield _json_block(value) if recorded else "Not recorded.\n"
    at = failure.error.seq if failure.error is not None else None
    last = replayer.position_of(at) if at is not None else len(replayer) - 1
    if last >= 0:
        seq = replayer[last].seq
        which = "the failure" if at is not None else "the end"
        yield from _state(replayer, seq, which)
        yield f"\n## The last events before {which}\n\n"
        yield from _events(replayer, last)
    others = [e for e in failure.handled if e.span not in on_path]
    if others:
        yield "\n## Other errors\n\n"
        yield from _error_list(others)


def _state(replayer: Replayer, seq: int, which: str) -> Iterator[str]:
    state = replayer.get_state_at_event(seq)
    if StateTracker(replayer.reader).has_state_events:
        yield f"\n## State at {which} (after event {seq})\n\n"
        yield _json_block(state) if state is not None else "No state was recorded before it.\n"
    elif state:
        yield (f"\n## Outputs so far (after event {seq})\n\n"
               "No state snapshots were recorded; the latest output of each node:\n\n")
        yield _json_block(state)


def _error_list(errors: list[ErrorMark]) -> Iterator[str]:
    for e in errors[:5]:
        yield f"- event {e.seq}, {code(e.node)}: {code(preview(e.headline, 100))}\n"
    if len(errors) > 5:
        yield f"- … {len(errors) - 5} more\n"


def _completed(slowest: list[Span], failure: Failure) -> Iterator[str]:
    if slowest:
        yield "\n## Slowest spans\n\n"
        for s in slowest:
            yield f"- {fmt_ns(s.duration_ns)}: {s.kind} {code(s.node)} (seq {s.start_seq})\n"
    errors = ([failure.error] if failure.error is not None else []) + failure.handled
    if errors:
        yield (f"\n## Handled errors\n\n"
               f"The run completed despite {plural(len(errors), 'error')}:\n\n")
        yield from _error_list(sorted(errors, key=lambda e: e.seq))


def to_markdown(replayer: Replayer) -> str:
    """The whole report (see `iter_markdown`)."""
    return "".join(iter_markdown(replayer))

"""The ``summary`` export: a few lines of plain text about a run.

Status, duration and counts, the lanes it ran on, the error it ended with,
the slowest spans and the errors along the way — what ``git log --stat``
would say about a run. Plain text, no markup: it goes to files and pipes,
and to terminals, so recorded text has its control characters shown
(``\\x1b``), never sent raw (`replayer.export.text.plain`).
"""

from __future__ import annotations

from collections.abc import Iterator

from storage import Span

from .._replayer import Replayer
from .._text import fmt_ns, headline, plural, preview
from .scan import walk
from .text import STATUS_MARKS, plain, status_words

__all__ = ["SLOWEST", "iter_summary", "to_summary"]

SLOWEST = 5
_ERRORS_SHOWN = 10


def _what(s: Span) -> str:
    if s.status == "completed":
        mark = ""
    elif s.status == "incomplete":
        mark = f"  {STATUS_MARKS[s.status]} never ended"
    else:
        mark = f"  {STATUS_MARKS.get(s.status, '✗')} {status_words(s.status)}"
    attempt = f" (attempt {s.attempt})" if s.attempt > 1 else ""
    return f"{s.kind} {plain(s.node)}{attempt}{mark}"


def iter_summary(replayer: Replayer) -> Iterator[str]:
    """The summary text, line by line."""
    header, summary, footer = replayer.header, replayer.summary, replayer.footer
    found = walk(replayer, full=False, messages=False, max_errors=_ERRORS_SHOWN,
                 slowest=SLOWEST)
    counts = found.counts
    yield (f"{plain(header.workflow)} · {plain(found.status)} · "
           f"{fmt_ns(summary.duration_ns)} · {plural(summary.event_count, 'event')}\n")
    yield f"recording {plain(header.recording_id)}, started {plain(header.started_at)}\n"
    parts = [plural(counts.get("node", 0), "node"), plural(counts.get("team", 0), "team"),
             plural(counts.get("member", 0), "member turn"),
             plural(found.message_count, "message")]
    if counts.get("recursion"):
        parts.append(f"{plural(counts['recursion'], 'recursion level')} "
                     f"(max depth {found.max_depth})")
    if footer is not None and footer.counts.states:
        parts.append(plural(footer.counts.states, "state snapshot"))
    yield "ran " + ", ".join(parts) + "\n"
    names = [plain(lane) if lane is not None else "(no lane)" for lane in found.lanes]
    if names:
        shown = ", ".join(names[:8]) + (f", … {len(names) - 8} more" if len(names) > 8 else "")
        yield f"on {plural(len(names), 'lane')}: {shown}\n"
    if summary.error:
        yield f"error: {preview(headline(summary.error), 200)}\n"
    if found.status in ("running", "incomplete"):
        yield ("no footer: " + ("the run is still being recorded" if found.status == "running"
                                else "the run crashed or was killed")
               + (f" ({plural(summary.unreadable_tail_bytes, 'unreadable byte')} at the end)"
                  if summary.unreadable_tail_bytes else "") + "\n")
    for note in [*summary.dropped, *summary.degraded]:
        yield f"note: {plain(note)}\n"

    slowest = found.slowest
    if slowest:
        yield "\nslowest spans:\n"
        width = max(len(fmt_ns(s.duration_ns)) for s in slowest)
        for s in slowest:
            yield f"  {fmt_ns(s.duration_ns):>{width}}  {_what(s)}  (seq {s.start_seq})\n"
    if found.error_count:
        yield f"\n{plural(found.error_count, 'error')}:\n"
        for e in found.errors:
            yield f"  seq {e.seq}  {plain(e.node)}  {preview(e.headline, 100)}\n"
        if found.error_count > len(found.errors):
            yield f"  … {found.error_count - len(found.errors)} more\n"


def to_summary(replayer: Replayer) -> str:
    """The whole summary text (see `iter_summary`)."""
    return "".join(iter_summary(replayer))

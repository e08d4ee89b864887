"""Where a run went wrong: the error a report leads with, and the spans down to it.

A failed run often holds several errors: a retry that failed before it
succeeded, an exception a node caught, and the one that brought the run
down, raised again by every node and team it passed through on its way to
the top. The reports (``markdown``) lead with the first error on that
failing path, not merely the first error; see `locate_failure`.
"""

from __future__ import annotations

import msgspec

from storage import Span

from .scan import ErrorMark
from .tree import span_index

__all__ = ["Failure", "locate_failure", "path_to"]


class Failure(msgspec.Struct, kw_only=True):
    """Where a run went wrong, as the text reports tell it (see `locate_failure`)."""

    error: ErrorMark | None
    """The error the report is about; None when the run has no error event."""
    span: Span | None
    """The span that error ended (or, with no error, the innermost span never ended)."""
    path: list[Span]
    """The spans from the root down to ``span``."""
    handled: list[ErrorMark]
    """The other errors: retried, caught, or after the one reported."""


def path_to(span: Span | None, by_seq: dict[int, Span]) -> list[Span]:
    """``span`` and its ancestors, root first."""
    path: list[Span] = []
    seen: set[int] = set()
    while span is not None and span.start_seq not in seen:
        seen.add(span.start_seq)
        path.append(span)
        span = by_seq.get(span.parent) if span.parent is not None else None
    path.reverse()
    return path


_CAN_FAIL = ("workflow", "node", "team", "member")  # recursion levels always complete
#: The statuses of a span that an error ended (storage.analysis.outcomes.end_status).
_ENDED_BADLY = ("failed", "cancelled", "timed_out")


def _same_or_cause(inner: ErrorMark, outer: ErrorMark) -> bool:
    """True when ``outer`` is ``inner`` propagated, or names it among its causes."""
    key = (inner.error.get("type"), inner.error.get("message"))
    if (outer.error.get("type"), outer.error.get("message")) == key:
        return True
    causes = outer.error.get("causes")
    return isinstance(causes, list) and any(
        isinstance(c, dict) and (c.get("type"), c.get("message")) == key for c in causes)


def _propagated(e: ErrorMark, by_seq: dict[int, Span], by_span: dict[int, ErrorMark]) -> bool:
    """Did ``e`` reach the top: every enclosing node, team and workflow failed with it?"""
    span = by_seq.get(e.span) if e.span is not None else None
    if span is None:
        return False
    current = e
    for s in reversed(path_to(span, by_seq)[:-1]):
        if s.kind not in _CAN_FAIL:
            continue
        if s.status not in _ENDED_BADLY:
            return False
        outer = by_span.get(s.start_seq)
        if outer is None:
            continue  # an end that carries no error (a team's success: false) or a lost one
        if not _same_or_cause(current, outer):
            return False
        current = outer
    return True


def locate_failure(spans: list[Span], errors: list[ErrorMark], status: str) -> Failure:
    """The error a report should lead with, and the path of spans down to it.

    For a run that did not complete, that is the first error on the failing
    path: the first error that propagated to the top — each enclosing node,
    member, team and workflow failed (or was cancelled or timed out) with that
    error or one caused by it — so
    an earlier error that was retried or caught is not mistaken for the
    cause; failing that, the first error. For a completed run, the first
    (handled) error, if any. A run with no error event that did not finish
    points at the innermost span still open when the recording stopped.
    """
    by_seq = span_index(spans)
    by_span: dict[int, ErrorMark] = {}
    for e in errors:
        if e.span is not None:
            by_span.setdefault(e.span, e)
    chosen: ErrorMark | None = None
    if status != "completed":
        chosen = next((e for e in errors if _propagated(e, by_seq, by_span)), None)
    if chosen is None and errors:
        chosen = errors[0]
    if chosen is not None:
        span = by_seq.get(chosen.span) if chosen.span is not None else None
        return Failure(error=chosen, span=span, path=path_to(span, by_seq),
                       handled=[e for e in errors if e is not chosen])
    running = None
    if status != "completed":
        running = next((s for s in reversed(spans) if s.end_seq is None), None)
    return Failure(error=None, span=running, path=path_to(running, by_seq), handled=[])

"""Every span in start order, ended, without holding them all: two passes over the views.

An export that draws each span when it starts — the chrome trace, whose
tracks are placed in start order — needs to know then how the span ended,
which the recording says only later. `first_pass` reads the event views once
through a `storage.analysis.SpanFold` (holding only the open spans) and
keeps, per span in start order, its end seq, end time and status in three
flat arrays (17 bytes a span), plus what `replayer.export.scan.walk` collects
(errors and messages; checkpoints and custom events only counted, as
`replayer.export.scan.iter_marks` reads them again when they are drawn) and
the few spans those name: the span each error ended or each mark was made
in, the open spans a message was sent from, and every team and member span
(the message links are drawn between them). `spans_in_start_order` then reads the views again,
and hands each span on at its start with its end filled in from the arrays:
the spans `walk(full=True)` gives, one at a time.

A damaged file can name, from an error, a message or a mark, a span that
had already ended; a first pass that holds only open spans no longer has
it, so it says so (``complete`` False) and the exporter falls back to
holding every span (`walk`).
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable, Iterator

import msgspec

from storage import START_KINDS, EventView, Span
from storage.analysis import SpanFold
from storage.analysis.spans import start_span

from .._replayer import Replayer
from .scan import MARK_KINDS, Collector, Scan, collecting, run_status

__all__ = ["SpanEnds", "finish", "first_pass", "spans_in_start_order"]

#: Stands in the arrays for "not ended".
_NONE = -1
#: Kinds whose spans message links are drawn between: kept whole by the first pass.
_KEPT_KINDS = ("team", "member")


class SpanEnds(msgspec.Struct, kw_only=True):
    """What `first_pass` found: how each span ended, by its place in start order."""

    found: Scan
    """Status, errors, messages, marks and ``last_ts``, as `walk` gives them (no spans)."""
    end_seq: array[int]
    end_ns: array[int]
    status: bytearray
    """An index into ``statuses`` per span."""
    statuses: list[str]
    starts: array[int]
    """`SpanFold.starts`: every span's start seq, rising."""
    outcomes: dict[int, tuple[int, str]]
    """Span start -> (seq, status) of the last outcome event naming it (`walk`'s rule)."""
    kept: dict[int, Span]
    """The spans the instants name, and every team and member span, by start seq."""
    marks: int = 0
    """Checkpoints and custom events seen (not kept: `iter_marks` reads them again)."""
    complete: bool = True
    """False when an instant names a span that had ended (damage): fall back to `walk`."""


def first_pass(replayer: Replayer, *, marks: bool,
               columns: Callable[[Span, int], None] | None = None) -> SpanEnds:
    """Read the views once: each span's end, the instants and the spans they name (the
    marks' too, with ``marks``); ``columns`` is called with each span at its start and
    its parent's place in start order (-1 for none)."""
    found = Scan(status=run_status(replayer))
    collect = Collector(found, True, 1 << 62, False)
    out = SpanEnds(found=found, end_seq=array("q"), end_ns=array("q"), status=bytearray(),
                   statuses=[], starts=array("q"), outcomes={}, kept={})
    fold = SpanFold()
    out.starts = fold.starts
    codes: dict[str, int] = {}
    placed: dict[int, int] = {}  # open span start -> its place in start order
    counted = [0, 0]  # errors, messages already checked

    def tap() -> Iterator[EventView]:
        for v in collecting(replayer.event_views(), collect, out.outcomes):
            if len(found.errors) > counted[0]:
                counted[0] = len(found.errors)
                _keep(out, fold, found.errors[-1].span, chain=False)
            if len(found.messages) > counted[1]:
                counted[1] = len(found.messages)
                _keep(out, fold, found.messages[-1].parent, chain=True)
            if marks and v.kind in MARK_KINDS:
                out.marks += 1
                _keep(out, fold, v.parent, chain=False)
            yield v

    for ended, s in fold.steps(tap()):
        if not ended:
            if columns is not None:
                up = s.parent
                columns(s, -1 if up is None else placed[up] if up in placed
                        else fold.ordinal(up))
            placed[s.start_seq] = len(out.status)
            out.end_seq.append(_NONE)
            out.end_ns.append(_NONE)
            out.status.append(0)
            if s.kind in _KEPT_KINDS:
                out.kept[s.start_seq] = s
            continue
        i = placed.pop(s.start_seq)
        code = codes.get(s.status)
        if code is None:
            code = codes[s.status] = len(out.statuses)
            out.statuses.append(s.status)
        out.status[i] = code
        if s.end_seq is not None and s.end_ns is not None:
            out.end_seq[i], out.end_ns[i] = s.end_seq, s.end_ns
    out.kept = dict(sorted(out.kept.items()))
    return out


def _keep(out: SpanEnds, fold: SpanFold, seq: int | None, *, chain: bool) -> None:
    """Keep the span ``seq`` names (and, with ``chain``, the spans enclosing it)."""
    while seq is not None:
        s = fold.open.get(seq) or out.kept.get(seq)
        if s is None:
            i = bisect.bisect_left(fold.starts, seq)
            if i < len(fold.starts) and fold.starts[i] == seq:
                out.complete = False  # a span that has ended: no longer held
            return
        out.kept[seq] = s
        seq = s.parent if chain else None  # a parent started earlier: the walk ends


def spans_in_start_order(replayer: Replayer, ends: SpanEnds) -> Iterator[Span]:
    """Each span at its start, with its end, duration and status from ``ends``: those
    `walk(full=True)` gives, in the same order, made one at a time.

    The ends are known, so only the starts are read, under `SpanFold`'s rules: an
    event whose seq does not rise is left out, and a parent must be an earlier start
    (``ends.starts`` lists them all). Spans past those the first pass saw (a growing
    file refreshed in between) are left out."""
    starts, n = ends.starts, len(ends.end_seq)
    last, i = -1, 0
    for e in replayer.event_views():
        seq = e.seq
        if seq <= last:
            continue
        last = seq
        if e.kind not in START_KINDS:
            continue
        if i == n:
            return
        up = e.parent
        if up is not None:
            k = bisect.bisect_left(starts, up)
            if up >= seq or k == len(starts) or starts[k] != up:
                up = None
        s = start_span(e, up)
        finish(ends, i, s)
        i += 1
        yield s


def finish(ends: SpanEnds, i: int, s: Span) -> None:
    """Fill in the end, duration and status of ``s``, the ``i``-th span to start, from
    ``ends`` (`walk`'s rules: an outcome event that ended it has the last word; a span
    never ended is ``running`` while the writer lives, else ``incomplete``)."""
    end_seq = ends.end_seq[i]
    if end_seq == _NONE:
        s.status = "running" if ends.found.status == "running" else "incomplete"
        return
    end = ends.end_ns[i]
    s.end_seq, s.end_ns, s.duration_ns = end_seq, end, end - s.start_ns
    said = ends.outcomes.get(s.start_seq)
    s.status = said[1] if said is not None and said[0] == end_seq \
        else ends.statuses[ends.status[i]]

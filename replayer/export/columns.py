"""Every span of a recording in flat columns, for an export that visits them as a tree.

The DOT export draws the spans depth first (teams as nested clusters) and
its edges family by family, an order the file does not have; it needs the
whole tree at once, but not a `Span` object, a ``children`` list and a dict
entry per span (≈ 700 bytes each). `SpanColumns` keeps, per span in start
order, what a `Span` is made of in typed arrays — start seq and time, kind,
node and lane (as indexes into lists of the distinct values), attempt,
depth and parent — about 45 bytes a span, plus the children as one flat
array (the parent's family in start order, 8 bytes a span); `span` makes
the `Span` of one of them when it is drawn, its end from the first pass's
`SpanEnds`. The walks match `replayer.export.tree`: `nested` is its
`nested`, `families` the order of its `span_tree` children.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

from storage import Span

from .stream import SpanEnds, finish

__all__ = ["SpanColumns"]

class _Family:
    """A family on `SpanColumns.nested`'s stack: ``members[at:end]`` still to draw, and
    whether it is a team's (a group to close after it)."""

    __slots__ = ("at", "end", "members", "team")

    def __init__(self, members: array[int], at: int, end: int, team: bool) -> None:
        self.members, self.at, self.end, self.team = members, at, end, team


class SpanColumns:
    """The spans by place in start order, column by column (fill it with `add`)."""

    def __init__(self) -> None:
        self.start_seq = array("q")
        self.start_ns = array("q")
        self.parent = array("q")
        """The parent's place in start order, -1 for a root."""
        self.attempt = array("l")
        self.depth = array("l")
        self.kind = array("l")
        self.node = array("l")
        self.lane = array("l")
        self.values: list[str | None] = []
        """The distinct kinds, nodes and lanes the other columns index."""
        self._index: dict[str | None, int] = {}
        self._first = array("q")
        self._children = array("q")

    def _value(self, value: str | None) -> int:
        i = self._index.get(value)
        if i is None:
            i = self._index[value] = len(self.values)
            self.values.append(value)
        return i

    def add(self, s: Span, parent: int) -> None:
        """Record ``s`` (at its start: no end yet), whose parent is the ``parent``-th span."""
        self.start_seq.append(s.start_seq)
        self.start_ns.append(s.start_ns)
        self.parent.append(parent)
        self.attempt.append(s.attempt)
        self.depth.append(s.depth)
        self.kind.append(self._value(s.kind))
        self.node.append(self._value(s.node))
        self.lane.append(self._value(s.lane))

    def link(self) -> None:
        """Lay out the children (call once, after the last `add`): each span's, in start
        order, at ``_children[_first[p]:_first[p + 1]]``."""
        n = len(self.parent)
        first = array("q", bytes(8 * (n + 1)))
        for p in self.parent:
            if p >= 0:
                first[p + 1] += 1
        for i in range(n):
            first[i + 1] += first[i]
        fill = array("q", first)
        children = array("q", bytes(8 * first[n]))
        for i, p in enumerate(self.parent):
            if p >= 0:
                children[fill[p]] = i
                fill[p] += 1
        self._first, self._children = first, children

    def __len__(self) -> int:
        return len(self.start_seq)

    def span(self, i: int, ends: SpanEnds) -> Span:
        """The `Span` of the ``i``-th span to start, ended as ``ends`` says."""
        parent = self.parent[i]
        v = self.values
        s = Span(kind=v[self.kind[i]] or "", node=v[self.node[i]] or "",
                 start_seq=self.start_seq[i], start_ns=self.start_ns[i],
                 parent=self.start_seq[parent] if parent >= 0 else None,
                 attempt=self.attempt[i], lane=v[self.lane[i]], depth=self.depth[i])
        finish(ends, i, s)
        return s

    def nested(self, ends: SpanEnds) -> Iterator[tuple[str, Span | None, int]]:
        """`replayer.export.tree.nested` over the columns: the tree depth first, a team
        as ``("open", team, d)`` … ``("close", None, d)``, any other span as ``("node",
        span, d)``; depths from 1. An explicit stack of families (positions in the
        children array, not lists of them): recursion can be deep and families wide."""
        team = self._index.get("team", -1)
        roots = array("q", (i for i in range(len(self)) if self.parent[i] < 0))
        first = self._first
        stack: list[_Family] = [_Family(roots, 0, len(roots), False)]
        depth = 1
        while stack:
            top = stack[-1]
            if top.at == top.end:
                stack.pop()
                if top.team:
                    depth -= 1
                    yield "close", None, depth
                continue
            i = top.members[top.at]
            top.at += 1
            is_team = self.kind[i] == team
            yield "open" if is_team else "node", self.span(i, ends), depth
            depth += is_team
            stack.append(_Family(self._children, first[i], first[i + 1], is_team))

    def families(self) -> Iterator[tuple[int, Iterator[tuple[int, str | None]]]]:
        """Each span with children, as (its start seq, its children's (start seq, lane), read
        once), in the order `replayer.export.tree.span_tree` lists them: by when the first
        child started."""
        first, children = self._first, self._children
        for c in range(len(self)):
            p = self.parent[c]
            if p >= 0 and children[first[p]] == c:
                yield self.start_seq[p], self._family(p)

    def _family(self, p: int) -> Iterator[tuple[int, str | None]]:
        start_seq, lane, values = self.start_seq, self.lane, self.values
        for k in range(self._first[p], self._first[p + 1]):
            c = self._children[k]
            yield start_seq[c], values[lane[c]]

"""The spans of a scan as a tree to draw, and the member executions messages went between.

`span_tree` gives the exporters a tree that has no cycle whatever a damaged
file says: a parent must have started before its child (`parent_seq`), so a
span that names itself, a later span or a repeated seq as its parent is
drawn as a root, and every walk up or down ends. `link_messages` matches each
team message to the member executions it went from and to.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

import msgspec

from storage import Span

from .scan import Message

__all__ = ["Link", "SpanTree", "end_ns", "link_messages", "nested", "parent_seq", "span_index",
           "span_tree"]


def span_index(spans: Iterable[Span]) -> dict[int, Span]:
    """Spans by ``start_seq`` (of spans a damaged file gives one start seq, the first)."""
    out: dict[int, Span] = {}
    for s in spans:
        out.setdefault(s.start_seq, s)
    return out


def parent_seq(span: Span, by_seq: dict[int, Span]) -> int | None:
    """``span``'s parent when it is a span that started before it, else None.

    In a sound recording a parent always starts before its children. A
    damaged one may name the span itself, a later span or a repeated seq;
    taking only earlier parents makes every walk up or down the tree end.
    """
    p = span.parent
    return p if p is not None and p < span.start_seq and p in by_seq else None


class SpanTree(msgspec.Struct, kw_only=True):
    """The spans as a tree that has no cycle, whatever the file says (see `span_tree`)."""

    by_seq: dict[int, Span]
    roots: list[Span]
    """Spans without a (sound) parent among these spans, in start order."""
    children: dict[int, list[int]]
    """Start seqs of each span's children, in start order."""


def span_tree(spans: Iterable[Span]) -> SpanTree:
    """``spans`` as a tree to draw: children from the sound parent links (`parent_seq`).

    A span whose parent is missing, itself or later becomes a root, so it is
    still drawn, and nothing can loop.
    """
    by_seq = span_index(spans)
    roots: list[Span] = []
    children: dict[int, list[int]] = {}
    for seq, s in by_seq.items():
        parent = parent_seq(s, by_seq)
        if parent is None:
            roots.append(s)
        else:
            children.setdefault(parent, []).append(seq)
    return SpanTree(by_seq=by_seq, roots=roots, children=children)


def nested(tree: SpanTree) -> Iterator[tuple[str, Span | None, int]]:
    """The tree depth first, for drawing teams as nested groups (dot clusters, mermaid
    subgraphs): ``("open", team, d)`` for a team, whose own node and everything under it
    follow at depth ``d + 1`` until ``("close", None, d)``; ``("node", span, d)`` for any
    other span. Depths start at 1. An explicit stack: recursion can be deep."""
    by_seq = tree.by_seq
    stack: list[int] = [s.start_seq for s in reversed(tree.roots)]
    depth = 1
    while stack:
        seq = stack.pop()
        if seq == _CLOSE:
            depth -= 1
            yield "close", None, depth
            continue
        s = by_seq[seq]
        if s.kind == "team":
            yield "open", s, depth
            depth += 1
            stack.append(_CLOSE)
        else:
            yield "node", s, depth
        stack.extend(reversed(tree.children.get(seq, ())))


#: Stands on `nested`'s stack for the end of a group (no span has a negative seq).
_CLOSE = -1


def end_ns(span: Span, last_ts: int) -> int:
    """When ``span`` ended — for one still running, the last moment the recording knows."""
    return span.end_ns if span.end_ns is not None else max(last_ts, span.start_ns)


class Link(msgspec.Struct, kw_only=True, gc=False):
    """A message with the member executions it went between (None where none matches)."""

    message: Message
    team: int | None
    """``start_seq`` of the team span the message belongs to."""
    sender: int | None
    receiver: int | None


def _enclosing_team(msg: Message, by_seq: dict[int, Span]) -> Span | None:
    s = by_seq.get(msg.parent) if msg.parent is not None else None
    while s is not None:
        if s.kind == "team" and s.node == msg.team:
            return s
        up = parent_seq(s, by_seq)
        s = by_seq[up] if up is not None else None
    return None


def _pick(candidates: list[Span], seq: int) -> int | None:
    """The execution open at ``seq``, else the next to start after it, else the last before."""
    if not candidates:
        return None
    starts = [c.start_seq for c in candidates]
    i = bisect.bisect_right(starts, seq)
    for c in reversed(candidates[:i]):
        if c.end_seq is None or c.end_seq >= seq:
            return c.start_seq
    if i < len(candidates):
        return candidates[i].start_seq
    return candidates[i - 1].start_seq


def link_messages(messages: list[Message], spans: list[Span]) -> list[Link]:
    """Match each message to its team span and its sender's and receiver's member spans.

    A message's sender is the member execution it was sent from (its
    ``parent``) when that member has the sender's name; otherwise, as for the
    receiver, the member of that name in the same team that was running at
    the message, else the next one to start, else the last one before.
    """
    if not messages:
        return []
    by_seq = span_index(spans)
    members: dict[tuple[int | None, str], list[Span]] = {}
    teams_by_name: dict[str, list[Span]] = {}
    for s in spans:
        if s.kind == "member":
            up = by_seq.get(s.parent) if s.parent is not None else None
            owner = up.start_seq if up is not None and up.kind == "team" else None
            members.setdefault((owner, s.node), []).append(s)
            if owner is not None:  # also findable by name alone, for a message with no team
                members.setdefault((None, s.node), []).append(s)
        elif s.kind == "team":
            teams_by_name.setdefault(s.node, []).append(s)
    links: list[Link] = []
    for m in messages:
        team = _enclosing_team(m, by_seq)
        if team is None:  # sent outside the team's span (the published API allows it)
            named = teams_by_name.get(m.team, [])
            seq = _pick(named, m.seq)
            team = by_seq.get(seq) if seq is not None else None
        key = team.start_seq if team is not None else None
        parent = by_seq.get(m.parent) if m.parent is not None else None
        if parent is not None and parent.kind == "member" and parent.node == m.sender:
            sender: int | None = parent.start_seq
        else:
            sender = _pick(members.get((key, m.sender), []), m.seq)
        receiver = _pick(members.get((key, m.receiver), []), m.seq)
        links.append(Link(message=m, team=key, sender=sender, receiver=receiver))
    return links

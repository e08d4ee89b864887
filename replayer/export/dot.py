"""The ``dot`` export: a Graphviz digraph of a run that ``dot -Tsvg`` renders.

One graph node per span — the workflow, each node execution, team, member
and recursion level — coloured by status (`STATUS_COLOURS`: completed,
failed, cancelled, timed out, running, or incomplete — never ended), with
its duration on the label.
Solid edges go from a span to the spans it started, dotted ones from a span
to the next sibling on the same lane (the order things ran in), dashed blue
ones carry team messages between members. Each team is a ``cluster_`` subgraph
holding its members and everything they ran. Every label is a quoted DOT
string with quotes, backslashes, newlines and control characters escaped, so
no payload or node name can break the file.

The tree is drawn depth first and its edges family by family, so the whole
tree is needed at once: it is held in flat columns (`SpanColumns`, about
100 bytes a span with the first pass's `SpanEnds`), each `Span` made only
as it is drawn — not a list of spans with a dict and children lists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import partial

from storage import Span

from .._replayer import Replayer
from .._text import fmt_ns, plural, preview
from .columns import SpanColumns
from .scan import walk
from .stream import first_pass
from .text import STATUS_MARKS, cut, span_title, span_when, status_words
from .tree import Link, SpanTree, link_messages, nested, span_tree

__all__ = ["STATUS_COLOURS", "dot_id", "dot_string", "iter_dot", "to_dot"]

#: (fill, border) per span status.
STATUS_COLOURS = {
    "completed": ("#e8f5e9", "#2e7d32"),
    "failed": ("#ffebee", "#c62828"),
    "cancelled": ("#eceff1", "#546e7a"),
    "timed_out": ("#fff3e0", "#e65100"),
    "running": ("#fff8e1", "#f9a825"),
    "incomplete": ("#f5f5f5", "#757575"),
}
_SHAPES = {"workflow": "box", "node": "box", "member": "box", "team": "tab",
           "recursion": "box"}
_STYLES = {"workflow": "rounded,filled,bold", "node": "rounded,filled", "member": "filled",
           "team": "filled", "recursion": "rounded,filled,dashed"}
_KIND_WORDS = {"workflow": "workflow · ", "team": "team · ", "member": "member · "}
_PLAIN_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}
_CONTROL = {c: " " for c in [*range(0x20), 0x7F] if c != 0x0A}
_NAME_LIMIT = 120
_TEXT_LIMIT = 60
_MESSAGE_LIMIT = 32


def dot_string(text: str) -> str:
    """``text`` as a quoted DOT string (escString): quotes, backslashes, newlines escaped."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be written
    text = text.translate(_CONTROL).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n") + '"'


def dot_id(name: str) -> str:
    """``name`` as a DOT ID: bare when it is a plain identifier, else quoted."""
    if _PLAIN_ID.match(name) and name.lower() not in _KEYWORDS:
        return name
    return dot_string(name)


def _label(s: Span, error: str | None) -> str:
    name = span_title(s, _NAME_LIMIT)
    kind = f"recursion depth {s.depth} · " if s.kind == "recursion" \
        else _KIND_WORDS.get(s.kind, "")
    lines = [name, f"{kind}{span_when(s)}"]
    mark = STATUS_MARKS.get(s.status, "✗")
    if error is not None:
        lines.append(f"{mark} " + preview(error, _TEXT_LIMIT))
    elif s.status not in ("completed", "running", "incomplete"):
        lines.append(f"{mark} {status_words(s.status)}")
    return "\n".join(lines)


def _node_stmt(s: Span, error: str | None) -> str:
    fill, border = STATUS_COLOURS.get(s.status, STATUS_COLOURS["incomplete"])
    seqs = f"seq {s.start_seq}..{s.end_seq if s.end_seq is not None else ''}"
    tooltip = f"{s.kind} {s.node} · {s.status} · {seqs}" + (f" · {s.lane}" if s.lane else "")
    return (f"s{s.start_seq} [label={dot_string(_label(s, error))}, "
            f"shape={_SHAPES.get(s.kind, 'box')}, style={dot_string(_STYLES.get(s.kind, 'filled'))}"
            f", fillcolor=\"{fill}\", color=\"{border}\", tooltip={dot_string(tooltip)}];")


def iter_dot(replayer: Replayer, *, graph_name: str | None = None) -> Iterator[str]:
    """The DOT text of ``replayer``'s run, in pieces (see the module docstring).

    ``graph_name`` names the digraph (default: the workflow's name).
    """
    columns = SpanColumns()
    ends = first_pass(replayer, marks=False, columns=columns.add)
    found = ends.found
    if ends.complete:
        columns.link()
        steps: Iterable[tuple[str, Span | None, int]] = columns.nested(ends)
        families: Callable[[], Iterable[tuple[int, Iterable[tuple[int, str | None]]]]] = \
            columns.families
        links = link_messages(found.messages, list(ends.kept.values()))
    else:  # damage names a span that had ended: hold them all
        del columns
        found = walk(replayer, full=True)
        tree = span_tree(found.spans)
        steps, families = nested(tree), partial(_families, tree)
        links = link_messages(found.messages, found.spans)
    errors: dict[int, str] = {}
    for e in found.errors:
        if e.span is not None:
            errors.setdefault(e.span, e.headline)
    # Message ends with no member execution of that name get a small stand-in node.
    stand_ins: dict[tuple[int | None, str], str] = {}
    for link in links:
        for end, name in ((link.sender, link.message.sender),
                          (link.receiver, link.message.receiver)):
            if end is None:
                stand_ins.setdefault((link.team, name), f"m{len(stand_ins)}")

    header, summary = replayer.header, replayer.summary
    yield f"digraph {dot_id(graph_name or header.workflow or 'workflow')} {{\n"
    title = (f"{header.workflow} · {found.status} · {fmt_ns(summary.duration_ns)} · "
             f"{plural(summary.event_count, 'event')}\n{header.recording_id}")
    yield (f"  graph [label={dot_string(title)}, labelloc=t, fontname=\"Helvetica\", "
           "fontsize=12, rankdir=TB, nodesep=0.3, ranksep=0.4];\n")
    yield "  node [fontname=\"Helvetica\", fontsize=10, margin=\"0.12,0.04\"];\n"
    yield "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#666666\", arrowsize=0.7];\n"

    yield from _nodes(steps, errors, stand_ins)
    yield from _stand_ins(stand_ins, None, 1)
    yield from _edges(families)
    yield from _message_edges(links, stand_ins)
    yield "}\n"


def _nodes(steps: Iterable[tuple[str, Span | None, int]], errors: dict[int, str],
           stand_ins: dict[tuple[int | None, str], str]) -> Iterator[str]:
    """Node statements, teams as nested clusters (``steps`` from `nested`)."""
    for step, s, depth in steps:
        pad = "  " * depth
        if s is None:
            yield pad + "}\n"
        elif step == "open":
            border = STATUS_COLOURS.get(s.status, STATUS_COLOURS["incomplete"])[1]
            yield (f"{pad}subgraph cluster_s{s.start_seq} {{\n{pad}  label="
                   f"{dot_string('team ' + cut(s.node, _NAME_LIMIT))}; style=\"rounded,dashed\";"
                   f" color=\"{border}\"; fontname=\"Helvetica\"; fontsize=10;\n")
            yield pad + "  " + _node_stmt(s, errors.get(s.start_seq)) + "\n"
            yield from _stand_ins(stand_ins, s.start_seq, depth + 1)
        else:
            yield pad + _node_stmt(s, errors.get(s.start_seq)) + "\n"


def _stand_ins(stand_ins: dict[tuple[int | None, str], str], team: int | None,
               depth: int) -> Iterator[str]:
    for (t, name), ident in stand_ins.items():
        if t == team:
            yield ("  " * depth + f"{ident} [label={dot_string(cut(name, _NAME_LIMIT))}, "
                   "shape=box, style=\"dashed\", color=\"#1565c0\", fontcolor=\"#1565c0\"];\n")


def _families(tree: SpanTree) -> Iterator[tuple[int, Iterable[tuple[int, str | None]]]]:
    """Each span with children: its start seq, and its children's with their lanes."""
    for parent, kids in tree.children.items():
        yield parent, ((c, tree.by_seq[c].lane) for c in kids)


def _edges(families: Callable[[], Iterable[tuple[int, Iterable[tuple[int, str | None]]]]]
           ) -> Iterator[str]:
    """Parent -> child edges, then each span to the next sibling that ran on its lane
    (``families()`` as `_families` gives them, read twice)."""
    for parent, kids in families():
        for c, _ in kids:
            yield f"  s{parent} -> s{c};\n"
    for _, kids in families():
        last_on_lane: dict[str | None, int] = {}
        for c, lane in kids:
            prev = last_on_lane.get(lane)
            if prev is not None:
                yield (f"  s{prev} -> s{c} [style=dotted, color=\"#9e9e9e\", "
                       "constraint=false, arrowhead=open];\n")
            last_on_lane[lane] = c


def _message_edges(links: list[Link], stand_ins: dict[tuple[int | None, str], str]
                   ) -> Iterator[str]:
    for link in links:
        m = link.message
        a = f"s{link.sender}" if link.sender is not None else stand_ins[(link.team, m.sender)]
        b = f"s{link.receiver}" if link.receiver is not None \
            else stand_ins[(link.team, m.receiver)]
        label = preview(m.message, _MESSAGE_LIMIT) if m.message is not None else ""
        # xlabel, not label: Graphviz 2.4x fails to route several labelled edges between
        # two nodes of one rank ("triangulation failed"); xlabels are placed after routing.
        yield (f"  {a} -> {b} [style=dashed, color=\"#1565c0\", fontcolor=\"#1565c0\", "
               f"constraint=false, xlabel={dot_string(label)}, "
               f"tooltip={dot_string(f'message seq {m.seq}: {m.sender} → {m.receiver}')}];\n")


def to_dot(replayer: Replayer, *, graph_name: str | None = None) -> str:
    """The whole DOT text (see `iter_dot`)."""
    return "".join(iter_dot(replayer, graph_name=graph_name))

"""The ``mermaid`` export: a ``flowchart TD`` that GitHub renders in Markdown.

The same picture as the DOT export, in Mermaid's syntax: a box per span
(ids ``s<start seq>``, only letters, digits and ``_``), teams as subgraphs,
solid arrows from a span to what it started, dotted labelled arrows for team
messages, and ``classDef`` styles per status (``:::failed`` and so on). Every
label is a quoted string whose quotes, ``<``, ``>``, ``&``, ``#``, ``|``, ``%``
and backticks are written as Mermaid entity codes (``#quot;``, ``#37;``), so a
payload shows as text and can neither close the label, inject markup, nor
smuggle in a ``%%{init: …}%%`` directive (Mermaid finds those anywhere in the
text, comments and labels included); the title comment is escaped the same way.

GitHub refuses flowcharts with more than 500 edges, so only the first
``max_spans`` spans in start order are drawn (a closed prefix of the tree:
a parent always starts before its children) and a note says how many were
left out; the DOT export has them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from storage import Span

from .._replayer import Replayer
from .._text import fmt_ns, plural, preview
from .scan import walk
from .text import STATUS_MARKS, cut, span_title, span_when
from .tree import SpanTree, link_messages, nested, span_tree

__all__ = ["DEFAULT_MAX_SPANS", "iter_mermaid", "mermaid_id", "mermaid_text", "to_mermaid"]

DEFAULT_MAX_SPANS = 200
_ENTITIES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "#": "#35;",
             "`": "#96;", "|": "#124;", "%": "#37;"}
_ENTITY_RE = re.compile("[\"<>&#`|%]")
#: Characters a JavaScript lexer may take for a line break (the label must stay one token).
_BREAKS = str.maketrans({"\u0085": " ", "\u2028": " ", "\u2029": " "})
_CLASSES = (
    "  classDef completed fill:#e8f5e9,stroke:#2e7d32,color:#1b1b1b\n"
    "  classDef failed fill:#ffebee,stroke:#c62828,stroke-width:2px,color:#1b1b1b\n"
    "  classDef cancelled fill:#eceff1,stroke:#546e7a,stroke-width:2px,color:#1b1b1b\n"
    "  classDef timed_out fill:#fff3e0,stroke:#e65100,stroke-width:2px,color:#1b1b1b\n"
    "  classDef running fill:#fff8e1,stroke:#f9a825,stroke-dasharray:4 2,color:#1b1b1b\n"
    "  classDef incomplete fill:#f5f5f5,stroke:#757575,stroke-dasharray:4 2,color:#1b1b1b\n"
    "  classDef standin fill:#ffffff,stroke:#1565c0,stroke-dasharray:3 3,color:#1565c0\n"
)

#: The span statuses that have a class (`_CLASSES`).
_STATUSES = ("completed", "failed", "cancelled", "timed_out", "running", "incomplete")
_NAME_LIMIT = 80
_TEXT_LIMIT = 40


def mermaid_text(text: str) -> str:
    """``text`` as the inside of a quoted Mermaid label (line breaks become ``<br/>``)."""
    text = _ENTITY_RE.sub(lambda m: _ENTITIES[m.group()], text).translate(_BREAKS)
    text = "".join(c if c >= " " or c == "\n" else " " for c in text)
    return text.replace("\r\n", "\n").replace("\n", "<br/>")


def mermaid_id(text: str) -> str:
    """A Mermaid node id made of ``text``: letters, digits and ``_`` only, never bare ``end``."""
    ident = re.sub(r"\W", "_", text, flags=re.ASCII) or "_"
    return "n_" + ident if ident[0].isdigit() or ident.lower() == "end" else ident


def _box(s: Span, error: str | None) -> str:
    name = span_title(s, _NAME_LIMIT)
    what = {"workflow": "workflow · ", "team": "team · ", "member": "member · ",
            "recursion": f"recursion depth {s.depth} · "}.get(s.kind, "")
    lines = [name, what + span_when(s)]
    if error is not None:
        lines.append(f"{STATUS_MARKS.get(s.status, '✗')} " + preview(error, _TEXT_LIMIT))
    label = '"' + mermaid_text("\n".join(lines)) + '"'
    left, right = {"workflow": ("([", "])"), "member": ("(", ")"), "team": ("[/", "/]"),
                   "recursion": ("{{", "}}")}.get(s.kind, ("[", "]"))
    status = s.status if s.status in _STATUSES else "incomplete"
    return f"s{s.start_seq}{left}{label}{right}:::{status}"


def iter_mermaid(replayer: Replayer, *, max_spans: int = DEFAULT_MAX_SPANS) -> Iterator[str]:
    """The flowchart of ``replayer``'s run, in pieces (see the module docstring)."""
    limit = max(1, max_spans)
    found = walk(replayer, full=False, first=limit)
    all_spans = found.spans  # the first `limit` to start, then a few an error kept
    spans = all_spans[:limit]
    left_out = sum(found.counts.values()) - len(spans)
    tree = span_tree(spans)
    by_seq = tree.by_seq
    errors: dict[int, str] = {}
    for e in found.errors:
        if e.span is not None:
            errors.setdefault(e.span, e.headline)
    links = [link for link in link_messages(found.messages, all_spans)
             if link.team is None or link.team in by_seq]
    stand_ins: dict[tuple[int | None, str], str] = {}
    for link in links:
        for end, name in ((link.sender, link.message.sender),
                          (link.receiver, link.message.receiver)):
            if end is None or end not in by_seq:
                stand_ins.setdefault((link.team, name), f"m{len(stand_ins)}")

    header, summary = replayer.header, replayer.summary
    yield "flowchart TD\n"
    title = " ".join(f"{header.workflow} · {found.status} · "
                     f"{fmt_ns(summary.duration_ns)} · {header.recording_id}".split())
    yield f"  %% {mermaid_text(title)}\n"
    yield from _boxes(tree, errors, stand_ins)
    yield from _stand_in_boxes(stand_ins, None, 1)
    for parent, kids in tree.children.items():
        for c in kids:
            yield f"  s{parent} --> s{c}\n"
    for link in links:
        m = link.message
        a = f"s{link.sender}" if link.sender in by_seq else stand_ins[(link.team, m.sender)]
        b = f"s{link.receiver}" if link.receiver in by_seq \
            else stand_ins[(link.team, m.receiver)]
        text = preview(m.message, _TEXT_LIMIT) if m.message is not None else "message"
        yield f'  {a} -.->|"{mermaid_text(text)}"| {b}\n'
    if left_out:
        yield (f'  more["… {plural(left_out, "more span")} not drawn (GitHub draws at most '
               '500 edges); the dot export has them all"]\n')
    yield _CLASSES


def _boxes(tree: SpanTree, errors: dict[int, str],
           stand_ins: dict[tuple[int | None, str], str]) -> Iterator[str]:
    """Node lines, teams as nested subgraphs (`nested`)."""
    for step, s, depth in nested(tree):
        pad = "  " * depth
        if s is None:
            yield pad + "end\n"
        elif step == "open":
            title = mermaid_text("team " + cut(s.node, _NAME_LIMIT))
            yield pad + f'subgraph team_{s.start_seq}["{title}"]\n'
            yield pad + "  " + _box(s, errors.get(s.start_seq)) + "\n"
            yield from _stand_in_boxes(stand_ins, s.start_seq, depth + 1)
        else:
            yield pad + _box(s, errors.get(s.start_seq)) + "\n"


def _stand_in_boxes(stand_ins: dict[tuple[int | None, str], str], team: int | None,
                    depth: int) -> Iterator[str]:
    for (t, name), ident in stand_ins.items():
        if t == team:
            yield "  " * depth + f'{ident}["{mermaid_text(cut(name, _NAME_LIMIT))}"]:::standin\n'


def to_mermaid(replayer: Replayer, *, max_spans: int = DEFAULT_MAX_SPANS) -> str:
    """The whole flowchart (see `iter_mermaid`)."""
    return "".join(iter_mermaid(replayer, max_spans=max_spans))

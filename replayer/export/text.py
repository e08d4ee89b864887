"""How the exports word spans and statuses: marks, ``timed out``, ``never ended``, titles.

Kept in one place so every format says a status the same way. Durations,
previews and error headlines are worded as everywhere on the read side
(`replayer._text`), and recorded text is made safe the same way (`plain`).
"""

from __future__ import annotations

from storage import Span

from .._text import fmt_ns, printable

__all__ = ["STATUS_MARKS", "cut", "plain", "span_title", "span_when", "status_words"]


def plain(text: str) -> str:
    """Recorded text for a line of a text export: control characters shown (``\\x1b``,
    ``\\n``), never passed on raw to the terminal or pager that shows the export."""
    return printable(text, one_line=True)


#: A mark for each span and run status, the same in every text export.
STATUS_MARKS = {"completed": "✓", "failed": "✗", "cancelled": "⊘", "timed_out": "⏱",
                "running": "…", "incomplete": "…"}


def status_words(status: str) -> str:
    """A status as words: ``timed out`` for ``timed_out``."""
    return status.replace("_", " ")


def span_when(s: Span) -> str:
    """How long ``s`` took; for a span with no end, ``still running`` or ``never ended``."""
    if s.end_seq is not None:
        return fmt_ns(s.duration_ns)
    return "still running" if s.status == "running" else "never ended"


def cut(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def span_title(s: Span, limit: int) -> str:
    """A span's node id (cut to ``limit``), with its attempt when it is a retry."""
    name = cut(s.node or "?", limit)
    return f"{name} (attempt {s.attempt})" if s.attempt > 1 else name

"""How the exports word things: durations, statuses, error headlines, previews.

Kept in one place so every format says a status, a duration or a cut value
the same way, and recorded text is made safe the same way (`plain`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from storage import Span

from ..terminal.console import printable
from ..terminal.timeline import fmt_ns

__all__ = ["STATUS_MARKS", "cut", "fmt_duration", "headline", "plain", "preview", "span_title",
           "span_when", "status_words"]

_json = msgspec.json.Encoder()


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
        return fmt_duration(s.duration_ns)
    return "still running" if s.status == "running" else "never ended"


def headline(error: dict[str, Any]) -> str:
    """An error payload as ``Type: message`` (``Type`` alone without a message)."""
    kind = str(error.get("type") or "error")
    message = str(error.get("message") or "")
    return f"{kind}: {message}" if message else kind


def cut(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def span_title(s: Span, limit: int) -> str:
    """A span's node id (cut to ``limit``), with its attempt when it is a retry."""
    name = cut(s.node or "?", limit)
    return f"{name} (attempt {s.attempt})" if s.attempt > 1 else name


def fmt_duration(ns: int | None) -> str:
    """A duration for people, written as the timeline writes it (`_timeline.fmt_ns`)."""
    return fmt_ns(ns)


def preview(value: Any, limit: int = 60) -> str:
    """``value`` as compact one-line JSON (a string as itself), cut to ``limit`` characters."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = _json.encode(value).decode("utf-8", "replace")
        except (TypeError, msgspec.EncodeError):
            text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"

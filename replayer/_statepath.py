"""A looked-up value on one line, for the stepper and the timeline (`show_value`).

The grammar of state paths, and looking them up (`MISSING`, `Unknown`), is
`storage.analysis.paths`.
"""

from __future__ import annotations

from typing import Any

from storage.analysis.paths import MISSING, Unknown

from .terminal.console import json_text

__all__ = ["show_value"]


def show_value(value: Any) -> str:
    """A looked-up value on one line: JSON, ``(not set)`` or ``(unknown: … truncated …)``."""
    if value is MISSING:
        return "(not set)"
    if isinstance(value, Unknown):
        return str(value)
    return json_text(value)

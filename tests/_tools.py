"""Finding the real command-line tools some tests drive (zstdcat, zcat, jq, dot, tmux).

A missing tool skips the test with the reason, so a laptop without ``jq``
still runs the rest; CI sets ``FLOWTAPE_REQUIRE_TOOLS=1`` so a missing tool
fails instead of silently skipping what it was meant to check.
"""

from __future__ import annotations

import os
import shutil

import pytest

__all__ = ["require_tool"]


def require_tool(name: str) -> str:
    """The path of the executable ``name``; skips the test (fails under CI) if there is none."""
    path = shutil.which(name)
    if path is not None:
        return path
    reason = f"the command-line tool {name!r} is not installed (not found on PATH)"
    if os.environ.get("FLOWTAPE_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason}, and FLOWTAPE_REQUIRE_TOOLS=1 requires it", pytrace=False)
    pytest.skip(f"{reason}; install it, or set FLOWTAPE_REQUIRE_TOOLS=1 to make this a failure")

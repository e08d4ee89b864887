"""The chrome, dot and json exports write what they wrote before they streamed, byte for byte.

`golden/make_export_golden.py` made the recordings in ``golden/`` (teams and
messages, two lanes, recursion, errors, overlapping spans, a loose message,
a cut-off run with spans left open, and the format's own golden files) and
wrote each one's exports with the exporters as they were when they held
every span; the streaming exporters must give the same text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from replayer import Replayer
from replayer.export import export

GOLDEN = Path(__file__).resolve().parent / "golden"
FORMAT_GOLDEN = GOLDEN.parent.parent / "golden"
RECORDINGS = {p.name.split(".")[0]: p for p in
              [*GOLDEN.glob("*.jsonl.zst"), *FORMAT_GOLDEN.glob("v1-*")]}


@pytest.mark.parametrize("fmt", ["chrome", "dot", "json"])
@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_export_is_byte_for_byte_what_it_was(name: str, fmt: str) -> None:
    with Replayer.open(RECORDINGS[name]) as r:
        got = export(r, fmt)
    assert got == (GOLDEN / f"{name}.{fmt}.txt").read_text(encoding="utf-8")

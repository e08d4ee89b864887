"""Make the recordings and expected outputs `test_export_streaming.py` holds the exports to.

The outputs were written by the exporters as they were before they streamed
(the chrome, dot and json text of each recording, byte for byte), so the
streaming exporters are held to exactly what the materialising ones wrote.
The failing and completed runs are `test_export.py`'s (teams whose members
message each other, one to a member that never runs, two lanes, recursion,
errors, checkpoints and custom events). Made again, the outputs are those of the
exporters of the day: check them against the exporters they replace first.
Run it again only to change the recordings on purpose (all, or those named)::

    .venv/bin/python tests/export/golden/make_export_golden.py [failing overlap …]
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))  # run as a script: the repository's tests package

from recorder import ExecutionRecorder, record_workflow  # noqa: E402
from replayer import Replayer  # noqa: E402
from replayer.export import export  # noqa: E402
from tests.analysis.test_spans import _write  # noqa: E402
from tests.export.test_export import _record_completed, _record_failing, fetch, flaky  # noqa: E402

FORMATS = ("chrome", "dot", "json")


def overlap(path: Path) -> None:
    """Spans that overlap on one lane without nesting (an extra chrome track), a loose message."""
    with record_workflow("overlap", path=str(path)) as rec:
        assert isinstance(rec, ExecutionRecorder)
        rec.record_node_start("a")
        rec.record_node_start("b")
        rec.record_node_complete("a")
        rec.record_node_complete("b")
        rec.record_team_member_communication("ghost-team", "x", "y", "hello")


def many(path: Path) -> None:
    """A few hundred nested steps over several frames, the shape the benchmarks use."""
    with record_workflow("many", path=str(path), flush_every=64):
        for i in range(150):
            with contextlib.suppress(TimeoutError):
                fetch(str(i))
                if i % 37 == 0:
                    flaky(i)


def dangling(path: Path) -> None:
    """Damage-like links: an error, a message and a custom event name a span already ended."""
    _write(path, [
        ("workflow_start", "w", None, None, None),
        ("node_start", "a", None, 0, None),
        ("node_complete", "a", 1, 0, {"outputs": 1}),
        ("node_error", "a", 1, 0, {"error": {"type": "E", "message": "late"}}),
        ("team_message", "crew", None, 1, {"from": "x", "to": "y", "message": "hi"}),
        ("custom", "note", None, 1, {"name": "note", "value": 2}),
        ("workflow_complete", "w", 0, None, None),
    ])


def cut(source: Path, path: Path) -> None:
    """``source`` without its last frame, footer and trailer: spans left open."""
    with Replayer.open(source) as r:
        frame = r.reader.frames[-2]
    path.write_bytes(source.read_bytes()[:frame.offset + frame.length])


def main(names: list[str]) -> int:
    """Make the recordings named (default: all) and write their expected exports."""
    makers = {"failing": _record_failing, "completed": _record_completed, "overlap": overlap,
              "many": many, "dangling": dangling}
    made = {name: HERE / f"{name}.jsonl.zst" for name in [*makers, "cut"]}
    for name, make in makers.items():
        if not names or name in names:
            made[name].unlink(missing_ok=True)
            make(made[name])
    if not names or "cut" in names:
        cut(made["many"], made["cut"])
    for path in sorted((HERE.parent.parent / "golden").glob("v1-*")):  # the format's own
        made[path.name.split(".")[0]] = path
    for name, path in made.items():
        if names and name not in names:
            continue
        with Replayer.open(path) as r:
            for fmt in FORMATS:
                (HERE / f"{name}.{fmt}.txt").write_text(export(r, fmt), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

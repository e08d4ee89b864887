"""Make the recordings and expected outputs `test_export_streaming.py` holds the exports to.

The outputs were written by the exporters as they were before they streamed
(the chrome, dot and json text of each recording, byte for byte), so the
streaming exporters are held to exactly what the materialising ones wrote.
Run it again only to change the recordings on purpose::

    .venv/bin/python tests/export/golden/make_export_golden.py
"""

from __future__ import annotations

import contextlib
import sys
import threading
from pathlib import Path

from recorder import ExecutionRecorder, node, record_workflow
from replayer import Replayer
from replayer.export import export

HERE = Path(__file__).resolve().parent
FORMATS = ("chrome", "dot", "json")
#: Quotes, a backslash, newlines, markup and unicode, to keep escaping honest.
HOSTILE = 'say "hi" <b>x</b>\nline 2 \\ ``` | é ☃ {x}'


@node("fetch", node_type="tool")
def fetch(url: str) -> dict[str, object]:
    return {"body": HOSTILE, "n": len(url)}


@node("flaky")
def flaky(n: int) -> None:
    raise TimeoutError(f"attempt {n} timed out")


@node("parse")
def parse(doc: dict[str, object]) -> object:
    return doc["missing"]


def failing(path: Path) -> None:
    """Teams with messages (one to a member that never runs), two lanes, recursion, errors."""
    with contextlib.suppress(KeyError), record_workflow("pipeline", path=str(path)) as rec:
        fetch("http://a")
        with contextlib.suppress(TimeoutError):
            flaky(1)
        worker = threading.Thread(target=fetch, args=("http://thread",), name="worker-1")
        worker.start()
        worker.join()
        with rec.team("research", formation="pair", members=["alice", "bob"]) as team:
            with team.member("alice"):
                team.message("alice", "bob", HOSTILE)
                fetch("http://b")
            with team.member("bob"):
                team.message("bob", "alice", {"ok": True})
                team.message("bob", "carol", "anyone there?")
        with rec.recursion("solve", "level-1"), rec.recursion("solve", "level-2"):
            fetch("deep")
        rec.checkpoint("halfway", {"done": 1})
        rec.event("note", HOSTILE)
        parse({"name": "doc-7"})


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


def cut(source: Path, path: Path) -> None:
    """``source`` without its last frame, footer and trailer: spans left open."""
    with Replayer.open(source) as r:
        frame = r.reader.frames[-2]
    path.write_bytes(source.read_bytes()[:frame.offset + frame.length])


def main() -> int:
    made = {name: HERE / f"{name}.jsonl.zst" for name in ("failing", "overlap", "many")}
    for name, make in (("failing", failing), ("overlap", overlap), ("many", many)):
        made[name].unlink(missing_ok=True)
        make(made[name])
    made["cut"] = HERE / "cut.jsonl.zst"
    cut(made["many"], made["cut"])
    for path in sorted((HERE.parent.parent / "golden").glob("v1-*")):  # the format's own
        made[path.name.split(".")[0]] = path
    for name, path in made.items():
        with Replayer.open(path) as r:
            for fmt in FORMATS:
                (HERE / f"{name}.{fmt}.txt").write_text(export(r, fmt), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Make the recordings and expected outputs `test_export_streaming.py` holds the exports to.

The outputs were written by the exporters as they were before they streamed
(the chrome, dot and json text of each recording, byte for byte), so the
streaming exporters are held to exactly what the materialising ones wrote.
Run it again only to change the recordings on purpose (all, or those named)::

    .venv/bin/python tests/export/golden/make_export_golden.py [failing overlap …]
"""

from __future__ import annotations

import contextlib
import sys
import threading
from pathlib import Path

from recorder import ExecutionRecorder, node, record_workflow
from replayer import Replayer
from replayer.export import export
from storage import Event, Footer, Header, LogWriter

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


def dangling(path: Path) -> None:
    """Damage-like links: an error, a message and a custom event name a span already ended."""
    header = Header(recording_id="01m83j2fk3764czz4dt3vdk6bp", workflow="dangling",
                    started_at="2026-01-01T00:00:00.000000Z")
    writer = LogWriter(path, header, codec="zstd")
    events: list[tuple[str, str, int | None, int | None, object]] = [
        ("workflow_start", "dangling", None, None, None),
        ("node_start", "a", None, 0, None),
        ("node_complete", "a", 1, 0, {"outputs": 1}),
        ("node_error", "a", 1, 0, {"error": {"type": "E", "message": "late"}}),
        ("team_message", "crew", None, 1, {"from": "x", "to": "y", "message": "hi"}),
        ("custom", "note", None, 1, {"name": "note", "value": 2}),
        ("workflow_complete", "dangling", 0, None, None),
    ]
    with writer.lock:
        for seq, (kind, name, span, parent, data) in enumerate(events):
            writer.append(Event(seq=seq, ts=seq * 1000, kind=kind, node=name, span=span,
                                parent=parent, data=data))
        writer.close(Footer(status="completed", event_count=len(events),
                            duration_ns=len(events) * 1000))


def cut(source: Path, path: Path) -> None:
    """``source`` without its last frame, footer and trailer: spans left open."""
    with Replayer.open(source) as r:
        frame = r.reader.frames[-2]
    path.write_bytes(source.read_bytes()[:frame.offset + frame.length])


def main(names: list[str]) -> int:
    """Make the recordings named (default: all) and write their expected exports."""
    makers = {"failing": failing, "overlap": overlap, "many": many, "dangling": dangling}
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

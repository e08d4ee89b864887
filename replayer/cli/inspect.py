"""`flowtape inspect`: what one recording is — header, outcome, counts, timing, file, integrity."""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import msgspec
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from storage import CorruptRecordingError, EventView, build_spans, iter_event_views
from storage.format.integrity import trailer_present

from .._replayer import Replayer
from .._text import error_summary, fmt_ns, fmt_size, json_text, plural, printable
from ..terminal.console import print_json, progress, prose_width
from ..terminal.timeline import status_style

NAME = "inspect"
HELP = "show a recording's header, outcome, counts, timing and file"

_SLOWEST = 5


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recording", metavar="ID",
                        help="a recording id, unique id prefix, `latest`, or a file")
    parser.add_argument("--recover", action="store_true",
                        help="skip damaged frames instead of stopping at the first")
    parser.add_argument("--json", action="store_true", help="print it all as one JSON object")


def describe_recording(r: Replayer) -> dict[str, Any]:
    """Everything `inspect` shows, as plain JSON-ready values."""
    reader = r.reader
    kinds: Counter[str] = Counter()

    def counted(views: Iterator[EventView], advance: Any) -> Iterator[EventView]:
        for n, v in enumerate(views, 1):
            kinds[v.kind] += 1
            if n % 10_000 == 0:
                advance(10_000)
            yield v

    with progress(len(r), "reading") as advance:
        try:
            spans = build_spans(counted(iter_event_views(reader), advance))
        except CorruptRecordingError:
            if not reader.recover:
                raise
            # Raw frames do not skip damage; count what recovering reading gives instead.
            kinds.clear()
            kinds.update(e.kind for e in r.iter_events())
            spans = []
    timed = sorted((s for s in spans if s.kind != "workflow" and s.duration_ns is not None),
                   key=lambda s: -(s.duration_ns or 0))
    summary = msgspec.to_builtins(r.summary)
    # Without a footer: running while the writer holds the file, else incomplete.
    summary["status"] = reader.status
    footer = r.footer
    return {
        "recording_id": r.recording_id,
        "path": r.path,
        "header": msgspec.to_builtins(r.header),
        "summary": summary,
        "ended_at": footer.ended_at if footer is not None else None,
        "kinds": dict(sorted(kinds.items())),
        "spans": len(spans),
        "slowest": [{"node": s.node, "kind": s.kind, "start_seq": s.start_seq,
                     "duration_ns": s.duration_ns, "status": s.status}
                    for s in timed[:_SLOWEST]],
        "file": {"size": reader.size, "codec": reader.codec, "frames": reader.frame_count,
                 "keyframes": len(reader.keyframes)},
        "integrity": {
            "footer": footer is not None,
            "trailer": trailer_present(reader) if footer is not None else False,
            "tail_garbage": reader.tail_garbage,
            "skipped_frames": [msgspec.to_builtins(s) for s in reader.skipped],
        },
    }


def integrity_note(info: dict[str, Any]) -> Text:
    """One line on how whole the file is (`flowtape verify` checks every frame)."""
    i = info["integrity"]
    if i["skipped_frames"]:
        return Text(f"{plural(len(i['skipped_frames']), 'damaged frame')} skipped; run `flowtape "
                    "verify --recover` for the list", style="bold red")
    if not i["footer"] and info["summary"]["status"] == "running":
        return Text("no footer yet: the run is still being recorded (its writer holds the "
                    "file)", style="yellow")
    if not i["footer"]:
        extra = f", {plural(i['tail_garbage'], 'unreadable byte')} at the end" \
            if i["tail_garbage"] else ""
        return Text("no footer: the writer is gone (the run crashed or was killed)" + extra,
                    style="yellow")
    if i["trailer"] is False:
        return Text("footer present but no trailer (found by scanning)", style="yellow")
    return Text("footer and trailer present; `flowtape verify` checks every frame",
                style="green")


def print_rows(console: Console, rows: list[tuple[str, Text]]) -> None:
    """``label  value`` lines, values wrapped under themselves to the prose width.

    Lines carry no trailing padding (a rich table pads every cell to its
    column), so a pipe gets exactly the text. A word longer than the room
    (a file path) stays whole, so it can be copied.
    """
    indent = max(len(name) for name, _ in rows) + 2
    room = max(20, prose_width(console) - indent)
    for name, value in rows:
        for i, line in enumerate(value.divide(_breaks(value.plain, room))):
            line.rstrip()
            head = Text.assemble((name, "bold"), " " * (indent - len(name))) if i == 0 \
                else Text(" " * indent)
            console.print(head + line, soft_wrap=True)


def _breaks(text: str, room: int) -> list[int]:
    """Where to break ``text`` so lines fit in ``room`` cells; a longer word gets a line."""
    breaks: list[int] = []
    start = 0
    for word in re.finditer(r"\S+", text):
        if word.start() > start and cell_len(text[start:word.end()]) > room:
            breaks.append(word.start())
            start = word.start()
    return breaks


def run(args: argparse.Namespace, console: Console) -> int:
    with Replayer.open(args.recording, args.store, recover=args.recover) as r:
        info = describe_recording(r)
    if args.json:
        print_json(console, info)
        return 0
    h, s = info["header"], info["summary"]
    rows: list[tuple[str, Text]] = []

    def row(name: str, value: str | Text, style: str = "") -> None:
        """One row; a plain string may hold recorded text, so it is made `printable`."""
        if not isinstance(value, Text):
            value = Text(printable(value, one_line=True), style=style)
        rows.append((name, value))

    row("recording", info["recording_id"])
    row("workflow", h["workflow"])
    row("status", s["status"], status_style(s["status"]))
    if s.get("error"):
        row("error", error_summary({"error": s["error"]}) or str(s["error"]), "red")
    row("started", h["started_at"])
    if info["ended_at"]:
        row("ended", info["ended_at"])
    row("duration", fmt_ns(s["duration_ns"]))
    row("events", f"{s['event_count']} in {plural(info['spans'], 'span')}")
    row("counts", f"{plural(s['nodes'], 'node')} · {plural(s['teams'], 'team')} · "
        f"{plural(s['messages'], 'message')} · {plural(s['errors'], 'error')} · "
        f"max depth {s['max_depth']}")
    row("kinds", ", ".join(f"{k} {n}" for k, n in info["kinds"].items()) or "-")
    if info["slowest"]:
        row("slowest", ", ".join(f"{x['node']} {fmt_ns(x['duration_ns'])}"
                                 for x in info["slowest"]))
    if h.get("tags"):
        row("tags", ", ".join(h["tags"]))
    f = info["file"]
    row("file", info["path"])
    row("size", f"{fmt_size(f['size'])}, {f['codec']}, {plural(f['frames'], 'frame')}, "
        f"{plural(f['keyframes'], 'state keyframe')}")
    row("host", f"{h.get('host') or '?'} pid {h.get('pid')} · Python {h.get('python') or '?'}")
    if h.get("config"):
        row("config", ", ".join(f"{k}={v}" for k, v in h["config"].items()))
    for key in ("entry", "replay_of"):
        if h.get(key):
            row(key, str(h[key]))
    if h.get("inputs") is not None:
        row("inputs", json_text(h["inputs"]))
    if h.get("meta"):
        row("meta", json_text(h["meta"]))
    for note in (*s.get("dropped", []), *s.get("degraded", [])):
        row("note", note, "yellow")
    row("integrity", integrity_note(info))
    print_rows(console, rows)
    return 0

"""Make the checked-in version-1 recordings in this directory. Run once; never by tests.

::

    .venv/bin/python tests/golden/make_golden.py          # refuses to overwrite
    .venv/bin/python tests/golden/make_golden.py --force  # only when adding a new golden

The files pin what format version 1 is: `tests/format/test_golden_v1.py` reads them
with today's reader and checks every field, so a later reader that stops
reading version 1 fails. Regenerating them would defeat that — add new files
for new behaviour instead, and update the expectations in the test by hand.

What is recorded, with the public API only (``record_workflow``, ``@node``):
every event kind, a retried node (``attempt`` 2), nesting (``parent``),
recursion (``depth``), a state keyframe, a patch and an empty patch, masked
secrets, a value JSON cannot hold (``$repr``), a payload over the size limit
(``$truncated``). ``v1-plain.jsonl`` and ``v1-zstd.jsonl.zst`` complete,
``v1-gzip.jsonl.gz`` fails (``workflow_error``), and
``v1-incomplete.jsonl.zst`` is the zstd file cut just before its footer — what
a crash leaves.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the repository root, for a plain `python` run

from recorder import node, record_workflow  # noqa: E402
from storage import LogReader  # noqa: E402

FILES = {
    "v1-zstd.jsonl.zst": ("zstd", False),
    "v1-gzip.jsonl.gz": ("gzip", True),
    "v1-plain.jsonl": ("none", False),
}
INCOMPLETE = "v1-incomplete.jsonl.zst"


class Opaque:
    """A value JSON cannot hold; recorded as a ``$repr`` placeholder."""

    def __repr__(self) -> str:
        return "Opaque(7)"


_flaky_calls = 0


@node("fetch", node_type="tool")
def fetch(url: str, api_key: str) -> dict[str, Any]:
    global _flaky_calls
    _flaky_calls += 1
    if _flaky_calls == 1:
        raise ConnectionError(f"{url} unreachable")
    return {"status": 200, "body": "ok"}


@node
def summarise(text: str) -> str:
    return text.upper()


@node
def big() -> str:
    return "x" * 400  # over max_payload_bytes below: recorded as $truncated


def _stable_error(path: str, value: Any) -> Any:
    """Keep tracebacks free of this machine's paths, so the file is the same anywhere."""
    if path == "error" and isinstance(value, dict) and "traceback" in value:
        return {**value, "traceback": f"Traceback (most recent call last):\n{value['type']}\n"}
    return value


def record(name: str, codec: str, fail: bool) -> None:
    global _flaky_calls
    _flaky_calls = 0
    try:
        with record_workflow(
            "golden", path=str(HERE / name), codec=codec, tags=["golden", "v1"],
            inputs={"topic": "tides", "password": "hunter2"}, meta={"purpose": "golden v1"},
            entry="tests.golden.make_golden:record", redact=_stable_error,
            max_payload_bytes=256, flush_every=4, flush_interval=60.0, keyframe_every=8,
            strict=True,
        ) as rec:
            for _ in range(2):
                with contextlib.suppress(ConnectionError):
                    fetch("https://example.org", api_key="sk-123")
            state = {"step": 1, "brief": "the tides of the north sea"}
            rec.snapshot(state)  # the first state: a keyframe
            state["step"] = 2
            rec.snapshot(state)  # a patch
            rec.snapshot(state)  # nothing changed: an empty patch
            with rec.team("crew", formation="sequential", members=["writer", "editor"]) as team:
                with team.member("writer", role="drafts"):
                    summarise("draft")
                    team.message("writer", "editor", {"draft": "DRAFT"})
                with team.member("editor"):
                    pass
                team.output = "published"
            with rec.recursion("expand", "root"), rec.recursion("expand", "child"):
                rec.checkpoint("deepest", {"level": 2})
            rec.event("note", {"opaque": Opaque(), "token": "t-1"})
            big()
            if fail:
                raise RuntimeError("golden failure")
    except RuntimeError:
        if not fail:
            raise


def main() -> None:
    force = "--force" in sys.argv[1:]
    targets = [*FILES, INCOMPLETE]
    existing = [n for n in targets if (HERE / n).exists()]
    if existing and not force:
        sys.exit(f"refusing to overwrite {', '.join(existing)}: golden files are kept forever "
                 "(pass --force only when adding a new one)")
    for n in existing:
        (HERE / n).unlink()
    for name, (codec, fail) in FILES.items():
        record(name, codec, fail)
    # What a crash leaves: the zstd recording without its footer frame and trailer.
    with LogReader.open(HERE / "v1-zstd.jsonl.zst") as reader:
        last = reader.frames[-1]
    data = (HERE / "v1-zstd.jsonl.zst").read_bytes()
    fd = os.open(HERE / INCOMPLETE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data[:last.offset + last.length])
    for n in targets:
        os.chmod(HERE / n, 0o644)  # recordings are 0600; checked-in files need not be
        print(f"{n}: {(HERE / n).stat().st_size} bytes")


if __name__ == "__main__":
    main()

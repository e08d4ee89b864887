"""Recorded text never drives the terminal: no escape sequence, no rich markup, from any command.

A recording whose workflow name, tags, meta, node / team / member names,
payloads, state keys and values, error message and dropped-payload notes
hold an OSC title change (``ESC ] 0 ; pwned BEL``), a screen clear
(``ESC [ 2 J``), a C1 CSI (``U+009B``), rich markup and a rich emoji code is
shown by every terminal command, run as a real subprocess with stdout a
pipe — so rich adds no styling of its own, and the raw bytes must hold no
control character but newline (and tab) at all. The text must still be
there, with its control characters shown visibly (``\\x1b``) and its markup
and emoji code literally.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from recorder import node, record_workflow

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MARKUP = "[bold red]x[/]"
EMOJI = ":thumbs_up:"
HOSTILE = f"\x1b]0;pwned\x07\x1b[2J{MARKUP}\x9b31m{EMOJI}"
#: Any control character a terminal could act on (newline and tab are layout).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@node(f"fetch {HOSTILE}")
def fetch(query: str) -> dict[str, str]:
    return {"answer": HOSTILE, HOSTILE: "key"}


@node(f"bulk {HOSTILE}")
def bulk() -> str:
    return HOSTILE * 100  # over max_payload_bytes: truncated, noted under this node's name


@node(f"fail {HOSTILE}")
def fail() -> None:
    raise ValueError(f"bad input {HOSTILE}\nsecond line {HOSTILE}")


def record_hostile(store: Path) -> str:
    with contextlib.suppress(RuntimeError), record_workflow(
            f"wf {HOSTILE}", store=store, tags=[HOSTILE], meta={HOSTILE: HOSTILE},
            inputs={"q": HOSTILE}, max_payload_bytes=2000) as rec:
        fetch(HOSTILE)
        bulk()
        rec.snapshot({"plain": HOSTILE, HOSTILE: 1})
        team = rec.team(f"team {HOSTILE}", formation=HOSTILE, members=[HOSTILE])
        with team, team.member(f"member {HOSTILE}"):
            team.message(HOSTILE, HOSTILE, f"hello {HOSTILE}")
        with rec.recursion(HOSTILE, f"level {HOSTILE}"):
            rec.checkpoint(f"cp {HOSTILE}", {"v": HOSTILE})
            rec.event(f"ev {HOSTILE}", HOSTILE)
        rec.snapshot({"plain": "calm", HOSTILE: 2})
        with contextlib.suppress(ValueError):
            fail()
        raise RuntimeError(f"run failed {HOSTILE}")
    assert rec.path is not None
    return rec.path


def flowtape(*argv: str, store: Path, stdin: str | None = None) -> tuple[int, str, str]:
    """``python -m replayer ARGV`` with stdout and stderr pipes; (status, stdout, stderr)."""
    env = {**os.environ, "FLOWTAPE_STORE": str(store), "COLUMNS": "120"}
    proc = subprocess.run([sys.executable, "-m", "replayer", *argv], input=(stdin or "").encode(),
                          capture_output=True, env=env, cwd=ROOT, timeout=120, check=False)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def assert_inert(text: str, command: str) -> None:
    """No control character a terminal acts on, and no markup or emoji code rendered."""
    found = CONTROL.search(text)
    around = text[max(0, found.start() - 80):found.start() + 80] if found else ""
    assert found is None, f"{command}: raw {found.group()!r} in {around!r}"  # repr: inert
    assert "👍" not in text, f"{command}: a recorded emoji code was rendered"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    store = tmp_path_factory.mktemp("hostile") / "recordings"
    store.mkdir()
    return store, record_hostile(store)


@pytest.mark.parametrize("argv", [
    ["replay", "{path}"],
    ["replay", "{path}", "--show-data", "--show-state"],
    ["replay", "{path}", "--follow"],
    ["inspect", "{path}"],
    ["inspect", "{path}", "--json"],
])
def test_commands_show_recorded_text_inert(hostile: tuple[Path, str], argv: list[str]) -> None:
    """replay (timeline, data, state, follow) and inspect show hostile text visibly, inert."""
    store, path = hostile
    argv = [a.replace("{path}", path) for a in argv]
    code, out, err = flowtape(*argv, store=store)
    assert code == 0, err
    assert err == ""
    assert_inert(out, " ".join(argv[::2]))
    if "--json" in argv:
        info = json.loads(out)  # escaped, and still the same data
        assert info["header"]["workflow"] == f"wf {HOSTILE}"
    else:
        assert "\\x1b]0;pwned\\x07\\x1b[2J" in out and MARKUP in out and EMOJI in out
        assert "\\x9b31m" in out


def stepper_script(events: int) -> list[str]:
    """Every looking command at every event, then the searching and tracing ones."""
    script = []
    for seq in range(events):
        script += [f"j {seq}", "data", "w", "state", "delta", "l", "ll", "a", "rv", "p data",
                   "pp data", "u"]
    quoted_key = json.dumps(HOSTILE, ensure_ascii=True)
    script += [
        "j 0", "break *pwned*", "break", "c", "c", "display plain", "c", "rc", "display",
        "j -1", "why plain", f"state [{quoted_key}]", f"why [{quoted_key}]",
        f"p state[{quoted_key}]", "undisplay plain", "b node_start, data['nope']", "c", "b",
        "j 0", "/pwned", "/pwned", "?pwned", "l 0", "lane", "h",
    ]
    return script


def test_stepper_shows_recorded_text_inert(hostile: tuple[Path, str]) -> None:
    """Every stepper command's output holds the recorded text visibly, never its escapes."""
    store, path = hostile
    code, out, _ = flowtape("inspect", path, "--json", store=store)
    events = json.loads(out)["summary"]["event_count"]
    script = stepper_script(events)
    code, out, err = flowtape("replay", path, "--step", store=store,
                              stdin="".join(line + "\n" for line in script))
    assert code == 0, err
    assert err == ""
    assert_inert(out, "replay --step")
    assert out.count("(flowtape) ") == len(script)
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in out and MARKUP in out and EMOJI in out
    assert "\\x9b31m" in out
    # The traceback keeps its lines; only the control characters in them are escaped.
    assert "Traceback (most recent call last):" in out


def test_error_line_shows_a_hostile_path_inert(tmp_path: Path) -> None:
    """The one-line error naming a file shows control characters in its name visibly."""
    junk = tmp_path / f"junk{HOSTILE.replace('/', '')}.jsonl.zst"
    junk.write_bytes(b"not a recording")
    for command in ("inspect", "replay"):
        code, out, err = flowtape(command, str(junk), store=tmp_path)
        assert code == 2 and out == ""
        assert err.startswith("flowtape: error: ") and len(err.splitlines()) == 1, err
        assert_inert(err, command)
        assert "\\x1b[2J" in err and MARKUP.replace("/", "") in err

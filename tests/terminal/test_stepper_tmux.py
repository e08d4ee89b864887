"""The stepper in a real terminal: `flowtape replay X --step` inside tmux, driven by keys.

A private tmux server (its own socket, no user config) runs the command in a
120x40 pane; the test types each command, waits for the next prompt and reads
the pane with ``capture-pane -p``. The same commands piped on stdin must give
the same screen — the stepper echoes piped commands after its prompt, so the
two transcripts agree line for line. Ctrl-C is a real SIGINT: from the
terminal's line discipline in tmux, and sent to the process when commands
come through a pipe.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _tools import require_tool
from stepper_recordings import record_shop

pytestmark = [pytest.mark.slow, pytest.mark.tools]

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ["n", "b", "j 10", "s", "break node_error", "c", "w", "q"]
PROMPT = "(flowtape) "
#: Generous: only a hung stepper gets near it; nothing is timed.
WAIT_SECONDS = 30.0


class Tmux:
    """One private tmux server with one 120x40 session running a command."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmux = require_tool("tmux")
        self.socket = str(tmp_path / "tmux.sock")
        self.config = tmp_path / "tmux.conf"
        self.config.write_text("set -g remain-on-exit on\nset -g history-limit 10000\n")

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> str:
        proc = subprocess.run([self.tmux, "-S", self.socket, "-f", str(self.config), *args],
                              capture_output=True, text=True, timeout=30, env=env, check=True)
        return proc.stdout

    def start(self, argv: list[str], env: dict[str, str]) -> None:
        """Run ``argv`` in the pane; a last line ``exit=N`` gives its status (tmux's own
        ``pane_dead_status`` is sometimes never filled in). The shell traps SIGINT (a
        trap, not an ignore: the command still gets Ctrl-C) so it lives to print it."""
        script = f'trap : INT; {shlex.join(argv)}; echo "exit=$?"'
        self("new-session", "-d", "-x", "120", "-y", "40", "-s", "flowtape",
             "-c", str(ROOT), shlex.join(["sh", "-c", script]), env=env)

    def type(self, line: str, *, enter: bool = True) -> None:
        if line:
            self("send-keys", "-t", "flowtape", "-l", line)
        if enter:
            self("send-keys", "-t", "flowtape", "Enter")

    def ctrl_c(self) -> None:
        self("send-keys", "-t", "flowtape", "C-c")

    def screen(self) -> str:
        """The whole pane, scrollback included, without trailing blank lines."""
        text = self("capture-pane", "-p", "-J", "-t", "flowtape", "-S", "-", "-E", "-")
        lines = [line.rstrip() for line in text.splitlines()]
        lines = [line for line in lines if not line.startswith("Pane is dead")]
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines) + "\n"

    def wait(self, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not done():
            if time.monotonic() > deadline:
                pytest.fail(f"the stepper did not answer in {WAIT_SECONDS}s; screen:\n"
                            + self.screen())
            time.sleep(0.05)

    def kill(self) -> None:
        subprocess.run([self.tmux, "-S", self.socket, "kill-server"], capture_output=True,
                       timeout=30, check=False)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    t = Tmux(tmp_path)
    yield t
    t.kill()


def command(path: str) -> list[str]:
    return [sys.executable, "-m", "replayer", "replay", path, "--step"]


def prompt_ready(tmux: Tmux, count: int) -> Callable[[], bool]:
    """True once the pane shows ``count`` prompts and ends on an empty one."""
    def ready() -> bool:
        text = tmux.screen()  # lines come right-stripped: the empty prompt ends in ")"
        return text.count(PROMPT.rstrip()) >= count and text.endswith(PROMPT.rstrip() + "\n")
    return ready


def answers(transcript: str) -> dict[str, str]:
    """What the stepper printed after each command, keyed by the command."""
    parts = transcript.split("\n" + PROMPT)
    out = {}
    for part in parts[1:]:
        cmd, _, rest = part.partition("\n")
        out[cmd.strip()] = rest.rstrip("\n")
    return out


def session(tmux: Tmux, path: str, env: dict[str, str]) -> str:
    """Type COMMANDS into the stepper one by one, each after its prompt; the final screen."""
    tmux.start(command(path), env)
    tmux.wait(prompt_ready(tmux, 1))
    for i, line in enumerate(COMMANDS[:-1], start=2):
        tmux.type(line)
        tmux.wait(prompt_ready(tmux, i))
    tmux.type("q")
    tmux.wait(lambda: "\nexit=" in tmux.screen())
    screen, _, status = tmux.screen().rpartition("exit=")
    assert status.strip() == "0"  # q leaves with status 0
    return screen


def environment(store: Path) -> dict[str, str]:
    env = {**os.environ, "FLOWTAPE_STORE": str(store)}
    env.pop("COLUMNS", None)  # the terminal's own width (120) applies
    return env


def test_step_in_a_real_terminal(tmux: Tmux, store: Path) -> None:
    """Keys typed into tmux move the cursor, show state, stop at a breakpoint, and quit."""
    got = answers(session(tmux, record_shop(store), environment(store)))
    assert list(got) == COMMANDS
    assert "node_start load_cart" in got["n"]
    assert "workflow_start shop" in got["b"]
    assert ">   10 " in got["j 10"] and "team_member_complete a" in got["j 10"]
    assert got["s"] == 'state = {"cart": {"items": ["apple", "pear"]}, "total": 0}'
    assert got["break node_error"] == "Breakpoint 1 at kind node_error"
    assert "breakpoint 1 (node_error) at seq 15" in got["c"]
    assert "node_error checkout" in got["c"] and "ValueError: card declined" in got["c"]
    assert got["w"] == ("  workflow shop  (seq 0)\n"
                        ">   node checkout  (seq 14, fails here)")
    assert got["q"] == ""


def test_piped_commands_give_the_same_screen(tmux: Tmux, store: Path) -> None:
    """The command list piped on stdin prints exactly what the terminal session showed."""
    path = record_shop(store)
    env = environment(store)
    on_terminal = session(tmux, path, env)

    piped = subprocess.run(command(path), input="".join(c + "\n" for c in COMMANDS),
                           capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
                           env={**env, "COLUMNS": "120"})
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""
    assert [line.rstrip() for line in piped.stdout.splitlines()] == on_terminal.splitlines()


def test_ctrl_c_in_a_real_terminal_discards_the_line(tmux: Tmux, store: Path) -> None:
    """Ctrl-C drops the half-typed line and gives a fresh prompt; it never repeats a command."""
    tmux.start(command(record_shop(store)), environment(store))
    tmux.wait(prompt_ready(tmux, 1))
    tmux.type("n")
    tmux.wait(prompt_ready(tmux, 2))
    tmux.type("j 10", enter=False)  # typed, not entered
    tmux.wait(lambda: tmux.screen().endswith(PROMPT + "j 10\n"))  # on screen, as a user sees it
    tmux.ctrl_c()
    tmux.wait(prompt_ready(tmux, 3))
    tmux.type("")  # an empty line still repeats the last command run: n
    tmux.wait(prompt_ready(tmux, 4))
    tmux.type("q")
    tmux.wait(lambda: "\nexit=" in tmux.screen())
    screen, _, status = tmux.screen().rpartition("exit=")
    assert status.strip() == "0"
    lines = screen.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(PROMPT + "j 10"))
    assert lines[at] == PROMPT + "j 10^C"  # shown as discarded, as a shell does
    assert lines[at + 1] == PROMPT.rstrip()  # the fresh prompt, with nothing run in between
    assert "node_complete load_cart" in lines[at + 2]  # the empty line ran n: seq 1 -> 2
    assert ">   10 " not in screen


def _blocked_reading(proc: subprocess.Popen[str], pipe_fd: int) -> bool:
    """True once ``proc`` has read everything written to its stdin and sleeps waiting for more."""
    unread = struct.unpack("i", fcntl.ioctl(pipe_fd, termios.FIONREAD, b"\0" * 4))[0]
    if unread:
        return False
    stat = Path(f"/proc/{proc.pid}/stat").read_text()
    return stat.rpartition(")")[2].split()[0] == "S"


def _read_until(proc: subprocess.Popen[str], needle: str) -> str:
    """Lines of ``proc``'s stdout up to the first one holding ``needle``."""
    assert proc.stdout is not None
    seen = ""
    while needle not in seen.rpartition("\n")[0]:
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"the stepper ended before printing {needle!r}; it printed:\n{seen}")
        seen += line
    return seen


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc to see it waits")
def test_ctrl_c_with_piped_commands_discards_the_line(store: Path) -> None:
    """SIGINT while the stepper waits for piped input: a fresh prompt, the partial line gone."""
    env = {**environment(store), "COLUMNS": "120"}
    proc = subprocess.Popen(command(record_shop(store)), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env)
    assert proc.stdin is not None
    try:
        proc.stdin.write("n\n")
        proc.stdin.flush()
        out = _read_until(proc, "node_start load_cart")
        proc.stdin.write("j 10")  # a partial line, then Ctrl-C
        proc.stdin.flush()
        deadline = time.monotonic() + WAIT_SECONDS
        while not _blocked_reading(proc, proc.stdin.fileno()):
            assert time.monotonic() < deadline, "the stepper never waited for input"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out += _read_until(proc, PROMPT + "^C")
        # The empty line repeats n, not the discarded `j 10`.
        rest, err = proc.communicate("\nq\n", timeout=WAIT_SECONDS)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert err == ""
    lines = [line.rstrip() for line in (out + rest).splitlines()]
    at = lines.index(PROMPT + "^C")
    assert "node_start load_cart" in lines[at - 1]  # nothing ran on Ctrl-C
    assert lines[at + 1] == PROMPT.rstrip()
    assert "node_complete load_cart" in lines[at + 2]
    assert lines[at + 3:] == [PROMPT + "q"]

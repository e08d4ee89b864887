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
from stepper_recordings import record_debugger, record_shop

pytestmark = [pytest.mark.slow, pytest.mark.tools]

ROOT = Path(__file__).resolve().parents[2]
#: What is typed into the terminal, one line each (a tab is the Tab key) …
TYPED = ["s", "n", "rn", "j 19", "w", "r", "rr", "r", "u", "a", "rv", "d", "rv",
         "b research, data['outputs']['score'] < 0.5", "b pub\t", "c", "p data.outputs.score",
         "w", "tbreak node_error", "b", "rc", "c", "c", "c", "disable 2", "lane alice", "j 28",
         "s", "s", "rs", "lane -", "s", "j 2", "unt", "display x", "rc", "undisplay",
         "/publish", "?fetch", "state pa\t", "p state.x", "pp inputs", "delta", "l", "", "ll",
         "why x", "h n", "q"]
#: … and the commands they are (Tab completed them), as a pipe gives them.
COMMANDS = [line.replace("b pub\t", "b publish").replace("state pa\t", "state pages")
            for line in TYPED]
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


def answers(transcript: str) -> list[tuple[str, str]]:
    """Each command with what the stepper printed after it, in order."""
    parts = transcript.replace("\n" + PROMPT.rstrip() + "\n", "\n" + PROMPT + "\n") \
        .split("\n" + PROMPT)
    out = []
    for part in parts[1:]:
        cmd, _, rest = part.partition("\n")
        out.append((cmd.strip(), rest.rstrip("\n")))
    return out


def session(tmux: Tmux, path: str, env: dict[str, str]) -> str:
    """Type TYPED into the stepper one by one, each after its prompt; the final screen."""
    tmux.start(command(path), env)
    tmux.wait(prompt_ready(tmux, 1))
    for i, line in enumerate(TYPED[:-1], start=2):
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
    """Keys typed into tmux step into, over and out of spans and back, read frames, stop at
    conditional breakpoints, follow a lane, complete names with Tab, and quit."""
    got = answers(session(tmux, record_debugger(store), environment(store)))
    assert [cmd for cmd, _ in got] == COMMANDS  # Tab completed `b pub` and `state pa`
    said = [answer for _, answer in got]
    at = {cmd: i for i, cmd in reversed(list(enumerate(COMMANDS)))}  # a command's first use
    assert "node_start fetch" in said[at["n"]] and ">    1 " in said[at["rn"]]
    assert said[at["w"]].endswith("node inner  (seq 19, lane MainThread, starts here)")
    assert "node_complete inner  (start 19)" in said[at["r"]]
    assert said[at["u"]] == ">     node middle  (seq 18, lane MainThread)"
    assert said[at["a"]] == "n = 2"
    assert said[at["rv"]] == "node middle (seq 18) has not ended at seq 20 (it ends at seq 21)."
    assert said[at["rv"] + 2] == 'node inner ended at seq 20:\noutputs = {"y": 14}'
    assert said[at["b publish"]] == "Breakpoint 2 at node publish"
    assert said[at["c"]].startswith("breakpoint 1 (research) at seq 34\n>   34 ")
    assert said[at["p data.outputs.score"]] == "data.outputs.score = 0.4"
    assert said[at["rc"]].startswith("breakpoint 3 (node_error) at seq 24\n"
                                     "Deleted temporary breakpoint 3.")
    # Following lane alice, s from her member's start skips bob's and carol's (seq 29, 30).
    assert said[at["j 28"] + 1].startswith(">   31 ") and "alice" in said[at["j 28"] + 1]
    assert said[at["state pages"]] == "pages = 2"
    assert said[-1] == ""


def test_piped_commands_give_the_same_screen(tmux: Tmux, store: Path) -> None:
    """The command list piped on stdin prints exactly what the terminal session showed."""
    path = record_debugger(store)
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
    tmux.type("s")
    tmux.wait(prompt_ready(tmux, 2))
    tmux.type("j 10", enter=False)  # typed, not entered
    tmux.wait(lambda: tmux.screen().endswith(PROMPT + "j 10\n"))  # on screen, as a user sees it
    tmux.ctrl_c()
    tmux.wait(prompt_ready(tmux, 3))
    tmux.type("")  # an empty line still repeats the last command run: s
    tmux.wait(prompt_ready(tmux, 4))
    tmux.type("q")
    tmux.wait(lambda: "\nexit=" in tmux.screen())
    screen, _, status = tmux.screen().rpartition("exit=")
    assert status.strip() == "0"
    lines = screen.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(PROMPT + "j 10"))
    assert lines[at] == PROMPT + "j 10^C"  # shown as discarded, as a shell does
    assert lines[at + 1] == PROMPT.rstrip()  # the fresh prompt, with nothing run in between
    assert "node_complete load_cart" in lines[at + 2]  # the empty line ran s: seq 1 -> 2
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
        proc.stdin.write("s\n")
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
        # The empty line repeats s, not the discarded `j 10`.
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

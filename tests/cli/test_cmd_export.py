"""`flowtape export -o FILE`: the format comes from --format, else from FILE's suffix.

``.dot``/``.gv``, ``.json``, ``.mmd``, ``.md`` and ``.txt`` are text
exports; ``.svg`` and ``.png`` are the DOT export drawn by Graphviz's
``dot``; any other suffix without --format is an error (exit 2) that lists
the known ones, and writes nothing. The real command runs in a subprocess,
with the real ``dot`` — or, to see how a missing or failing ``dot`` is
reported, with a PATH that has none, or a ``dot`` that fails.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from _tools import require_tool

from recorder import node, record_workflow


@node("fetch")
def fetch(url: str) -> str:
    return f"<html>{url}</html>"


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "run.jsonl.zst"
    with record_workflow("fetcher", path=str(path)):
        fetch("https://example.org")
    return path


def flowtape(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "replayer", *args], capture_output=True,
                          text=True, timeout=120, check=False, env=env)


@pytest.mark.tools
def test_svg_suffix_renders_the_graph_with_graphviz(recording: Path, tmp_path: Path) -> None:
    """-o run.svg writes an SVG drawing of the run (not the text summary), owner-only."""
    require_tool("dot")
    out = tmp_path / "run.svg"
    done = flowtape("export", str(recording), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "wrote the svg export" in done.stdout
    svg = out.read_text(encoding="utf-8")
    assert "<svg" in svg and "</svg>" in svg and "fetcher" in svg and "fetch" in svg
    assert "ran 1 node" not in svg  # not the summary
    assert stat.S_IMODE(out.stat().st_mode) & 0o077 == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.svg"]


@pytest.mark.tools
def test_png_suffix_renders_a_png(recording: Path, tmp_path: Path) -> None:
    """-o run.PNG (any case) writes a PNG image."""
    require_tool("dot")
    out = tmp_path / "run.PNG"
    done = flowtape("export", str(recording), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(("name", "start"), [("run.gv", "digraph "), ("run.txt", "fetcher · "),
                                             ("run.json", '{"header":')])
def test_text_suffixes_choose_their_format(recording: Path, tmp_path: Path, name: str,
                                           start: str) -> None:
    """.gv is DOT, .txt the summary, .json the whole recording."""
    out = tmp_path / name
    done = flowtape("export", str(recording), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith(start)


def test_format_option_wins_over_the_suffix(recording: Path, tmp_path: Path) -> None:
    """--format json -o run.svg writes what was asked for: JSON."""
    out = tmp_path / "run.svg"
    done = flowtape("export", str(recording), "--format", "json", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["header"]["workflow"] == "fetcher"


@pytest.mark.parametrize("name", ["run.xyz", "report", "run.pdf"])
def test_unknown_suffix_is_an_error_listing_the_known_ones(recording: Path, tmp_path: Path,
                                                           name: str) -> None:
    """An unknown (or missing) suffix without --format: exit 2, the known suffixes, no file."""
    done = flowtape("export", str(recording), "-o", str(tmp_path / name))
    assert done.returncode == 2
    err = done.stderr
    assert err.startswith("flowtape: error: ") and name in err and "--format" in err
    for suffix in (".dot", ".gv", ".json", ".mmd", ".md", ".txt", ".svg", ".png"):
        assert suffix in err
    assert list(tmp_path.iterdir()) == []


def test_html_suffix_writes_the_self_contained_page(recording: Path, tmp_path: Path) -> None:
    """-o run.html without --format writes the html report, owner-only, with its CSP."""
    out = tmp_path / "run.html"
    done = flowtape("export", str(recording), "-o", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert page.lower().startswith("<!doctype html>") and "Content-Security-Policy" in page
    assert out.stat().st_mode & 0o777 == 0o600


def test_svg_without_graphviz_says_what_to_install(recording: Path, tmp_path: Path) -> None:
    """With no `dot` on PATH, -o run.svg is exit 2 naming Graphviz and the .dot way out."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    empty = tmp_path / "bin"
    empty.mkdir()
    done = flowtape("export", str(recording), "-o", str(out_dir / "run.svg"),
                    env={**os.environ, "PATH": str(empty)})
    assert done.returncode == 2
    assert "Graphviz" in done.stderr and "run.svg" in done.stderr and ".dot" in done.stderr
    assert list(out_dir.iterdir()) == []


def test_svg_when_dot_fails_reports_its_error(recording: Path, tmp_path: Path) -> None:
    """A `dot` that fails: exit 2 with what it said, and no half-written file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "dot"
    fake.write_text("#!/bin/sh\necho 'Error: out of crayons' >&2\nexit 3\n", encoding="utf-8")
    fake.chmod(0o755)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    done = flowtape("export", str(recording), "-o", str(out_dir / "run.svg"),
                    env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    assert done.returncode == 2
    assert "out of crayons" in done.stderr and "run.svg" in done.stderr
    assert list(out_dir.iterdir()) == []

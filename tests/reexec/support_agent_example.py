"""The support-agent example (examples/support_agent.py), loaded for the tests as a module."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import zstandard

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support_agent.py"
#: The bug fix README.md tells the reader to make (the 3 a.m. story).
BUGGY = 'eta = order["eta"][:10]'
FIXED = 'eta = (order["eta"] or "")[:10] or "not known yet"'


def load() -> ModuleType:
    """examples/support_agent.py imported as the module ``support_agent``."""
    if "support_agent" in sys.modules:
        return sys.modules["support_agent"]
    spec = importlib.util.spec_from_file_location("support_agent", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["support_agent"] = module
    spec.loader.exec_module(module)
    return module


def copy_to(directory: Path) -> Path:
    """A copy of the example in ``directory`` (where `flowtape rerun` imports it from)."""
    target = directory / "support_agent.py"
    shutil.copyfile(EXAMPLE, target)
    assert BUGGY in target.read_text()
    return target


def plain_bytes(path: Path) -> bytes:
    """A recording's whole content, decompressed (as `zstdcat` prints it)."""
    with open(path, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(
            raw, read_across_frames=True) as f:
        return f.read()


def apply_fix(example: Path) -> None:
    """Make the fix README.md shows (the same edit as its `sed` line)."""
    example.write_text(example.read_text().replace(BUGGY, FIXED))

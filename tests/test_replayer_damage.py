"""The read side on damaged files and closed pipes: recover what can be read, fail cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from recorder import node, record_workflow
from replayer import Replayer
from storage import CorruptRecordingError


@node
def work(i: int) -> int:
    return i * i


def _damaged(tmp_path: Path) -> str:
    """A finished recording whose second event frame has one byte flipped."""
    with record_workflow("damaged", store=tmp_path, flush_every=16) as rec:
        for i in range(100):
            work(i)
    assert rec.path is not None
    with Replayer.open(rec.path) as r:
        frame = r.reader.frames[1]
    with open(rec.path, "r+b") as f:
        f.seek(frame.offset + frame.length // 2)
        byte = f.read(1)
        f.seek(frame.offset + frame.length // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    return rec.path


def test_spans_skip_a_damaged_frame_when_recovering(tmp_path: Path) -> None:
    """With recover=True, spans() steps over a damaged frame and notes it; without, it raises."""
    path = _damaged(tmp_path)
    with Replayer.open(path) as r, pytest.raises(CorruptRecordingError, match="frame 2"):
        r.spans()
    with Replayer.open(path, recover=True) as r:
        spans = r.spans()
        assert spans and spans[0].kind == "workflow"
        assert [s.frame for s in r.reader.skipped] == [2]


def test_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    """`flowtape replay X | head -1`: the command stops without an error message."""
    with record_workflow("long", store=tmp_path) as rec:
        for i in range(3000):
            work(i)
    reader, writer = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "replayer", "replay", str(rec.path)],
                            stdout=writer, stderr=subprocess.PIPE)
    os.close(writer)
    with os.fdopen(reader, "rb") as out:
        assert out.readline()  # read one line, then hang up
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141, err
    assert b"error" not in err.lower(), err

"""A frame that declares or inflates to more than 16 MiB is corrupt, and costs the reader little.

The writer never makes a frame over 16 MiB decompressed (SPEC §3), so a
reader refuses a bigger one as corrupt — before allocating what its header
declares, and while inflating, at the cap. A 33 KB zstd frame that would
expand to 1 GiB must leave `LogReader`, `Replayer` and `check_file` well
under 200 MB of memory, measured in a fresh process (issue 10, item 6).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from bad_files import (
    event_line,
    gzip_bomb,
    gzip_frame,
    header_line,
    plain,
    zstd_bomb,
    zstd_frame,
)

from storage import CorruptRecordingError, LogReader
from storage.format.codec import codec_for_name

REPO = Path(__file__).resolve().parents[2]
MIB = 1 << 20

_AFTER = event_line(1, "custom", data={"name": "after"})


def _zstd_file(bomb: bytes) -> bytes:
    """A header frame, an event frame, the bomb as the second event frame, one more frame."""
    return (zstd_frame(header_line()) + zstd_frame(event_line(0, "workflow_start", node="w"))
            + bomb + zstd_frame(_AFTER))


def _gzip_file(bomb: bytes) -> bytes:
    return (gzip_frame(header_line()) + gzip_frame(event_line(0, "workflow_start", node="w"))
            + bomb + gzip_frame(_AFTER))


#: (id, the file's bytes) — each bomb sits where event frame 2 belongs.
BOMBS: list[tuple[str, Callable[[], bytes]]] = [
    ("zstd, 1 GiB declared", lambda: _zstd_file(zstd_bomb(1 << 30))),
    ("zstd, 1 GiB not declared", lambda: _zstd_file(zstd_bomb(1 << 30, declared=False))),
    ("zstd, 17 MiB not declared", lambda: _zstd_file(zstd_bomb(17 * MIB, declared=False))),
    ("gzip, 64 MiB", lambda: _gzip_file(gzip_bomb(64 * MIB))),
]


@pytest.mark.parametrize("build", [pytest.param(b, id=i) for i, b in BOMBS])
def test_bomb_frame_is_corrupt_and_skipped_with_recover(tmp_path: Path,
                                                        build: Callable[[], bytes]) -> None:
    """The bomb is frame 2, named as over 16 MiB; recover reads the frames around it."""
    path = tmp_path / "bomb.jsonl.zst"
    path.write_bytes(build())
    with pytest.raises(CorruptRecordingError, match=r"frame 2.*16 MiB"), \
            LogReader.open(path) as reader:
        list(reader.iter_events())
    with LogReader.open(path, recover=True) as reader:
        assert [e.seq for e in reader.iter_events()] == [0, 1]
        assert [s.frame for s in reader.skipped] == [2]
        assert "16 MiB" in reader.skipped[0].reason


def test_bomb_as_header_frame_is_corrupt(tmp_path: Path) -> None:
    """A header frame declaring 1 GiB is refused before it is inflated."""
    path = tmp_path / "bomb.jsonl.zst"
    path.write_bytes(zstd_bomb(1 << 30) + zstd_frame(_AFTER))
    with pytest.raises(CorruptRecordingError, match=r"frame 0.*16 MiB"):
        LogReader.open(path, recover=True)


def test_bomb_behind_the_trailer_is_not_the_footer(tmp_path: Path) -> None:
    """A trailer pointing at a bomb: the footer is refused, the events read by scanning."""
    codec = codec_for_name("zstd")
    body = zstd_frame(header_line()) + zstd_frame(event_line(0, "workflow_start", node="w"))
    bomb = zstd_bomb(1 << 30)
    path = tmp_path / "bomb.jsonl.zst"
    path.write_bytes(body + bomb + codec.make_trailer(len(body), len(bomb)))
    with LogReader.open(path, recover=True) as reader:
        assert reader.footer is None
        assert [e.seq for e in reader.iter_events()] == [0]
        assert reader.skipped and "16 MiB" in reader.skipped[0].reason


@pytest.mark.parametrize("codec", ["zstd", "gzip"])
def test_a_frame_just_under_the_cap_reads(tmp_path: Path, codec: str) -> None:
    """An event line of 15 MiB in one frame is within the limit and reads back whole."""
    line = event_line(0, "custom", data={"name": "big", "value": "x" * (15 * MIB)})
    frame = zstd_frame if codec == "zstd" else gzip_frame
    path = tmp_path / "big.jsonl"
    path.write_bytes(frame(header_line()) + frame(line))
    with LogReader.open(path) as reader:
        (event,) = reader.iter_events()
    assert len(event.data["value"]) == 15 * MIB


def test_frames_without_a_content_size_read(tmp_path: Path) -> None:
    """zstd frames whose header leaves out the content size (streaming tools) still decode."""
    path = tmp_path / "streamed.jsonl.zst"
    path.write_bytes(zstd_frame(header_line(), content_size=False)
                     + zstd_frame(event_line(0, "workflow_start", node="w") + _AFTER,
                                  content_size=False))
    with LogReader.open(path) as reader:
        assert [e.seq for e in reader.iter_events()] == [0, 1]


def test_a_plain_line_over_the_cap_is_corrupt(tmp_path: Path) -> None:
    """In a plain file the limit holds for one line: a 17 MiB line is refused as corrupt."""
    path = tmp_path / "long.jsonl"
    path.write_bytes(plain(event_line(0), event_line(1, data={"x": " " * (17 * MIB)}),
                           event_line(2)))
    with pytest.raises(CorruptRecordingError, match="16 MiB"), LogReader.open(path) as reader:
        list(reader.iter_events())
    with LogReader.open(path, recover=True) as reader:
        assert [e.seq for e in reader.iter_events()] == [0, 2]


_MEASURE = textwrap.dedent("""
    import sys
    from replayer import Replayer
    from storage import FlowtapeError, LogReader
    from storage.format.integrity import check_file

    path = sys.argv[1]
    for recover in (False, True):
        try:
            with LogReader.open(path, recover=recover) as reader:
                for _ in reader.iter_events():
                    pass
        except FlowtapeError:
            pass
        try:
            with Replayer.open(path, recover=recover) as r:
                len(r), r.spans(), list(r.events), r.summary
        except FlowtapeError:
            pass
    assert check_file(path).verdict == "damaged"
    # VmHWM is this process image's own peak; ru_maxrss would also count the pytest
    # worker's pages the child shared between fork and exec.
    with open("/proc/self/status") as status:
        hwm = next(line for line in status if line.startswith("VmHWM:"))
    print(int(hwm.split()[1]) // 1024)
""")


@pytest.mark.parametrize("build", [
    pytest.param(lambda: _zstd_file(zstd_bomb(1 << 30)), id="zstd 33 KB -> 1 GiB declared"),
    pytest.param(lambda: _zstd_file(zstd_bomb(1 << 30, declared=False)),
                 id="zstd 33 KB -> 1 GiB not declared"),
    pytest.param(lambda: _gzip_file(gzip_bomb(256 * MIB)), id="gzip 1 MB -> 256 MiB"),
])
def test_bombs_cost_little_memory(tmp_path: Path, build: Callable[[], bytes]) -> None:
    """Opening, iterating, spans and check_file over a bomb stay under 200 MB peak RSS."""
    path = tmp_path / "bomb.jsonl.zst"
    path.write_bytes(build())
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True,
                          text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    peak_mb = int(proc.stdout.strip())
    assert peak_mb < 200, f"peak RSS {peak_mb} MB"

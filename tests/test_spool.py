"""The spool directory of directly made recorders is private (issue 10.15).

``/tmp/flowtape-spool-<uid>`` holds the working file of an
``ExecutionRecorder`` made without a store (SPEC §9), which ``save()`` later
publishes. Another user who could write there could swap that file, so the
recorder creates the directory 0700, and refuses — recording nothing,
logging why, never raising into the workflow — one that is not a plain
directory owned by this user and closed to others. Files in it are opened
without following symlinks.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pytest

from recorder import ExecutionRecorder
from storage import Header, LogWriter, RecordingWriteError


@pytest.fixture
def tmpdir_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the temporary directory the spool goes under."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def spool_of(root: Path) -> Path:
    return root / f"flowtape-spool-{os.getuid()}"


def run_direct() -> ExecutionRecorder:
    rec = ExecutionRecorder("wf")
    rec.record_workflow_start()
    rec.record_node_start("n", {"x": 1})
    rec.record_node_complete("n", {"y": 2})
    rec.finalize()
    return rec


def test_the_spool_directory_is_created_owner_only(tmpdir_root: Path) -> None:
    """A fresh spool directory is 0700 even under a permissive umask."""
    old = os.umask(0)
    try:
        rec = run_direct()
    finally:
        os.umask(old)
    spool = spool_of(tmpdir_root)
    assert spool.stat().st_mode & 0o777 == 0o700
    assert rec.path is not None and Path(rec.path).parent == spool


@pytest.mark.parametrize("how", ["world-writable", "group-writable", "other-owner", "symlink"])
def test_an_unsafe_spool_directory_is_refused(how: str, tmpdir_root: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    """A spool directory others can write, owned by another user, or a link: nothing recorded."""
    spool = spool_of(tmpdir_root)
    if how == "symlink":
        elsewhere = tmpdir_root / "elsewhere"
        elsewhere.mkdir(mode=0o700)
        spool.symlink_to(elsewhere)
        watched = elsewhere
    else:
        spool.mkdir()
        os.chmod(spool, {"world-writable": 0o777, "group-writable": 0o770,
                         "other-owner": 0o700}[how])
        if how == "other-owner":
            os.chown(spool, os.getuid() + 4242, -1)
        watched = spool
    with caplog.at_level(logging.ERROR, logger="flowtape"):
        rec = run_direct()
    assert list(watched.iterdir()) == []
    assert rec.summary().degraded
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert str(spool) in errors[0] and "spool" in errors[0]


def test_spool_files_are_not_opened_through_a_symlink(tmp_path: Path) -> None:
    """A symlink planted at a recording's name is refused; its target stays untouched."""
    target = tmp_path / "target"
    target.write_bytes(b"keep")
    link = tmp_path / "rec.jsonl.zst"
    link.symlink_to(target)
    header = Header(recording_id="r1", workflow="wf", started_at="")
    with pytest.raises(RecordingWriteError):
        LogWriter(link, header)
    assert target.read_bytes() == b"keep"

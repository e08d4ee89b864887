"""A recording is ``running`` while its writer holds the file's lock, ``incomplete`` once not.

The writer holds an exclusive ``flock`` on its file until it closes it; the
kernel drops it when the process dies. The stores ask that lock, as
`LogReader.status` does, so `list`, `get`, `verify ID` and `reindex` agree
with the reader: a live child's run is running everywhere, a killed one's
is incomplete, and a file closed without a footer by a process that is still
alive (its footer could not be written) is incomplete, not running forever.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from store_recordings import kill, running_victim, write_without_footer

from replayer.cli import main
from storage import FileStore, RetentionPolicy


def flowtape(capsys: pytest.CaptureFixture[str], store: Path, *argv: str) -> tuple[int, str]:
    """Run the command in-process against ``store``: (exit code, stdout)."""
    code = main(["--store", str(store), *argv])
    return code, capsys.readouterr().out


@pytest.mark.slow
def test_a_live_writer_is_running_everywhere_and_a_killed_one_incomplete(
        store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """list, get, open, verify ID and reindex say running while the child lives; incomplete
    (verify: exit 1) once it was killed."""
    s = FileStore(store)
    with running_victim(str(store)) as (proc, rid):
        assert s.get(rid).status == "running"
        code, out = flowtape(capsys, store, "list", "--json")
        assert [r["status"] for r in json.loads(out)] == ["running"]
        with s.open(rid) as reader:
            assert reader.status == "running"
        code, out = flowtape(capsys, store, "verify", rid)
        assert code == 0 and out.rstrip().endswith("OK so far: still being written")
        assert s.reindex().running == [rid]
        kill(proc)
    assert s.get(rid).status == "incomplete"
    code, out = flowtape(capsys, store, "verify", rid)
    assert code == 1 and "INCOMPLETE: the writer died before the footer" in out
    code, out = flowtape(capsys, store, "list", "--json")
    assert [r["status"] for r in json.loads(out)] == ["incomplete"]


def test_a_file_closed_without_a_footer_by_a_live_process_is_incomplete(store: Path) -> None:
    """This process is alive, but holds no lock on the file it closed: the row is incomplete,
    in list, in reindex and to the reader alike."""
    s = FileStore(store)
    rid = write_without_footer(s)
    info = s.get(rid)
    assert (info.status, info.event_count) == ("incomplete", 3)
    with s.open(rid) as reader:
        assert reader.status == "incomplete"
    result = s.reindex()
    assert (result.running, result.incomplete) == ([], [rid])
    assert s.apply_retention(RetentionPolicy(max_count=0), dry_run=True).protected == 1


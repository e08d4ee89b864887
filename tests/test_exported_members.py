"""The public surface of each package, pinned (as httpx's test_exported_members.py does).

A name added to or dropped from a package's ``__all__`` must show up here, in
review. The dependency rule of SPEC §2 is checked in fresh interpreters:
``storage`` imports neither ``recorder`` nor ``replayer``, and those two do not
import each other.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

import recorder
import replayer
import storage

ROOT = Path(__file__).resolve().parent.parent

RECORDER_ALL = [
    "DEFAULT_REDACT_KEYS",
    "DEFAULT_REDACT_PATTERNS",
    "REDACTED",
    "Divergence",
    "ExecutionRecorder",
    "RecordedNodeError",
    "RecorderError",
    "RecorderOptions",
    "RecordingMetadata",
    "RecordingWriteError",
    "ReexecReport",
    "Reexecution",
    "ReplayDivergenceError",
    "StateSnapshot",
    "TeamRecorder",
    "WorkflowRecording",
    "disable_workflow_recording",
    "enable_workflow_recording",
    "get_current_recorder",
    "node",
    "record_workflow",
    "reexecute",
]

STORAGE_ALL = [
    # storage.errors
    "AmbiguousIdError",
    "CorruptRecordingError",
    "FlowtapeError",
    "InvalidIdError",
    "MissingExtraError",
    "NotARecordingError",
    "PatchError",
    "RecordingNotFoundError",
    "RecordingReadError",
    "RecordingWriteError",
    "StoreError",
    "UnsupportedVersionError",
    # storage.format
    "CODECS",
    "DEFAULT_FLUSH_EVERY",
    "DEFAULT_FLUSH_INTERVAL",
    "DEFAULT_KEYFRAME_EVERY",
    "END_KINDS",
    "EVENT_KINDS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "START_KINDS",
    "Counts",
    "Event",
    "Footer",
    "Header",
    "LineTooLong",
    "LogReader",
    "LogWriter",
    "RecordingEventType",
    "SeekIndex",
    "SkippedFrame",
    "copy_recording",
    "file_checksum",
    "is_placeholder",
    "is_repr",
    "is_truncated",
    "suffix_for_codec",
    # storage.stores
    "STORE_SCHEMES",
    "FileStore",
    "FsspecStore",
    "MemoryStore",
    "RecordingInfo",
    "RecordingQuery",
    "ReindexResult",
    "RetentionItem",
    "RetentionPolicy",
    "RetentionResult",
    "Store",
    "StoreStats",
    "UploadResult",
    "VerifyResult",
    "default_store_url",
    "is_valid_id",
    "new_recording_id",
    "open_store",
    "validate_id",
    # storage.analysis
    "Change",
    "DiffOptions",
    "EventView",
    "FirstDivergence",
    "NodeChange",
    "RecordingDiff",
    "RegressionPolicy",
    "Span",
    "StateChanges",
    "StateSnapshot",
    "StateTracker",
    "Step",
    "TimingRegression",
    "UnknownState",
    "apply_patch",
    "build_spans",
    "diff_recordings",
    "format_value",
    "iter_event_views",
    "iter_snapshots",
    "make_patch",
    # storage.dataset
    "dataset",
]


REPLAYER_ALL = [
    "EXPORTERS",
    "EventNotFoundError",
    "ExecutionReplayer",
    "FileRecordingStorage",
    "InMemoryRecordingStorage",
    "RecordingDiff",
    "RegressionPolicy",
    "ReplayMetadata",
    "Replayer",
    "ReplayerError",
    "Span",
    "StateUnknownError",
    "Stepper",
    "Summary",
    "diff",
    "export",
    "print_report",
    "write_export",
]


def test_replayer_all_is_pinned() -> None:
    """replayer's public surface is exactly these names."""
    assert replayer.__all__ == REPLAYER_ALL


def test_recorder_all_is_pinned() -> None:
    """recorder.__all__ is exactly the documented public names."""
    assert recorder.__all__ == RECORDER_ALL


def test_storage_all_is_pinned() -> None:
    """storage.__all__ is exactly the documented public names."""
    assert storage.__all__ == STORAGE_ALL


@pytest.mark.parametrize("package", [recorder, storage, replayer],
                         ids=["recorder", "storage", "replayer"])
def test_all_lists_every_public_name_and_nothing_else(package: types.ModuleType) -> None:
    """Every public, non-module name of the package is in __all__, and every entry resolves."""
    public = sorted(name for name, value in vars(package).items()
                    if not name.startswith("_") and not isinstance(value, types.ModuleType))
    assert sorted(package.__all__) == public
    assert len(set(package.__all__)) == len(package.__all__)


#: Exported exceptions that are not errors a user handles. LineTooLong is the writer's
#: signal to the recorder that a line is over the payload limit; it never reaches a
#: workflow (reported to storage's owners: it should not be public, or be a FlowtapeError).
@pytest.mark.parametrize("package", [recorder, storage, replayer],
                         ids=["recorder", "storage", "replayer"])
def test_errors_descend_from_flowtape_error(package: types.ModuleType) -> None:
    """Every exception a package exports is a storage.FlowtapeError (SPEC §11)."""
    for name in sorted(package.__all__):
        value = getattr(package, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, storage.FlowtapeError), name


def _imports_after(statement: str) -> set[str]:
    """The top-level modules loaded in a fresh interpreter after running ``statement``."""
    code = f"{statement}; import sys; print(' '.join(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True, timeout=60)
    return {m.split(".")[0] for m in proc.stdout.split()}


def test_storage_imports_neither_recorder_nor_replayer() -> None:
    """`import storage` loads neither recorder nor replayer (dependencies point one way)."""
    loaded = _imports_after("import storage")
    assert "recorder" not in loaded
    assert "replayer" not in loaded


def test_recorder_does_not_import_replayer() -> None:
    """`import recorder` loads storage but not replayer."""
    loaded = _imports_after("import recorder")
    assert "storage" in loaded
    assert "replayer" not in loaded


def test_replayer_does_not_import_recorder() -> None:
    """`import replayer` loads storage but not recorder."""
    loaded = _imports_after("import replayer")
    assert "recorder" not in loaded


def test_optional_backends_load_lazily() -> None:
    """Importing the packages does not load optional or heavy backends (fsspec, s3fs, duckdb)."""
    loaded = _imports_after("import storage, recorder")
    assert not loaded & {"fsspec", "s3fs", "duckdb"}

"""flowtape's storage: the event model, the log format, and the stores.

Everything on disk goes through here. `recorder` writes with `LogWriter`,
`replayer` reads with `LogReader`; neither imports the other.
"""

from ._catalogstore import ReindexResult, VerifyResult
from ._codec import CODECS, suffix_for_codec
from ._copy import copy_recording, file_checksum
from ._dataset import dataset
from ._diff import diff_recordings
from ._diffmodel import (
    Change,
    FirstDivergence,
    NodeChange,
    RecordingDiff,
    RegressionPolicy,
    StateChanges,
    Step,
    TimingRegression,
    format_value,
)
from ._filestore import FileStore
from ._fsspec_store import FsspecStore, UploadResult
from ._memstore import MemoryStore
from ._reader import FrameSpan, LogReader, SkippedFrame
from ._retention import RetentionItem, RetentionPolicy, RetentionResult
from ._stats import StoreStats
from ._store import (
    STORE_SCHEMES,
    RecordingInfo,
    RecordingQuery,
    Store,
    default_store_url,
    info_from_log,
    open_store,
)
from ._writer import DEFAULT_FLUSH_EVERY, DEFAULT_FLUSH_INTERVAL, LineTooLong, LogWriter
from .errors import (
    AmbiguousIdError,
    CorruptRecordingError,
    FlowtapeError,
    IncompleteRecordingError,
    InvalidIdError,
    NotARecordingError,
    RecordingNotFoundError,
    RecordingReadError,
    RecordingWriteError,
    StoreError,
    UnsupportedVersionError,
)
from .events import (
    END_KINDS,
    EVENT_KINDS,
    FORMAT_NAME,
    FORMAT_VERSION,
    START_KINDS,
    Counts,
    Event,
    Footer,
    Header,
    RecordingEventType,
    SeekIndex,
)
from .ids import is_valid_id, new_recording_id, validate_id
from .patch import PatchError, apply_patch, make_patch
from .placeholders import is_placeholder, is_repr, is_truncated
from .snapshots import StateSnapshot, iter_snapshots
from .spans import EventView, Span, build_spans, iter_event_views
from .state import StateTracker, UnknownState, copy_json

__all__ = [
    "CODECS",
    "DEFAULT_FLUSH_EVERY",
    "DEFAULT_FLUSH_INTERVAL",
    "END_KINDS",
    "EVENT_KINDS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "START_KINDS",
    "STORE_SCHEMES",
    "AmbiguousIdError",
    "Change",
    "CorruptRecordingError",
    "Counts",
    "Event",
    "EventView",
    "FileStore",
    "FirstDivergence",
    "FlowtapeError",
    "Footer",
    "FrameSpan",
    "FsspecStore",
    "Header",
    "IncompleteRecordingError",
    "InvalidIdError",
    "LineTooLong",
    "LogReader",
    "LogWriter",
    "MemoryStore",
    "NodeChange",
    "NotARecordingError",
    "PatchError",
    "RecordingDiff",
    "RecordingEventType",
    "RecordingInfo",
    "RecordingNotFoundError",
    "RecordingQuery",
    "RecordingReadError",
    "RecordingWriteError",
    "RegressionPolicy",
    "ReindexResult",
    "RetentionItem",
    "RetentionPolicy",
    "RetentionResult",
    "SeekIndex",
    "SkippedFrame",
    "Span",
    "StateChanges",
    "StateSnapshot",
    "StateTracker",
    "Step",
    "Store",
    "StoreError",
    "StoreStats",
    "TimingRegression",
    "UnknownState",
    "UnsupportedVersionError",
    "UploadResult",
    "VerifyResult",
    "apply_patch",
    "build_spans",
    "copy_json",
    "copy_recording",
    "dataset",
    "default_store_url",
    "diff_recordings",
    "file_checksum",
    "format_value",
    "info_from_log",
    "is_placeholder",
    "is_repr",
    "is_truncated",
    "is_valid_id",
    "iter_event_views",
    "iter_snapshots",
    "make_patch",
    "new_recording_id",
    "open_store",
    "suffix_for_codec",
    "validate_id",
]

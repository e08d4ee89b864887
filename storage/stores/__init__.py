"""The stores room: where recordings live, and the catalog that answers questions about them.

The `Store` contract and its query types (`store`), picking a store from a
URL (`registry`), the SQLite catalog (`catalog`, `rows`, `connections`), what every
catalogued store does alike (`catalogued`, `upkeep`), the file, memory and
object stores (`file`, `memory`, `object_store` with `object_backend` and
`ranged`), retention, statistics, ids and whether a writer still lives
(`liveness`). See docs/stores.md.

It imports `storage.errors`, `storage._words` and `storage.format` — a store
that needs a header or footer asks the format room, it never parses bytes —
and never `storage.analysis`.
"""

from .catalogued import ReindexResult, VerifyResult
from .file import FileStore
from .ids import is_valid_id, new_recording_id, validate_id
from .memory import MemoryStore
from .object_store import FsspecStore, UploadResult
from .registry import STORE_SCHEMES, default_store_url, open_store
from .retention import RetentionItem, RetentionPolicy, RetentionResult
from .stats import StoreStats
from .store import RecordingInfo, RecordingQuery, Store

__all__ = [
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
]

"""The object store: recordings on S3 (or anything fsspec reaches), spooled locally first.

A recording cannot be appended to on object storage, so the recorder writes
it to a local spool file (``<cache>/spool/<id>.jsonl.zst``) exactly as it
would into a file store, and `FsspecStore.finish` uploads the closed file as
one object (``<url>/<id>.jsonl.zst``) and removes the spool copy. A crash
leaves the spool file; `FsspecStore.upload_spooled` (and `reindex`) uploads
the ones whose writer is gone.

The catalog is not shared: each machine keeps its own SQLite catalog in its
local cache and rebuilds it from the objects themselves — one LIST of the
prefix, and for each object not yet known, range reads of its header frame
and of its trailer and footer (three small GETs at most, never the events).
Objects are immutable once uploaded and each writer only ever creates its
own, so there is no shared mutable catalog object to lose updates to. See
docs/stores.md §Object storage for the consistency this gives.

fsspec and the backend (s3fs for ``s3://``) load on first use; without them
a `MissingExtraError` (also an ImportError) says ``pip install 'flowtape[s3]'``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Sequence
from typing import Any

import msgspec

from ..errors import (
    RecordingNotFoundError,
    RecordingReadError,
    StoreError,
)
from ..format.codec import detect_codec, suffix_for_codec
from ..format.reader import LogReader
from .catalog import CATALOG_NAME, Catalog
from .catalogued import CatalogStore, Progress
from .file import adopt_partials, recording_name_id
from .ids import validate_id
from .liveness import DEFAULT_STALE_AFTER
from .object_backend import default_cache_dir, filesystem, fsspec_protocols
from .ranged import read_ends
from .rows import CatalogRow, row_from_log
from .upkeep import ReindexResult, VerifyResult, keep_one_copy

__all__ = ["FsspecStore", "Refreshed", "UploadResult", "default_cache_dir", "fsspec_protocols"]

class Refreshed(msgspec.Struct, kw_only=True):
    """What `FsspecStore.refresh` read and changed in the local catalog."""

    rows: list[CatalogRow] = []
    """Rows added or updated."""
    dropped: list[str] = []
    """Ids whose object vanished."""
    unreadable: list[tuple[str, str]] = []
    """(URL, reason) for objects that could not be read this time."""
    duplicates: list[tuple[str, str]] = []
    """(URL, reason) for objects found holding a recording another object holds."""


class UploadResult(msgspec.Struct, kw_only=True):
    """What `FsspecStore.upload_spooled` did."""

    uploaded: list[str] = []
    skipped: list[str] = []
    """Ids still being written by a live process."""
    failed: list[tuple[str, str]] = []
    """(id, reason) for spool files that could not be uploaded (they stay spooled)."""


class FsspecStore(CatalogStore):
    """Recordings as objects under ``url``; spool, catalog and downloads in a local cache.

    ::

        store = FsspecStore("s3://bucket/flowtape",
                            storage_options={"endpoint_url": "http://127.0.0.1:9000"})

    ``storage_options`` go to fsspec (for s3fs: ``endpoint_url``, ``key``,
    ``secret``, ``client_kwargs`` …); without them the backend's usual
    configuration applies (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY``, ``~/.aws``; fsspec's ``FSSPEC_S3_*``).
    ``cache_dir`` holds this store's spool, catalog and downloaded copies
    (default `default_cache_dir`, one sub-directory per store URL).
    """

    def __init__(self, url: str, *, storage_options: dict[str, Any] | None = None,
                 cache_dir: str | os.PathLike[str] | None = None,
                 stale_after: float = DEFAULT_STALE_AFTER) -> None:
        self.url = url.rstrip("/")
        options = dict(storage_options or {})
        self.fs, root = filesystem(self.url, options)
        self._root = root.rstrip("/")
        endpoint = str(options.get("endpoint_url")
                       or options.get("client_kwargs", {}).get("endpoint_url")
                       or os.environ.get("AWS_ENDPOINT_URL", ""))
        key = hashlib.sha256(f"{self.url}\0{endpoint}".encode()).hexdigest()[:16]
        base = os.fspath(cache_dir) if cache_dir is not None else default_cache_dir()
        self.local_root = os.path.join(os.path.abspath(base), "stores", key)
        self.spool_dir = os.path.join(self.local_root, "spool")
        self.objects_dir = os.path.join(self.local_root, "objects")
        self.stale_after = stale_after
        os.makedirs(self.spool_dir, mode=0o700, exist_ok=True)
        marker = os.path.join(self.local_root, "store-url")
        if not os.path.exists(marker):
            with open(marker, "w", encoding="utf-8") as f:
                f.write(self.url + "\n")
        self.catalog = Catalog(os.path.join(self.local_root, CATALOG_NAME))

    def __repr__(self) -> str:
        return f"FsspecStore({self.url!r})"

    # --- where the bytes are --------------------------------------------------------------
    def _remote(self, name: str) -> str:
        return f"{self._root}/{name}"

    def path_for(self, recording_id: str, codec: str) -> str:
        """The spool path for a new recording; `finish` uploads it."""
        name = validate_id(recording_id) + suffix_for_codec(codec)
        os.makedirs(self.spool_dir, mode=0o700, exist_ok=True)
        return os.path.join(self.spool_dir, name)

    def _address(self, path: str) -> tuple[str, str]:
        path = os.path.abspath(path)
        if os.path.dirname(path) == self.spool_dir and recording_name_id(os.path.basename(path)):
            return os.path.basename(path), "spool"
        return path, "spool"

    def _external(self, row: CatalogRow) -> bool:
        return row.location == "spool" and os.path.isabs(row.path)

    def _spool_path(self, row: CatalogRow) -> str:
        return row.path if os.path.isabs(row.path) else os.path.join(self.spool_dir, row.path)

    def _locate_raw(self, path: str, location: str) -> str:
        if location == "remote":
            return f"{self.url}/{path}"
        return path if os.path.isabs(path) else os.path.join(self.spool_dir, path)

    def _local_file(self, row: CatalogRow) -> str:
        if row.location != "remote":
            return self._spool_path(row)
        local = os.path.join(self.objects_dir, row.path)
        try:
            if os.path.getsize(local) == row.size:
                return local
        except OSError:
            pass
        os.makedirs(self.objects_dir, mode=0o700, exist_ok=True)
        tmp = f"{local}.{os.getpid()}.tmp"
        try:
            self.fs.get_file(self._remote(row.path), tmp)
        except FileNotFoundError:
            raise RecordingNotFoundError(row.recording_id, f"{self._locate(row)} is gone") from None
        except Exception as exc:
            _unlink(tmp)
            raise StoreError(f"downloading {self._locate(row)} failed: {exc}") from None
        os.chmod(tmp, 0o600)
        os.replace(tmp, local)
        return local

    def _exists(self, row: CatalogRow) -> bool:
        if row.location != "remote":
            return os.path.isfile(self._spool_path(row))
        try:
            return bool(self.fs.exists(self._remote(row.path)))
        except Exception as exc:
            raise StoreError(f"cannot reach {self._locate(row)}: {exc}") from None

    def _remove(self, row: CatalogRow) -> None:
        if row.location != "remote":
            if not self._external(row):
                _unlink(self._spool_path(row))
            return
        try:
            self.fs.rm_file(self._remote(row.path))
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise StoreError(f"deleting {self._locate(row)} failed: {exc}") from None
        _unlink(os.path.join(self.objects_dir, row.path))

    def _sync(self) -> None:
        self.refresh()

    # --- the recorder's calls ---------------------------------------------------------------------
    def finish(self, recording_id: str, path: str, *, degraded: Sequence[str] = ()) -> None:
        """Upload the closed recording at ``path`` and catalogue it (``degraded``: what the
        recorder could not record; without a footer the run is ``incomplete``).

        If the upload fails, the recording stays in the spool (catalogued
        there) and `StoreError` says how to upload it later.
        """
        path = os.path.abspath(path)
        rel, _ = self._address(path)
        row = self._finished_row(recording_id, path, rel=rel, location="spool",
                                 degraded=degraded)
        if row is None:
            return
        with self._conn() as conn, self.catalog.write(conn):
            if row.recording_id != recording_id:
                Catalog.delete(conn, [recording_id])
        self._upload(row, path)

    def _upload(self, row: CatalogRow, path: str) -> None:
        with open(path, "rb") as f:
            codec = detect_codec(f.read(8)) or "zstd"
        name = row.recording_id + suffix_for_codec(codec)
        try:
            self.fs.put_file(path, self._remote(name))
        except Exception as exc:
            self._upsert([row])
            raise StoreError(
                f"uploading {path} to {self.url}/{name} failed: {exc}; the recording stays in "
                f"the spool {self.spool_dir}; upload it later with `flowtape reindex --store "
                f"{self.url}` (or FsspecStore.upload_spooled())") from None
        self._upsert([msgspec.structs.replace(row, path=name, location="remote")])
        if not self._external(row):
            _unlink(path)

    def upload_spooled(self) -> UploadResult:
        """Upload spool files whose writer is gone (crashed, or an upload that failed).

        Recordings still being written are left alone (``skipped``).
        """
        result = UploadResult()
        adopt_partials(self.spool_dir, stale_after=self.stale_after)
        try:
            names = sorted(n for n in os.listdir(self.spool_dir) if recording_name_id(n))
        except FileNotFoundError:
            return result
        for name in names:
            rid = recording_name_id(name) or name
            path = os.path.join(self.spool_dir, name)
            try:
                row = self._read_row(path, rel=name, location="spool")
            except FileNotFoundError:
                continue
            except RecordingReadError as exc:
                result.failed.append((rid, str(exc)))
                continue
            if row.status == "running":
                result.skipped.append(row.recording_id)
                continue
            try:
                self._upload(row, path)
            except (StoreError, OSError) as exc:
                result.failed.append((row.recording_id, str(exc)))
                continue
            result.uploaded.append(row.recording_id)
        return result

    # --- the catalog from the objects -------------------------------------------------------------
    def _listing(self) -> dict[str, int]:
        """Recording object names under the prefix -> sizes (one LIST, not cached)."""
        try:
            self.fs.invalidate_cache(self._root)
            entries = self.fs.ls(self._root, detail=True)
        except FileNotFoundError:
            self._check_bucket()
            return {}  # an empty prefix: object stores have no empty directories
        except Exception as exc:
            raise StoreError(f"cannot list {self.url}: {exc}") from None
        if [(e.get("type"), str(e.get("name", "")).rstrip("/")) for e in entries] == [
                ("file", self._root)]:
            raise StoreError(f"{self.url} is an object, not a store prefix; give the prefix "
                             "that holds the recordings as --store (or $FLOWTAPE_STORE)")
        out: dict[str, int] = {}
        for entry in entries:
            if entry.get("type") != "file":
                continue
            name = str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]
            if recording_name_id(name):
                out[name] = int(entry.get("size") or 0)
        return out

    def _check_bucket(self) -> None:
        """Raise `StoreError` when the bucket (the URL's first part) does not exist."""
        bucket = self._root.split("/", 1)[0]
        try:
            there = bool(self.fs.exists(bucket))
        except Exception as exc:
            raise StoreError(f"cannot reach {self.url}: {exc}") from None
        if not there:
            raise StoreError(f"no store at {self.url}: the bucket {bucket!r} does not exist; "
                             "check the URL given as --store (or $FLOWTAPE_STORE) and the "
                             "endpoint, or create the bucket")

    def refresh(self, *, full: bool = False, progress: Progress | None = None) -> Refreshed:
        """Bring the local catalog up to date with the objects under the prefix.

        New or changed objects are read (header and footer by range reads);
        rows of objects that vanished are dropped. An object that is not a
        readable recording, or holds a recording another object holds too, is
        remembered with its size and not read again until it changes (or the
        copy it lost to is gone). With ``full`` every object is read again.
        """
        listing = self._listing()
        with self._conn() as conn:
            known = {r.path: r for r in Catalog.where(conn, "location = 'remote'")}
            skipped = Catalog.skipped(conn)
        ids = {r.recording_id for r in known.values()}

        def stale(name: str, size: int) -> bool:
            if name in known:
                return known[name].size != size
            skip = skipped.get(name)
            return skip is None or skip.size != size or skip.copy_of not in (None, *ids)

        todo = [(n, s) for n, s in sorted(listing.items()) if full or stale(n, s)]
        done = Refreshed()
        bad: list[tuple[str, int, str]] = []
        for i, (name, size) in enumerate(todo, 1):
            try:
                done.rows.append(self._remote_row(name, size))
            except FileNotFoundError:
                pass
            except RecordingReadError as exc:  # the bytes: remembered until they change
                bad.append((name, size, str(exc)))
                done.unreadable.append((f"{self.url}/{name}", str(exc)))
            except StoreError as exc:  # the connection: tried again next time
                done.unreadable.append((f"{self.url}/{name}", str(exc)))
            if progress is not None:
                progress(i, len(todo))
        copies = self._one_object_per_id(done, {r.recording_id: r for r in known.values()
                                                if r.path in listing})
        vanished = [r for n, r in known.items() if n not in listing]
        # An object listed as missing may have been uploaded by this machine after the
        # LIST; ask for each one before dropping its row (vanishing objects are rare).
        gone = [r for r in vanished if not self._exists(r)]
        done.dropped = [r.recording_id for r in gone]
        forget = [n for n, _ in todo if n in skipped] + [n for n in skipped if n not in listing]
        if done.rows or gone or bad or copies or forget:
            with self._conn() as conn, self.catalog.write(conn):
                Catalog.delete(conn, done.dropped)
                Catalog.upsert(conn, done.rows)
                Catalog.unskip(conn, forget)
                for name, size, reason in bad:
                    Catalog.skip(conn, name, size, reason)
                for row, reason in copies:
                    Catalog.skip(conn, row.path, row.size, reason, copy_of=row.recording_id)
        return done

    def _one_object_per_id(self, done: Refreshed, catalogued: dict[str, CatalogRow]
                           ) -> list[tuple[CatalogRow, str]]:
        """Keep one of the objects holding each recording id in ``done.rows`` (with the one
        already ``catalogued``); returns (row, reason) for the copies, also named in
        ``done.duplicates``. Only a footer tells an object's state without reading it all,
        so an object with one wins over one without."""
        by_id: dict[str, list[CatalogRow]] = {}
        for row in done.rows:
            by_id.setdefault(row.recording_id, []).append(row)
        copies: list[tuple[CatalogRow, str]] = []
        for rid, group in by_id.items():
            old = catalogued.get(rid)
            both = [old, *group] if old is not None and old.path not in {
                r.path for r in group} else group
            if len(both) == 1:
                continue
            kept, others = keep_one_copy(
                [(r, "incomplete" if r.status == "incomplete" else "intact") for r in both],
                self._locate)
            copies += others
            done.rows = [r for r in done.rows if r.recording_id != rid or r is kept]
        done.duplicates = [(self._locate(r), reason) for r, reason in copies]
        return copies

    def _remote_row(self, name: str, size: int) -> CatalogRow:
        """The row of object ``name`` from its header and footer, read by range requests."""
        where = f"{self.url}/{name}"
        header, footer = read_ends(self.fs, self._remote(name), where, size)
        if footer is None:  # crashed before uploading: only a full read counts its events
            row = CatalogRow(recording_id=header.recording_id, workflow=header.workflow,
                             status="incomplete", success=None, started_us=0,
                             path=name, location="remote")
            with LogReader.open(self._local_file(msgspec.structs.replace(row, size=size)),
                                recover=True) as r:
                return row_from_log(where, r.header, r.footer, r.event_count, size, path=name,
                                    location="remote")
        return row_from_log(where, header, footer, footer.event_count, size, path=name,
                            location="remote")

    # --- maintenance ------------------------------------------------------------------------------
    def reindex(self, *, progress: Progress | None = None) -> ReindexResult:
        """Upload what is left in the spool, then re-read every object's header and footer."""
        uploaded = self.upload_spooled()
        done = self.refresh(full=True, progress=progress)
        with self._conn() as conn:
            self._reconcile(conn)
            Catalog.analyze(conn)
            spooled = Catalog.where(conn, "location = 'spool'")
        return ReindexResult(
            indexed=len(done.rows), dropped=done.dropped, unreadable=done.unreadable,
            uploaded=uploaded.uploaded, duplicates=done.duplicates,
            running=[r.recording_id for r in spooled if r.status == "running"],
            incomplete=[r.recording_id for r in done.rows + spooled
                        if r.status == "incomplete"])

    def verify(self, *, deep: bool = False, progress: Progress | None = None) -> VerifyResult:
        """Check the catalog against the objects (``deep``: download and decode each one)."""
        # Objects this machine had not seen yet are not fixes: the catalog here is a
        # cache that learns them by listing (docs/stores.md).
        done = self.refresh()
        with self._conn() as conn:
            fixed = self._reconcile(conn)
            current = Catalog.where(conn)
            skipped = Catalog.skipped(conn)
        bad = {f"{self.url}/{n}": s.reason for n, s in skipped.items() if s.copy_of is None}
        result = VerifyResult(
            missing=done.dropped, fixed=fixed,
            unreadable=sorted({**bad, **dict(done.unreadable)}.items()),
            duplicates=sorted((f"{self.url}/{n}", s.reason) for n, s in skipped.items()
                              if s.copy_of is not None))
        result.checked = len(current)
        known = {r.path for r in current if r.location == "spool"}
        try:
            spool = sorted(n for n in os.listdir(self.spool_dir) if recording_name_id(n))
        except FileNotFoundError:
            spool = []
        result.uncatalogued = [os.path.join(self.spool_dir, n) for n in spool if n not in known]
        if deep:
            for i, row in enumerate(current, 1):
                self._check_deep(row, result)
                if progress is not None:
                    progress(i, len(current))
        return result


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)

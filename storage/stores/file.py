"""The file store: one file per recording in a directory, and a SQLite catalog beside them.

Layout (docs/stores.md §File store)::

    recordings/
      catalog.sqlite (+ -wal, -shm)      the catalog, WAL mode
      01jc3v...q7.jsonl.zst              one file per recording, named by its id
      .01jc3v...x2.jsonl.zst.partial     a keep="failure" run still deciding

The directory is flat: the catalog answers every query, so no listing ever
walks it except `reindex` and `verify`. Files are written by the recorder
at the path `path_for` gives; the catalog learns of them at `begin` and
`finish`. A recording written elsewhere (``record_workflow(path=...,
store=...)``) is catalogued by absolute path; deleting it from the store
drops its row and leaves the file, so no store operation ever removes a
file outside the store's directory.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Sequence

from ..errors import RecordingReadError, StoreError
from ..format.codec import suffix_for_codec
from ..format.reader import LogReader
from .catalog import CATALOG_NAME, Catalog
from .catalogued import CatalogStore, Progress
from .ids import is_valid_id, validate_id
from .liveness import DEFAULT_STALE_AFTER, writer_alive
from .rows import CatalogRow, merge_notes, to_us
from .store import RECORDING_SUFFIXES, parse_started_at
from .upkeep import ReindexResult, VerifyResult, copy_reason, keep_one_copy

__all__ = ["FileStore", "adopt_partials", "recording_name_id"]

_PARTIAL = ".partial"


def recording_name_id(name: str) -> str | None:
    """The id a recording file name carries (``<id>.jsonl.zst`` ...), or None."""
    if name.startswith("."):
        return None
    for suffix in RECORDING_SUFFIXES:
        if name.endswith(suffix):
            rid = name[: -len(suffix)]
            return rid if is_valid_id(rid) else None
    return None


class FileStore(CatalogStore):
    """Recordings as files in ``root``, catalogued in ``root/catalog.sqlite``.

    ::

        store = FileStore("./recordings")
        store.list(RecordingQuery(workflow_name="etl", success=False, limit=20))
        store.apply_retention(RetentionPolicy(max_count=500))

    ``stale_after`` (seconds): a ``running`` recording from another host
    whose file has not grown for this long counts as abandoned.
    """

    def __init__(self, root: str | os.PathLike[str], *,
                 stale_after: float = DEFAULT_STALE_AFTER) -> None:
        self.root = os.path.abspath(os.path.expanduser(os.fspath(root)))
        self.url = self.root
        self._prefix = os.path.join(self.root, "")
        self.stale_after = stale_after
        self.catalog = Catalog(os.path.join(self.root, CATALOG_NAME))

    def __repr__(self) -> str:
        return f"FileStore({self.root!r})"

    # --- where the bytes are ------------------------------------------------------------
    def path_for(self, recording_id: str, codec: str) -> str:
        """``root/<id><suffix>`` for a new recording (the directory is created)."""
        name = validate_id(recording_id) + suffix_for_codec(codec)
        if os.path.exists(self.root) and not os.path.isdir(self.root):
            raise StoreError(self._absence() or self.root)
        os.makedirs(self.root, exist_ok=True)
        return os.path.join(self.root, name)

    def _address(self, path: str) -> tuple[str, str]:
        path = os.path.abspath(path)
        if os.path.dirname(path) == self.root and recording_name_id(os.path.basename(path)):
            return os.path.basename(path), "local"
        return path, "local"  # outside the store (or an odd name): kept by absolute path

    def _external(self, row: CatalogRow) -> bool:
        return os.path.isabs(row.path)

    def _locate_raw(self, path: str, location: str) -> str:
        return path if path[:1] == os.sep else self._prefix + path

    def _local_file(self, row: CatalogRow) -> str:
        path = self._locate(row)
        if not self._external(row):
            self._refuse_link_out(path)
        return path

    def _refuse_link_out(self, path: str) -> None:
        """Raise `StoreError` when ``path`` is a symbolic link that leads out of the store."""
        if not os.path.islink(path):
            return
        target = os.path.realpath(path)
        root = os.path.realpath(self.root)
        if os.path.commonpath([root, target]) != root:
            raise StoreError(f"{path} is a symbolic link to {target}, outside the store; "
                             "flowtape does not follow links out of a store: open that file "
                             "by its path if you trust it, or remove the link")

    def _exists(self, row: CatalogRow) -> bool:
        return os.path.isfile(self._locate(row))

    def _remove(self, row: CatalogRow) -> None:
        if self._external(row):
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._locate(row))

    def _absence(self) -> str | None:
        if os.path.isdir(self.root):
            return None
        if os.path.exists(self.root):
            return (f"{self.root} is a file, not a store directory; give a store directory as "
                    "--store (or $FLOWTAPE_STORE), or pass a recording file's path in place "
                    "of an id")
        return (f"no store at {self.root}: the directory does not exist; check the path given "
                "as --store (or $FLOWTAPE_STORE); recording into it creates it")

    def _uncatalogued(self, recording_id: str) -> CatalogRow | None:
        for suffix in RECORDING_SUFFIXES:
            name = recording_id + suffix
            path = os.path.join(self.root, name)
            self._refuse_link_out(path)
            if os.path.isfile(path):
                try:
                    return self._read_row(path, rel=name, location="local")
                except (RecordingReadError, OSError):
                    return None
        return None

    def _bootstrap(self, conn: sqlite3.Connection) -> None:
        """A new catalog in a directory that already holds recordings: index them."""
        if self._names():
            self._reindex(conn, None)

    def _names(self) -> list[str]:
        """Recording file names in the root (not dot files, not the catalog, not links)."""
        return sorted(name for name, link in self._entries() if not link)

    def _links(self) -> list[tuple[str, str]]:
        """(path, reason) for each link named like a recording: walks never follow them."""
        return [(path, f"a symbolic link to {os.path.realpath(path)}; links in a store are "
                 "not followed: move or copy the recording itself into the store")
                for path in (os.path.join(self.root, name)
                             for name, link in self._entries() if link)]

    def _entries(self) -> list[tuple[str, bool]]:
        """(name, is a link) of the entries in the root named like recordings."""
        try:
            with os.scandir(self.root) as it:
                return [(e.name, e.is_symlink()) for e in it if recording_name_id(e.name)
                        and (e.is_symlink() or e.is_file(follow_symlinks=False))]
        except FileNotFoundError:
            return []

    # --- the recorder's calls ----------------------------------------------------------------
    def finish(self, recording_id: str, path: str, *, degraded: Sequence[str] = ()) -> None:
        """Catalogue the closed recording at ``path`` with its footer's outcome.

        ``degraded`` notes what the recorder could not record; without a
        footer the run is ``incomplete``. Raises `StoreError` when the file is
        not a readable recording.
        """
        rel, location = self._address(path)
        row = self._finished_row(recording_id, os.path.abspath(path), rel=rel,
                                 location=location, degraded=degraded)
        if row is None:
            return  # discarded by its keep= policy
        with self._conn() as conn, self.catalog.write(conn):
            if row.recording_id != recording_id:
                Catalog.delete(conn, [recording_id])
            Catalog.upsert(conn, [row])

    # --- maintenance ------------------------------------------------------------------------
    def reindex(self, *, progress: Progress | None = None) -> ReindexResult:
        """Rebuild the catalog from the files: every header and footer read again.

        Files without a footer are ``running`` when their writer is alive,
        else ``incomplete``; rows whose file vanished are dropped; a damaged
        catalog is moved aside (``catalog.sqlite.damaged-<time>``) and rebuilt.
        Safe while other processes record into the store.
        """
        self._prepare_read()
        try:
            with self._conn(bootstrap=False) as conn:
                return self._reindex(conn, progress)
        except StoreError as exc:
            if "damaged" not in str(exc):
                raise
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for ext in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(self.catalog.path + ext, f"{self.catalog.path}.damaged-{stamp}{ext}")
        self.catalog = Catalog(self.catalog.path)
        with self._conn(bootstrap=False) as conn:
            return self._reindex(conn, progress)

    def _reindex(self, conn: sqlite3.Connection, progress: Progress | None) -> ReindexResult:
        result = ReindexResult(adopted=self._adopt_partials(), unreadable=self._links())
        names = self._names()
        rows: list[CatalogRow] = []
        for i, name in enumerate(names, 1):
            path = os.path.join(self.root, name)
            try:
                rows.append(self._read_row(path, rel=name, location="local"))
            except FileNotFoundError:
                pass  # deleted meanwhile
            except (RecordingReadError, OSError) as exc:
                result.unreadable.append((path, str(exc)))
            if progress is not None:
                progress(i, len(names))
        rows = self._one_file_per_id(rows, result)
        with self.catalog.write(conn):
            before = {r.recording_id: r for r in Catalog.where(conn)}
            gone = [i for i, r in before.items() if not self._exists(r)]
            Catalog.delete(conn, gone)
            # Files without a footer are read again under the write lock: a writer
            # that closed since waits for this lock in `finish`, and its footer is there.
            fresh = []
            for row in rows:
                if row.status not in ("running", "incomplete"):
                    fresh.append(row)
                    continue
                try:
                    again = self._read_row(os.path.join(self.root, row.path), rel=row.path,
                                           location="local")
                except (RecordingReadError, OSError):
                    continue
                old = before.get(row.recording_id)  # notes only the catalog holds
                again.degraded = merge_notes(old.degraded if old else [], again.degraded)
                fresh.append(again)
            Catalog.upsert(conn, fresh)
        Catalog.analyze(conn)
        result.dropped = gone
        result.indexed = len(fresh)
        result.running = [r.recording_id for r in fresh if r.status == "running"]
        result.incomplete = [r.recording_id for r in fresh if r.status == "incomplete"]
        return result

    def _classify(self, name: str, catalogued: dict[str, CatalogRow], result: VerifyResult
                  ) -> None:
        """File a recording file the catalog lacks: one `reindex` would add, a copy of a
        catalogued recording, or one that cannot be catalogued."""
        path = os.path.join(self.root, name)
        try:
            row = self._read_row(path, rel=name, location="local")
        except FileNotFoundError:
            return  # deleted meanwhile
        except (RecordingReadError, OSError) as exc:
            result.unreadable.append((path, str(exc)))
            return
        twin = catalogued.get(row.recording_id)
        if twin is None:
            result.uncatalogued.append(path)
        else:
            result.duplicates.append((path, copy_reason(row.recording_id, self._locate(twin))
                                      + " (`flowtape reindex` catalogues the intact one)"))

    def _one_file_per_id(self, rows: list[CatalogRow], result: ReindexResult
                         ) -> list[CatalogRow]:
        """``rows`` with one row per recording id: where several files hold one id, the
        intact one (checked as `flowtape verify FILE` does); the others go to
        ``result.duplicates``."""
        by_id: dict[str, list[CatalogRow]] = {}
        for row in rows:
            by_id.setdefault(row.recording_id, []).append(row)
        kept: list[CatalogRow] = []
        for copies in by_id.values():
            if len(copies) == 1:
                kept.append(copies[0])
                continue
            row, others = keep_one_copy([(r, self._verdict(r)) for r in copies], self._locate)
            kept.append(row)
            result.duplicates.extend((self._locate(r), reason) for r, reason in others)
        return kept

    def _adopt_partials(self) -> list[str]:
        return adopt_partials(self.root, stale_after=self.stale_after)

    def verify(self, *, deep: bool = False, progress: Progress | None = None) -> VerifyResult:
        """Check the catalog against the files.

        Rows whose file vanished are reported in ``missing`` and dropped;
        files the catalog lacks are reported in ``uncatalogued`` (run
        `reindex`); rows of dead writers and files whose size changed are
        corrected (``fixed``). With ``deep``, every frame of every recording
        is decoded and failures are reported in ``corrupt``.
        """
        self._prepare_read()
        result = VerifyResult()
        with self._conn() as conn:
            result.fixed = self._reconcile(conn)
            rows = Catalog.where(conn)
            result.checked = len(rows)
            missing = [r for r in rows if not self._exists(r)]
            if missing:
                with self.catalog.write(conn):
                    Catalog.delete(conn, [r.recording_id for r in missing
                                          if not self._exists(r)])
            result.missing = [r.recording_id for r in missing]
            known = {r.path for r in rows}
            by_id = {r.recording_id: r for r in rows}
            result.unreadable = self._links()
            for name in self._names():
                if name not in known:
                    self._classify(name, by_id, result)
            resized = []
            gone = {r.recording_id for r in missing}
            present = [r for r in rows if r.recording_id not in gone]
            for i, row in enumerate(present, 1):
                path = self._locate(row)
                if row.status != "running":
                    try:
                        if os.path.getsize(path) != row.size:
                            resized.append(row)
                    except OSError:
                        pass
                if deep:
                    self._check_deep(row, result)
                if progress is not None:
                    progress(i, len(present))
            fresh = []
            for row in resized:
                try:
                    fresh.append(self._read_row(self._locate(row), rel=row.path,
                                                location=row.location))
                except (RecordingReadError, OSError):
                    continue
            if fresh:
                with self.catalog.write(conn):
                    Catalog.upsert(conn, fresh)
                result.fixed += [r.recording_id for r in fresh]
        return result


def adopt_partials(directory: str, *, stale_after: float = DEFAULT_STALE_AFTER) -> list[str]:
    """Move ``.<name>.partial`` files of dead ``keep=`` runs in ``directory`` to their names.

    Such a run died before its keep policy could decide; a crash is worth
    keeping, so it is kept (and then indexed as ``incomplete``). Returns the
    ids moved.
    """
    adopted: list[str] = []
    try:
        names = [n for n in os.listdir(directory) if n.startswith(".") and n.endswith(_PARTIAL)]
    except FileNotFoundError:
        return adopted
    for name in names:
        final = name[1: -len(_PARTIAL)]
        rid = recording_name_id(final)
        path = os.path.join(directory, name)
        target = os.path.join(directory, final)
        if rid is None or os.path.exists(target):
            continue
        try:
            with LogReader.open(path, recover=True) as r:
                header = r.header
            started = to_us(parse_started_at(header.started_at))
        except (RecordingReadError, OSError, ValueError):
            continue
        if writer_alive(path, header.host, header.pid, started, stale_after=stale_after):
            continue  # still deciding: not ours to decide
        try:
            os.replace(path, target)
        except OSError:
            continue
        adopted.append(rid)
    return adopted

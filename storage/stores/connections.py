"""One SQLite connection per process and catalog file, shared by every store object.

Opening a connection costs a WAL recovery, and closing the last one a
checkpoint with fsync (~3 ms each), while the recorder makes a store object
per run; so `acquire` hands out the process's one connection to a catalog
file, under a lock its users take turns with (docs/stores.md §Catalog). The
catalog file is created 0600 before SQLite opens it: its ``-wal`` and
``-shm`` then get the same mode (they hold the same workflow names, tags and
errors as the recordings).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sqlite3
import threading

__all__ = ["BUSY_TIMEOUT_S", "Pooled", "acquire", "close_connections"]

BUSY_TIMEOUT_S = 30.0


class Pooled:
    """One process's connection to one catalog file, and the lock its users take turns with."""

    def __init__(self, path: str) -> None:
        self.pid = os.getpid()
        self.lock = threading.RLock()
        _make_private(path)
        self.conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                    check_same_thread=False)
        self.conn.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never torn
        self.conn.execute("PRAGMA mmap_size=268435456")  # read pages in place (halves a scan)
        self.ident = _ident(path)

    def close(self) -> None:
        with self.lock:
            try:
                # Keeps the planner's statistics fresh (sqlite.org/lang_analyze.html):
                # with them `workflow = ? AND success = ?` picks the workflow index.
                self.conn.execute("PRAGMA busy_timeout=1000")  # never hold up an exit long
                self.conn.execute("PRAGMA analysis_limit=1000")
                self.conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass  # read-only or busy: statistics wait for another time
            self.conn.close()


def _make_private(path: str) -> None:
    """Create the catalog file 0600 (SQLite gives its -wal and -shm the same mode), and take
    group and other access away from one an older flowtape left open. Best effort: a
    catalog in a read-only directory is still read."""
    with contextlib.suppress(OSError):  # there already (or not creatable: sqlite3 says why)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
    for name in (path, path + "-wal", path + "-shm"):
        try:
            st = os.stat(name)
            if st.st_mode & 0o077 and st.st_uid == os.getuid():
                os.chmod(name, 0o600)
        except OSError:
            continue


# Connections are kept per process and catalog file, not per store object: opening one
# costs a WAL recovery, and closing the last one a checkpoint with fsync (~3 ms each),
# while the recorder makes a store object per run. A connection is replaced when the
# file it has open is no longer the catalog (deleted or replaced: `flowtape reindex`
# after removing it) and is never used across fork; all are closed at exit.
_POOL: dict[str, Pooled] = {}
_POOL_LOCK = threading.Lock()


def _ident(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def acquire(path: str) -> Pooled:
    with _POOL_LOCK:
        pooled = _POOL.get(path)
        if pooled is not None and (pooled.pid != os.getpid()
                                   or pooled.ident is None or _ident(path) != pooled.ident):
            del _POOL[path]
            if pooled.pid == os.getpid():
                _retire(pooled)
            pooled = None
        if pooled is None:
            pooled = _POOL[path] = Pooled(path)
        return pooled


def _retire(pooled: Pooled) -> None:
    if pooled.lock.acquire(blocking=False):  # in use by another thread: closed at exit
        try:
            pooled.conn.close()  # its file is gone: nothing to optimize
        finally:
            pooled.lock.release()
    else:
        _RETIRED.append(pooled)


_RETIRED: list[Pooled] = []


def close_connections() -> None:
    """Close this process's catalog connections (at exit; tests that remove stores)."""
    with _POOL_LOCK:
        pooled = [p for p in [*_POOL.values(), *_RETIRED] if p.pid == os.getpid()]
        _POOL.clear()
        _RETIRED.clear()
    for p in pooled:
        p.close()


atexit.register(close_connections)

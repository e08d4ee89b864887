"""The memory store (``memory://[name]``): recordings that last as long as the process.

It is a `FileStore` over a private temporary directory (mode 0700), removed
when the store is closed or the process exits: the recorder writes real
files (it needs a path to append frames to, and a killed writer must leave
readable bytes like everywhere else), and every query, retention and
statistics answer is the file store's own — one implementation, not two.
``open_store("memory://name")`` returns the same store for the same name
within a process (``memory://`` is the unnamed default), so a recorder and a
reader in one process meet; other processes do not see it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import weakref

from .catalog import CATALOG_NAME, Catalog
from .file import FileStore

__all__ = ["MemoryStore", "memory_store"]


class MemoryStore(FileStore):
    """Recordings in a private temporary directory, gone when it closes or the process ends.

    ``MemoryStore()`` is private to its owner; ``open_store("memory://name")``
    shares one store per name within the process.
    """

    def __init__(self, name: str | None = None) -> None:
        super().__init__(tempfile.mkdtemp(prefix="flowtape-memory-"))
        # A store made directly is private: its URL names it, but open_store cannot reach it.
        self.name = f"private-{os.path.basename(self.root)}" if name is None else name
        self.url = f"memory://{self.name}"
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.root, ignore_errors=True)

    def __repr__(self) -> str:
        return f"MemoryStore({self.name!r})"

    def _absence(self) -> str | None:
        if os.path.isdir(self.root):
            return None
        return (f"the memory store {self.url} was closed and its recordings are gone; "
                "open a new one with open_store('memory://…')")

    def clear(self) -> None:
        """Forget every recording (files and catalog)."""
        shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        self.catalog = Catalog(os.path.join(self.root, CATALOG_NAME))

    def close(self) -> None:
        """Remove the store's directory (and drop it from the ``memory://`` names)."""
        with _LOCK:
            if _NAMED.get(self.name) is self:
                del _NAMED[self.name]
        self._finalizer()


_NAMED: dict[str, MemoryStore] = {}
_LOCK = threading.Lock()


def memory_store(name: str = "", **options: object) -> MemoryStore:
    """The process-wide memory store called ``name`` (created on first use)."""
    if options:
        raise TypeError(f"memory:// stores take no options, not {sorted(options)}")
    name = name.strip("/")
    with _LOCK:
        store = _NAMED.get(name)
        if store is None or not store._finalizer.alive:
            store = _NAMED[name] = MemoryStore(name)
        return store

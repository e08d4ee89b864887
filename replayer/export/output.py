"""Where a directory-shaped export goes: a local directory, or any fsspec URL (``s3://``).

The Parquet export writes many files and one manifest under a root; this
module is the only part of it that knows whether the root is a local
directory or an object store. `Output` is the contract, `open_output` picks
the implementation from the URL. Local files are owner-only (payloads may
hold secrets) and are written under a temporary name, then renamed, so a
reader never sees half a file; an object store's object appears whole when
its upload completes, so objects are written at their names directly.
"""

from __future__ import annotations

import contextlib
import os
from typing import IO, Any, Protocol

from storage import FlowtapeError
from storage.stores.object_backend import filesystem

__all__ = ["Output", "Pending", "open_output"]


class Pending(Protocol):
    """A file being written: fill ``stream``, then `commit` (or `discard`) it."""

    stream: IO[bytes]

    def commit(self) -> None: ...

    def discard(self) -> None: ...


class Output(Protocol):
    """The root an export writes under; paths are relative, ``/``-separated."""

    def show(self, rel: str) -> str:
        """``rel`` as the user would name it (a path, or a URL), for messages."""
        ...

    def read(self, rel: str) -> bytes | None:
        """The file's bytes; None when there is none."""
        ...

    def create(self, rel: str) -> Pending:
        """A new file at ``rel`` that others see only once committed."""
        ...

    def write(self, rel: str, data: bytes) -> None:
        """Write the whole file ``rel`` at once, replacing any before it."""
        ...

    def files(self, prefix: str) -> list[str]:
        """Every file below the directory ``prefix``, hidden ones included."""
        ...

    def remove(self, rel: str) -> None: ...


def _makedirs(path: str) -> None:
    """``os.makedirs`` with every directory it creates owner-only (``makedirs`` gives only
    the last one its ``mode``)."""
    if os.path.isdir(path):
        return
    _makedirs(os.path.dirname(path))
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)


class _LocalPending:
    def __init__(self, path: str) -> None:
        self.path = path
        head, name = os.path.split(path)
        _makedirs(head)
        self.tmp = os.path.join(head, f".{name}.tmp")
        fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(
            os, "O_CLOEXEC", 0), 0o600)
        self.stream: IO[bytes] = os.fdopen(fd, "wb")

    def commit(self) -> None:
        self.stream.close()
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        self.stream.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)


class LocalOutput:
    """A directory on this machine (created owner-only when missing)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        if os.path.exists(self.root) and not os.path.isdir(self.root):
            raise FlowtapeError(f"{root} is a file, not a directory; give the Parquet export "
                                "a directory (or an s3:// URL) with -o")

    def _path(self, rel: str) -> str:
        return os.path.join(self.root, *rel.split("/"))

    def show(self, rel: str) -> str:
        return self._path(rel)

    def read(self, rel: str) -> bytes | None:
        try:
            with open(self._path(rel), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def create(self, rel: str) -> Pending:
        return _LocalPending(self._path(rel))

    def write(self, rel: str, data: bytes) -> None:
        pending = self.create(rel)
        try:
            pending.stream.write(data)
        except BaseException:
            pending.discard()
            raise
        pending.commit()

    def files(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        found = []
        for top, _, names in os.walk(base):
            rel = os.path.relpath(top, self.root).replace(os.sep, "/")
            found += [f"{rel}/{n}" for n in names]
        return sorted(found)

    def remove(self, rel: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(rel))


class _RemotePending:
    def __init__(self, fs: Any, path: str) -> None:
        self.fs, self.path = fs, path
        self.stream: IO[bytes] = fs.open(path, "wb")

    def commit(self) -> None:
        self.stream.close()  # the object appears now, whole

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            self.stream.close()
        with contextlib.suppress(Exception):
            self.fs.rm_file(self.path)


class FsspecOutput:
    """A prefix on an object store (or anything fsspec reaches)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.fs, root = filesystem(self.url, {})
        self.root = root.rstrip("/")
        try:
            kind = self.fs.info(self.root).get("type")
        except FileNotFoundError:
            kind = None
        except Exception as exc:
            raise FlowtapeError(f"cannot reach {self.url}: {exc}") from None
        if kind == "file":
            raise FlowtapeError(f"{self.url} is a file, not a directory; give the Parquet "
                                "export a prefix to write under with -o")
        if kind is None:
            self._check_bucket()

    def _check_bucket(self) -> None:
        """On an object store, a prefix needs its bucket (the URL's first part) to exist."""
        bucket = self.root.split("/", 1)[0]
        if bucket == self.root:
            return
        try:
            there = bool(self.fs.exists(bucket))
        except Exception as exc:
            raise FlowtapeError(f"cannot reach {self.url}: {exc}") from None
        if not there:
            raise FlowtapeError(f"cannot export to {self.url}: there is no {bucket!r}; check "
                                "the URL and the endpoint, or create the bucket")

    def show(self, rel: str) -> str:
        return f"{self.url}/{rel}"

    def read(self, rel: str) -> bytes | None:
        try:
            return bytes(self.fs.cat_file(f"{self.root}/{rel}"))
        except FileNotFoundError:
            return None

    def create(self, rel: str) -> Pending:
        return _RemotePending(self.fs, f"{self.root}/{rel}")

    def write(self, rel: str, data: bytes) -> None:
        self.fs.pipe_file(f"{self.root}/{rel}", data)

    def files(self, prefix: str) -> list[str]:
        base = f"{self.root}/{prefix}"
        self.fs.invalidate_cache(base)
        try:
            found = self.fs.find(base)
        except FileNotFoundError:
            return []
        return sorted(str(p)[len(self.root) + 1:] for p in found)

    def remove(self, rel: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(f"{self.root}/{rel}")


def open_output(where: str) -> Output:
    """The output at ``where``: a directory path or ``file://`` URL, else an fsspec URL.

    Raises `FlowtapeError` when it names a file, ImportError naming the
    ``flowtape[s3]`` extra when a URL needs fsspec and it is missing.
    """
    if "://" not in where or where.startswith("file://"):
        return LocalOutput(where.removeprefix("file://"))
    return FsspecOutput(where)

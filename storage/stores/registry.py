"""Picking a store from a URL: `open_store` and the scheme table `STORE_SCHEMES`.

A directory path or ``file://`` URL is a `FileStore`, ``memory://[name]`` a
`MemoryStore`, and any scheme fsspec knows (``s3://`` …) an `FsspecStore`
(the optional ``flowtape[s3]`` extra, loaded when first used). An unknown
scheme is a `StoreError` listing the known ones. The stores themselves never
import this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..errors import StoreError
from .file import FileStore
from .memory import memory_store
from .object_backend import fsspec_protocols
from .object_store import FsspecStore
from .store import Store

__all__ = ["DEFAULT_STORE", "STORE_SCHEMES", "default_store_url", "open_store"]

DEFAULT_STORE = "./recordings"


def default_store_url() -> str:
    """``$FLOWTAPE_STORE`` or ``./recordings``, read now (not cached at import)."""
    return os.environ.get("FLOWTAPE_STORE") or DEFAULT_STORE


def _file_store(url: str, **options: Any) -> Store:
    return FileStore(url.removeprefix("file://"), **options)


def _memory_store(url: str, **options: Any) -> Store:
    return memory_store(url.removeprefix("memory://"), **options)


#: URL scheme -> how to open it. Any other scheme goes to fsspec (``flowtape[s3]``).
STORE_SCHEMES: dict[str, Callable[..., Store]] = {
    "file": _file_store,
    "memory": _memory_store,
}


def open_store(url: str | os.PathLike[str] | Store | None = None, **options: Any) -> Store:
    """The store at ``url``; a `Store` passed in is returned as it is.

    ``url`` is a directory path or ``file://`` URL (the default is
    ``$FLOWTAPE_STORE`` or ``./recordings``, read now), ``memory://[name]``
    (one store per name in this process), or any fsspec URL such as
    ``s3://bucket/prefix`` (needs ``pip install 'flowtape[s3]'``). Keyword
    ``options`` go to the store's constructor, e.g.
    ``open_store("s3://b/p", storage_options={"endpoint_url": ...})``.

    Raises `StoreError` for an unknown scheme (listing the known ones), and
    `MissingExtraError` (a StoreError and an ImportError) naming the extra to
    install when fsspec is missing.
    """
    if url is None:
        url = default_store_url()
    if not isinstance(url, str | os.PathLike):
        if options:
            raise TypeError("options apply to a store URL, not to a store object")
        return url
    text = os.fspath(url)
    if "://" not in text:
        return _file_store(text, **options)
    scheme = text.split("://", 1)[0].lower()
    if scheme in STORE_SCHEMES:
        return STORE_SCHEMES[scheme](scheme + text[len(scheme):], **options)
    known = fsspec_protocols()
    if scheme not in known:
        listed = ", ".join(sorted(STORE_SCHEMES)) + ", and fsspec's " + ", ".join(sorted(known))
        raise StoreError(f"unknown store URL scheme {scheme!r} in {text!r}; known schemes: "
                         f"{listed}")
    return FsspecStore(text, **options)

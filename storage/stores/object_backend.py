"""Loading fsspec and its backend late, and where object stores keep their local files.

fsspec and the backend (s3fs for ``s3://``) are the optional ``flowtape[s3]``
extra: they load on first use, and without them a `MissingExtraError` (a
`StoreError` and an ImportError) says what to install. Each object store
keeps its spool, catalog and downloaded copies in a local cache directory
(`default_cache_dir`).
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import MissingExtraError, StoreError

__all__ = ["INSTALL_HINT", "default_cache_dir", "filesystem", "fsspec_protocols"]

INSTALL_HINT = "pip install 'flowtape[s3]'"
# What open_store may hand to fsspec when fsspec itself is not installed (to say
# "install the extra" rather than "unknown scheme").
_COMMON_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss",
                               "hdfs", "webhdfs", "sftp", "ssh", "ftp", "http", "https",
                               "webdav", "smb", "dbfs", "oci", "r2"})


def fsspec_protocols() -> frozenset[str]:
    """URL schemes fsspec can open here (common ones when fsspec is not installed)."""
    try:
        from fsspec.registry import (  # type: ignore[import-untyped]  # noqa: PLC0415
            known_implementations,
            registry,
        )
    except ImportError:
        return _COMMON_PROTOCOLS
    return frozenset(known_implementations) | frozenset(registry)


def default_cache_dir() -> str:
    """``$FLOWTAPE_CACHE_DIR``, else ``$XDG_CACHE_HOME/flowtape``, else ``~/.cache/flowtape``."""
    explicit = os.environ.get("FLOWTAPE_CACHE_DIR")
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "flowtape")


def filesystem(url: str, storage_options: dict[str, Any]) -> tuple[Any, str]:
    """(fsspec filesystem, path inside it) for ``url``; `MissingExtraError` says what to
    install."""
    try:
        import fsspec  # type: ignore[import-untyped]  # noqa: PLC0415 (optional, loaded late)
    except ImportError as exc:
        raise MissingExtraError(f"the store {url!r} needs fsspec: {INSTALL_HINT}") from exc
    try:
        return fsspec.core.url_to_fs(url, **storage_options)  # type: ignore[no-any-return]
    except ImportError as exc:
        raise MissingExtraError(f"the store {url!r} needs a backend fsspec could not load "
                                f"({exc}); {INSTALL_HINT}") from exc
    except ValueError as exc:
        raise StoreError(f"cannot open the store {url!r}: {exc}") from None

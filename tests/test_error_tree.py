"""The error tree is drawn in one place (issue 11.6, SPEC §11).

Storage's errors are all defined in `storage/errors.py`; the recorder's and the
replayer's live in their own ``errors`` modules (they cannot be imported by storage), and
`storage.errors`' docstring draws every one of them under `FlowtapeError`.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import recorder
import replayer
import storage
import storage.errors
from storage import FlowtapeError

#: Errors that are internal signals, never seen by a user: where they are defined.
INTERNAL = {"UnsafeSpool": "recorder._spool"}


def _error_classes(package: object) -> dict[str, type]:
    """Every FlowtapeError subclass defined in any module of ``package``, by name."""
    found: dict[str, type] = {}
    path = package.__path__  # type: ignore[attr-defined]
    prefix = package.__name__ + "."  # type: ignore[attr-defined]
    for info in pkgutil.walk_packages(path, prefix):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, FlowtapeError)
                    and value.__module__ == info.name):
                found[name] = value
    return found


def test_storage_errors_are_all_defined_in_storage_errors() -> None:
    classes = _error_classes(storage)
    assert "CorruptRecordingError" in classes and "PatchError" in classes
    elsewhere = {n: c.__module__ for n, c in classes.items() if c.__module__ != "storage.errors"}
    assert elsewhere == {}


def test_every_public_error_lives_in_its_package_errors_module_and_is_drawn() -> None:
    tree = storage.errors.__doc__ or ""
    for package in (storage, recorder, replayer):
        for name, cls in _error_classes(package).items():
            if name in INTERNAL:
                assert cls.__module__ == INTERNAL[name]
                continue
            assert cls.__module__ == f"{package.__name__}.errors", (name, cls.__module__)
            assert name in tree, name
            assert name in package.__all__, (package.__name__, name)

"""The rooms' imports point one way (docs/architecture.md, SPEC §2).

Read from the source: every ``import`` and ``from … import`` of every module,
at its top or inside a function, resolved to the module it names. The
package-level rule (storage imports neither recorder nor replayer) is
tests/test_exported_members.py's.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: (importer, imported) pairs that cross a rule on purpose, each loaded at call time.
ALLOWED = {
    # Replayer.compare keeps its published shape in the compat module, built on the engine.
    ("replayer._replayer", "replayer._compat"),
    # The html format is the viewer's page; the viewer builds on the export room.
    ("replayer.export.html", "replayer.viewer"),
}

#: Room -> the rooms (prefixes) it may import, besides itself and the standard library.
STORAGE_RULES = {
    "storage.errors": (),
    "storage._words": (),
    "storage.format": ("storage.errors", "storage._words"),
    "storage.stores": ("storage.errors", "storage._words", "storage.format"),
    "storage.analysis": ("storage.errors", "storage._words", "storage.format"),
    # Arrow batches of a store's recordings: the one module that joins stores and analysis.
    "storage.dataset": ("storage.errors", "storage._words", "storage.format", "storage.stores",
                        "storage.analysis"),
}
ENGINE = ("replayer._replayer", "replayer._queries", "replayer._diff", "replayer._text",
          "replayer._dates", "replayer.errors")
REPLAYER_RULES = {
    **dict.fromkeys(ENGINE, ("storage", *ENGINE)),
    "replayer._compat": ("storage", *ENGINE, "replayer.export"),
    "replayer.terminal": ("storage", *ENGINE),
    "replayer.export": ("storage", *ENGINE),
    "replayer.viewer": ("storage", *ENGINE, "replayer.export"),
}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = ROOT) -> set[str]:
    """The flowtape modules ``path`` imports, resolved to absolute names."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level > 1:
                base = base[: len(base) - (node.level - 1)]
            target = ".".join([*base, node.module] if node.module else base) \
                if node.level else (node.module or "")
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] in ("storage", "replayer", "recorder")}


def room_of(module: str, rules: dict[str, tuple[str, ...]]) -> str | None:
    return next((room for room in sorted(rules, key=len, reverse=True)
                 if module == room or module.startswith(room + ".")), None)


def breaks(package: str, rules: dict[str, tuple[str, ...]], root: Path = ROOT) -> list[str]:
    """``importer -> imported`` for each import a room's rules do not allow."""
    out = []
    for path in sorted((root / package).rglob("*.py")):
        importer = module_name(path, root)
        room = room_of(importer, rules)
        if room is None:
            continue
        allowed = (room, *rules[room])
        for imported in sorted(imports(path, root)):
            if imported == package:  # the package face itself (e.g. `from storage import X`)
                if package == "storage" and room.startswith("storage"):
                    out.append(f"{importer} -> {imported}")
                continue
            ok = any(imported == a or imported.startswith(a + ".") for a in allowed)
            if not ok and (importer, room_of(imported, rules) or imported) not in ALLOWED \
                    and (importer, imported) not in ALLOWED:
                out.append(f"{importer} -> {imported}")
    return out


@pytest.mark.parametrize(("package", "rules"), [("storage", STORAGE_RULES),
                                                ("replayer", REPLAYER_RULES)])
def test_rooms_import_only_what_they_may(package: str,
                                         rules: dict[str, tuple[str, ...]]) -> None:
    """format imports only errors; stores and analysis import errors and format, never each
    other; the replayer's engine imports no room, and the terminal, export and viewer rooms
    import the engine (the viewer also the export room), never the command line."""
    assert breaks(package, rules) == []


def test_the_rule_check_sees_a_break(tmp_path: Path) -> None:
    """The check itself finds an import a rule forbids (a stores module importing analysis)."""
    probe = tmp_path / "storage" / "stores" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("from ..analysis import diff_recordings\n", encoding="utf-8")
    assert breaks("storage", STORAGE_RULES, tmp_path) == [
        "storage.stores.probe -> storage.analysis",
        "storage.stores.probe -> storage.analysis.diff_recordings"]

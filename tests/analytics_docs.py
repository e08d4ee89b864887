"""The recipes of docs/analytics.md, taken from the document itself for the tests to run.

Each SQL block the document marks ``<!-- recipe: NAME -->`` is a recipe; the
tests point its paths at their own stores and run it in DuckDB, so the SQL a
reader copies is the SQL that is tested.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

__all__ = ["DOC", "connect", "query", "recipes"]

DOC = Path(__file__).resolve().parent.parent / "docs" / "analytics.md"
_RECIPE = re.compile(r"<!-- recipe: ([a-z_]+) -->\s*```sql\n(.*?)```", re.S)


def recipes() -> dict[str, str]:
    """The SQL blocks of docs/analytics.md by recipe name."""
    return dict(_RECIPE.findall(DOC.read_text(encoding="utf-8")))


def connect(glob: str, filesystem: Any = None) -> Any:
    """A DuckDB connection with the document's views over the recordings ``glob`` names
    (read through the fsspec ``filesystem`` when one is given)."""
    con = duckdb.connect()
    if filesystem is not None:
        con.register_filesystem(filesystem)
    con.execute(recipes()["views"].replace("recordings/*.jsonl.zst", glob))
    return con


def query(con: Any, name: str) -> list[tuple[Any, ...]]:
    """The rows recipe ``name`` answers on ``con``."""
    return list(con.execute(recipes()[name]).fetchall())

"""Path-level value diffs, ignore rules and numeric tolerance (SPEC §6).

Differences are named by §6 value paths (``outputs.result.score``,
``inputs.messages[2].content``), written as `storage.analysis.paths` writes
them.

An ignore rule is a glob over such paths where ``*`` matches any characters,
dots included, optionally prefixed by a node glob and a colon
(``fetch_*:outputs.headers``). A rule that matches a path also matches
everything below it, so ``state.cache`` ignores ``state.cache.hits``.

A ``$truncated`` stand-in (a payload over the recorder's size limit) is an
unknown value, not a dict: it is compared as a whole, never key by key, and
two equal stand-ins (same size, same preview) count as equal — nothing more
can be known. `unknown_sides` says which sides of a difference are such.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec

from ..format.placeholders import is_truncated
from .paths import child_path, index_path, node_matches

__all__ = ["ABSENT", "IgnoreRules", "ValueDiffer", "unknown_sides"]

#: Stands for "no value here" (a key missing on one side); encoders omit it.
ABSENT: Any = msgspec.UNSET

class _Rule:
    __slots__ = ("node_glob", "path", "pattern", "regex")

    def __init__(self, pattern: str) -> None:
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"an ignore rule must be a non-empty string, not {pattern!r}")
        self.pattern = pattern
        node_glob, path = _split_node(pattern)
        if not path:
            raise ValueError(f"ignore rule {pattern!r} has no path after the node glob; "
                             "write e.g. 'fetch_*:outputs.headers' or 'fetch_*:*'")
        self.node_glob = node_glob
        self.path = path
        body = ".*".join(re.escape(part) for part in path.split("*"))
        # Match the path itself or anything below it (a rule names a subtree).
        self.regex = re.compile(rf"(?:{body})(?:\Z|[.\[])", re.DOTALL)

    def matches(self, node: str | None, path: str) -> bool:
        if self.node_glob is not None and not node_matches(node, self.node_glob):
            return False
        return self.regex.match(path) is not None


def _split_node(pattern: str) -> tuple[str | None, str]:
    """``("fetch_*", "outputs.headers")`` for ``"fetch_*:outputs.headers"``.

    The first colon outside brackets separates the node glob; a pattern
    without one applies to every node (and to ``state``).
    """
    depth = 0
    for i, c in enumerate(pattern):
        if c == "[":
            depth += 1
        elif c == "]":
            depth = max(0, depth - 1)
        elif c == ":" and depth == 0:
            return pattern[:i], pattern[i + 1:]
    return None, pattern


class IgnoreRules:
    """Compiled ignore globs. ``rules.ignored(node, path)``; empty rules ignore nothing."""

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        if isinstance(patterns, str):
            patterns = [patterns]
        self.rules = [_Rule(p) for p in patterns]

    def __bool__(self) -> bool:
        return bool(self.rules)

    def ignored(self, node: str | None, path: str) -> bool:
        """True when a rule matches ``path`` (or one of its ancestors) for ``node``.

        ``node`` is None for state paths, which node-prefixed rules never match.
        """
        return any(r.matches(node, path) for r in self.rules)

    def may_touch(self, part: str) -> bool:
        """Whether some rule could match a path under ``part`` (``inputs``, ``outputs``, …)."""
        return any(r.path == part or r.path.startswith(("*", part + ".", part + "["))
                   for r in self.rules)


def unknown_sides(a: Any, b: Any) -> list[str]:
    """``["a"]``, ``["b"]``, both or neither: the sides whose value is a ``$truncated``
    stand-in, i.e. not known (see the module docstring)."""
    return [side for side, v in (("a", a), ("b", b)) if is_truncated(v)]


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


class ValueDiffer:
    """Compares two JSON values and lists the paths where they differ.

    Numbers (ints and floats alike, never bools) are equal when they differ
    by at most ``numeric_tolerance``, or by at most ``relative_tolerance``
    times the larger magnitude. Lists compare index by index; a type change
    is one change at that path with both whole values.
    """

    def __init__(self, rules: IgnoreRules | None = None, *, numeric_tolerance: float = 0.0,
                 relative_tolerance: float = 0.0) -> None:
        if numeric_tolerance < 0 or relative_tolerance < 0:
            raise ValueError("tolerances must be >= 0, not "
                             f"{numeric_tolerance!r} / {relative_tolerance!r}")
        self.rules = rules or IgnoreRules()
        self.abs_tol = float(numeric_tolerance)
        self.rel_tol = float(relative_tolerance)

    def numbers_equal(self, a: float, b: float) -> bool:
        if a == b:
            return True
        delta = abs(a - b)
        return delta <= self.abs_tol or delta <= self.rel_tol * max(abs(a), abs(b))

    def diff(self, a: Any, b: Any, path: str, node: str | None = None
             ) -> list[tuple[str, Any, Any]]:
        """``(path, a, b)`` for every differing, non-ignored place (`ABSENT` for a missing side)."""
        out: list[tuple[str, Any, Any]] = []
        self._walk(a, b, path, node, out)
        return out

    def _walk(self, a: Any, b: Any, path: str, node: str | None,
              out: list[tuple[str, Any, Any]]) -> None:
        rules = self.rules
        if rules and rules.ignored(node, path):
            return
        if is_truncated(a) or is_truncated(b):  # unknown: one change here, or none if equal
            if a != b:
                out.append((path, a, b))
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k, va in a.items():
                self._walk(va, b.get(k, ABSENT), child_path(path, k), node, out)
            for k, vb in b.items():
                if k not in a:
                    self._walk(ABSENT, vb, child_path(path, k), node, out)
            return
        if isinstance(a, list) and isinstance(b, list):
            n = max(len(a), len(b))
            for i in range(n):
                self._walk(a[i] if i < len(a) else ABSENT, b[i] if i < len(b) else ABSENT,
                           index_path(path, i), node, out)
            return
        if _is_number(a) and _is_number(b):
            if not self.numbers_equal(a, b):
                out.append((path, a, b))
            return
        if type(a) is not type(b) or a != b:
            out.append((path, a, b))

    def scrub(self, value: Any, path: str, node: str | None) -> Any:
        """``value`` without the parts the rules ignore (for fingerprints that honour them)."""
        rules = self.rules
        if isinstance(value, dict):
            return {k: self.scrub(v, child_path(path, k), node) for k, v in value.items()
                    if not rules.ignored(node, child_path(path, k))}
        if isinstance(value, list):
            return [self.scrub(v, index_path(path, i), node) for i, v in enumerate(value)
                    if not rules.ignored(node, index_path(path, i))]
        return value

"""§6 value paths: one grammar to write, read, point at and look up values (SPEC §6)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.analysis.paths import (
    MISSING,
    Unknown,
    child_path,
    format_path,
    lookup,
    node_matches,
    parse_path,
    parse_state_path,
    pointer,
    pointer_parts,
    unpointer,
)

parts_strategy = st.lists(st.one_of(st.text(min_size=1), st.integers(0, 99)), max_size=5)


@given(parts=parts_strategy)
def test_a_written_path_reads_back(parts: list[str | int]) -> None:
    """format_path and parse_path are inverse; pointer and unpointer keep the keys."""
    if parts and isinstance(parts[0], int):
        parts = ["root", *parts]  # a path starts with a key
    assert parse_path(format_path(parts)) == parts
    assert unpointer(pointer(parts)) == [str(p) for p in parts]


def test_odd_keys_are_bracketed_json_safe_on_a_terminal() -> None:
    """A key that is not a plain word is a JSON string in brackets, DEL and C1 escaped."""
    assert child_path("outputs", "a.b") == 'outputs["a.b"]'
    assert child_path("", "score") == "score"
    assert format_path(["x", "\x1b]0;t\x07", "\x9b"]) == r'x["\u001b]0;t\u0007"]["\u009b"]'
    assert parse_state_path("state.cart.items[-1]") == ["cart", "items", -1]
    with pytest.raises(ValueError, match="not a state path"):
        parse_state_path("cart..items")


def test_pointer_parts_tell_indices_by_the_documents() -> None:
    """A digit token is an index under a list, a key under a dict; without documents, digits
    are indices."""
    doc = {"a": [10, {"0": "zero"}]}
    assert pointer_parts("/a/1/0", doc) == ["a", 1, "0"]
    assert pointer_parts("/a/1/0") == ["a", 1, 0]
    assert pointer_parts("no-slash") == ["o-slash"]  # shown, never raised


def test_lookup_tells_missing_and_unknown_apart() -> None:
    """A path leading nowhere is MISSING; one into a truncated payload is Unknown."""
    state = {"a": {"$truncated": 521, "$preview": "…"}, "b": [1]}
    assert lookup(state, ["b", -1]) == 1
    assert lookup(state, ["c"]) is MISSING
    unknown = lookup(state, ["a", "x"])
    assert isinstance(unknown, Unknown) and str(unknown) == "(unknown: a truncated, was 521 bytes)"


@pytest.mark.parametrize(("node", "pattern", "matches"), [
    ("fetch_a", "fetch_*", True), ("fetch_a", "fetch_a", True), ("Fetch_a", "fetch_*", False),
    ("a[1]", "a[1]", False), ("a1", "a[1]", True), (None, "*", False), ("x", "y", False),
])
def test_node_globs(node: str | None, pattern: str, matches: bool) -> None:
    """A node pattern is a case-sensitive glob, or the id itself; no node matches nothing."""
    assert node_matches(node, pattern) is matches

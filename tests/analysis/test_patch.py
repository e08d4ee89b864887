"""RFC 6902 JSON Patch (storage/patch.py): make, apply, and refuse what does not apply."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import json_dicts, json_keys, json_values, strict_equal

from storage import FlowtapeError, PatchError, apply_patch, make_patch
from storage.analysis.paths import pointer, unpointer


# --- make_patch / apply_patch round trip ----------------------------------------------
@given(json_values, json_values)
def test_apply_of_make_gives_the_target(a: Any, b: Any) -> None:
    """Applying make_patch(a, b) to a yields b exactly, types included."""
    assert strict_equal(apply_patch(a, make_patch(a, b)), b)


@given(json_dicts, json_dicts)
def test_round_trip_survives_encoding(a: Any, b: Any) -> None:
    """A patch still turns a into b after it went through JSON, as it does on disk."""
    ops = msgspec.json.decode(msgspec.json.encode(make_patch(a, b)))
    assert strict_equal(apply_patch(a, ops), b)


@given(json_values)
def test_no_change_is_an_empty_patch(a: Any) -> None:
    """make_patch of a value against an equal copy is empty."""
    assert make_patch(a, copy.deepcopy(a)) == []


@given(json_values, json_values)
def test_neither_input_is_changed(a: Any, b: Any) -> None:
    """make_patch and apply_patch leave both documents as they were."""
    a0, b0 = copy.deepcopy(a), copy.deepcopy(b)
    apply_patch(a, make_patch(a, b))
    assert strict_equal(a, a0)
    assert strict_equal(b, b0)


@given(json_values, json_values)
def test_applied_result_shares_nothing_with_the_patch(a: Any, b: Any) -> None:
    """Changing the result of apply_patch does not change the patch's values."""
    ops = make_patch(a, b)
    before = copy.deepcopy(ops)
    result = apply_patch(a, ops)
    if isinstance(result, dict):
        result.clear()
    elif isinstance(result, list):
        result.append("x")
    assert ops == before


def test_in_place_changes_the_document() -> None:
    """apply_patch(in_place=True) edits the document it was given."""
    doc = {"a": [1]}
    out = apply_patch(doc, [{"op": "add", "path": "/a/-", "value": 2}], in_place=True)
    assert out is doc
    assert doc == {"a": [1, 2]}


# --- type strictness ---------------------------------------------------------------------
@pytest.mark.parametrize(("old", "new"), [
    (1, True), (True, 1), (1, 1.0), (1.0, 1), (0, False), (False, None), ("1", 1),
    ([1], [True]), ({"x": 1}, {"x": 1.0}), ({"x": [0]}, {"x": [False]}), ({}, []),
])
def test_type_changes_are_changes(old: Any, new: Any) -> None:
    """1, True and 1.0 are different JSON values, so a patch records the change."""
    ops = make_patch(old, new)
    assert ops != []
    assert strict_equal(apply_patch(old, ops), new)


def test_test_op_is_type_strict() -> None:
    """The test op fails when the value is equal in Python but of another JSON type."""
    with pytest.raises(PatchError):
        apply_patch({"x": 1}, [{"op": "test", "path": "/x", "value": True}])
    with pytest.raises(PatchError):
        apply_patch({"x": 1}, [{"op": "test", "path": "/x", "value": 1.0}])
    assert apply_patch({"x": 1}, [{"op": "test", "path": "/x", "value": 1}]) == {"x": 1}


# --- JSON Pointer escaping (RFC 6901) ------------------------------------------------------
@pytest.mark.parametrize(("parts", "text"), [
    ([], ""),
    ([""], "/"),
    (["a/b"], "/a~1b"),
    (["m~n"], "/m~0n"),
    (["~1"], "/~01"),
    (["~0"], "/~00"),
    (["/~"], "/~1~0"),
    (["a", 0, "b"], "/a/0/b"),
])
def test_pointer_escaping(parts: list[str | int], text: str) -> None:
    """Keys with ~ and / are escaped as ~0 and ~1, in that order, and read back."""
    assert pointer(parts) == text
    assert unpointer(text) == [str(p) for p in parts]


@given(st.lists(json_keys, max_size=4))
def test_pointer_round_trip(parts: list[str]) -> None:
    """Any list of keys survives pointer() then unpointer()."""
    assert unpointer(pointer(parts)) == parts


@given(json_keys, json_values, json_values)
def test_awkward_keys_round_trip(key: str, v1: Any, v2: Any) -> None:
    """Patches address keys holding ~, / and digits correctly, nested too."""
    a = {key: {key: v1}, "k": 1}
    b = {key: {key: v2}}
    assert strict_equal(apply_patch(a, make_patch(a, b)), b)


def test_rfc6901_examples() -> None:
    """The RFC 6901 §5 example document resolves every listed pointer."""
    doc = {"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4,
           "i\\j": 5, 'k"l': 6, " ": 7, "m~n": 8}
    for ptr, want in [("/foo/0", "bar"), ("/", 0), ("/a~1b", 1), ("/c%d", 2), ("/e^f", 3),
                      ("/g|h", 4), ("/i\\j", 5), ('/k"l', 6), ("/ ", 7), ("/m~0n", 8)]:
        assert apply_patch(doc, [{"op": "test", "path": ptr, "value": want}]) == doc


# --- each operation (RFC 6902 §4 and appendix A) ----------------------------------------------
@pytest.mark.parametrize(("doc", "ops", "want"), [
    # A.1 add an object member
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}],
     {"foo": "bar", "baz": "qux"}),
    # A.2 add an array element
    ({"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}],
     {"foo": ["bar", "qux", "baz"]}),
    # add at the end with "-"
    ({"foo": [1]}, [{"op": "add", "path": "/foo/-", "value": 2}], {"foo": [1, 2]}),
    # add at index == length appends
    ({"foo": [1]}, [{"op": "add", "path": "/foo/1", "value": 2}], {"foo": [1, 2]}),
    # add to an existing member replaces it
    ({"foo": 1}, [{"op": "add", "path": "/foo", "value": 2}], {"foo": 2}),
    # add at the root replaces the document
    ({"foo": 1}, [{"op": "add", "path": "", "value": [1]}], [1]),
    # A.3 remove an object member
    ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    # A.4 remove an array element
    ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}],
     {"foo": ["bar", "baz"]}),
    # A.5 replace a value
    ({"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}],
     {"baz": "boo", "foo": "bar"}),
    # replace the last array element
    ({"a": [1, 2]}, [{"op": "replace", "path": "/a/1", "value": 3}], {"a": [1, 3]}),
    # replace the root
    ({"a": 1}, [{"op": "replace", "path": "", "value": {"b": 2}}], {"b": 2}),
    # A.6 move a value
    ({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    # A.7 move an array element
    ({"foo": ["all", "grass", "cows", "eat"]}, [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
     {"foo": ["all", "cows", "eat", "grass"]}),
    # move onto itself is a no-op
    ({"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a"}], {"a": {"b": 1}}),
    # copy
    ({"a": {"b": [1]}}, [{"op": "copy", "from": "/a/b", "path": "/c"}],
     {"a": {"b": [1]}, "c": [1]}),
    # A.8 test that succeeds
    ({"baz": "qux", "foo": ["a", 2, "c"]},
     [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
     {"baz": "qux", "foo": ["a", 2, "c"]}),
    # A.10 add a nested member object
    ({"foo": "bar"}, [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
     {"foo": "bar", "child": {"grandchild": {}}}),
    # A.11 unrecognised members are ignored
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}],
     {"foo": "bar", "baz": "qux"}),
    # A.14 ~ escape ordering
    ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
    # A.16 add an array value
    ({"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
     {"foo": ["bar", ["abc", "def"]]}),
    # test a whole container
    ({"a": {"b": [1, {"c": None}]}},
     [{"op": "test", "path": "/a", "value": {"b": [1, {"c": None}]}}],
     {"a": {"b": [1, {"c": None}]}}),
])
def test_operations(doc: Any, ops: list[dict[str, Any]], want: Any) -> None:
    """Each RFC 6902 operation does what the RFC's examples say."""
    before = copy.deepcopy(doc)
    assert strict_equal(apply_patch(doc, ops), want)
    assert doc == before


def test_copy_is_independent_of_its_source() -> None:
    """A copied value is a copy: changing it later leaves the source alone."""
    out = apply_patch({"a": {"x": 1}}, [{"op": "copy", "from": "/a", "path": "/b"},
                                        {"op": "replace", "path": "/b/x", "value": 2}])
    assert out == {"a": {"x": 1}, "b": {"x": 2}}


def test_added_value_is_a_copy_of_the_patch_value() -> None:
    """Applying a patch twice gives two results that share nothing with the patch."""
    ops = [{"op": "add", "path": "/a", "value": {"x": [1]}}]
    first = apply_patch({}, ops)
    first["a"]["x"].append(2)
    assert apply_patch({}, ops) == {"a": {"x": [1]}}


# --- errors are PatchError (and nothing else) ---------------------------------------------------
BAD_PATCHES: list[tuple[Any, Any]] = [
    ({"a": 1}, [{"op": "remove", "path": "/b"}]),                      # A.? missing member
    ({"a": 1}, [{"op": "replace", "path": "/b", "value": 1}]),
    ({"a": [1]}, [{"op": "remove", "path": "/a/1"}]),                  # index out of range
    ({"a": [1]}, [{"op": "add", "path": "/a/2", "value": 1}]),         # A.? past the end
    ({"a": [1]}, [{"op": "remove", "path": "/a/-"}]),                  # "-" names no element
    ({"a": [1, 2]}, [{"op": "remove", "path": "/a/01"}]),              # leading zero
    ({"a": [1]}, [{"op": "remove", "path": "/a/x"}]),                  # not an index
    ({"a": [1]}, [{"op": "remove", "path": "/a/-1"}]),                 # negative
    ({"a": [1]}, [{"op": "remove", "path": "/a/\u0661"}]),             # Arabic-Indic digit one
    ({"a": [1]}, [{"op": "remove", "path": "/a/\u00b2"}]),             # superscript two
    ({"a": [1]}, [{"op": "remove", "path": "/a/" + "1" * 5000}]),      # more digits than int()
    ({"a": 1}, [{"op": "add", "path": "/a/b", "value": 1}]),           # descend into a scalar
    ({"a": 1}, [{"op": "add", "path": "/x/y", "value": 1}]),           # A.12 missing parent
    ({"a": 1}, [{"op": "add", "path": "a", "value": 1}]),              # no leading slash
    ({"a": 1}, [{"op": "add", "path": 5, "value": 1}]),                # path not a string
    ({"a": 1}, [{"op": "add", "path": "/b"}]),                         # add without value
    ({"a": 1}, [{"op": "replace", "path": "/a"}]),                     # replace without value
    ({"a": 1}, [{"op": "test", "path": "/a"}]),                        # test without value
    ({"a": 1}, [{"op": "move", "path": "/b"}]),                        # move without from
    ({"a": 1}, [{"op": "copy", "path": "/b"}]),                        # copy without from
    ({"a": 1}, [{"op": "copy", "from": "/nope", "path": "/b"}]),
    ({"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a/b/c"}]),  # into its own child
    ({"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a/c"}]),
    ({"a": 1}, [{"op": "move", "from": "", "path": "/b"}]),            # the root into itself
    ({"a": 1}, [{"op": "move", "from": "/x", "path": "/x"}]),          # onto itself, but absent
    ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}]),  # A.9 failed test
    ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}]),  # A.15
    ({"a": 1}, [{"op": "frobnicate", "path": "/a"}]),                  # unknown op
    ({"a": 1}, [{"path": "/a", "value": 1}]),                          # no op
    ({"a": 1}, [{"op": "add", "value": 1}]),                           # no path
    ({"a": 1}, ["add"]),                                               # not an object
    ({"a": 1}, [None]),
    ({"a": 1}, {"op": "add", "path": "/b", "value": 1}),               # not a list of ops
    ({"a": 1}, None),
    (5, [{"op": "add", "path": "/a", "value": 1}]),                    # add into a scalar
    (None, [{"op": "remove", "path": "/a"}]),
]


@pytest.mark.parametrize(("doc", "ops"), BAD_PATCHES)
def test_bad_patches_raise_patch_error(doc: Any, ops: Any) -> None:
    """A patch that does not apply raises PatchError (a FlowtapeError and a ValueError)."""
    with pytest.raises(PatchError) as info:
        apply_patch(doc, ops)
    assert isinstance(info.value, FlowtapeError)
    assert isinstance(info.value, ValueError)


_ops = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "nope"]),
     "path": st.one_of(st.text(alphabet="/ab01-~", max_size=8), st.integers(), st.none())},
    optional={"value": json_values,
              "from": st.one_of(st.text(alphabet="/ab01-~", max_size=8), st.none())},
)


@given(json_values, st.lists(st.one_of(_ops, json_values), max_size=4))
def test_garbage_patches_raise_only_patch_error(doc: Any, ops: list[Any]) -> None:
    """Whatever a patch holds, applying it either works or raises PatchError."""
    with contextlib.suppress(PatchError):
        apply_patch(doc, ops)

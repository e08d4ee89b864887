"""Hypothesis strategies shared by the tests, and the settings profile they run under.

JSON-like values are what a recording holds (dicts with str keys, lists, str,
int, float, bool, None); state-mutation sequences drive `snapshot()` the way a
workflow changes its state between calls. The ``flowtape`` profile keeps
example counts modest so the whole suite stays fast on two cores;
``FLOWTAPE_HYPOTHESIS_PROFILE=flowtape-thorough`` runs 1000 examples a test.
The reader's fuzz tests (tests/format/test_fuzz_reader.py) run under
`FUZZ_SETTINGS`: ``FLOWTAPE_FUZZ_EXAMPLES`` examples a test (default 300;
``FLOWTAPE_FUZZ_EXAMPLES=20000`` for a long run).
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = [
    "FUZZ_SETTINGS",
    "apply_mutation",
    "json_dicts",
    "json_keys",
    "json_scalars",
    "json_values",
    "mutation_sequences",
    "mutations",
    "strict_equal",
]

settings.register_profile(
    "flowtape",
    max_examples=60,
    deadline=None,
    database=None,  # no .hypothesis/ litter in the checkout; failures print their example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("flowtape-thorough", parent=settings.get_profile("flowtape"),
                          max_examples=1000)
settings.load_profile(os.environ.get("FLOWTAPE_HYPOTHESIS_PROFILE", "flowtape"))

#: The fuzz tests' settings: many cheap examples, a count set by ``FLOWTAPE_FUZZ_EXAMPLES``.
FUZZ_SETTINGS = settings(settings.get_profile("flowtape"),
                         max_examples=int(os.environ.get("FLOWTAPE_FUZZ_EXAMPLES", "300")))

#: Keys that exercise JSON Pointer escaping (``~`` -> ``~0``, ``/`` -> ``~1``) and
#: list-index look-alikes, besides ordinary text.
json_keys = st.one_of(
    st.sampled_from(["", "a", "b", "~", "/", "~0", "~1", "a/b", "m~n", "0", "01", "-", " "]),
    st.text(alphabet="ab~/01-", max_size=4),
    st.text(max_size=6),
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(json_keys, children, max_size=5),
    )


#: Any JSON value, nested a few levels deep.
json_values = st.recursive(json_scalars, _containers, max_leaves=20)

#: A JSON object (the usual shape of a workflow's state).
json_dicts = st.dictionaries(json_keys, json_values, max_size=6)


def strict_equal(a: Any, b: Any) -> bool:
    """JSON equality that tells ``1``, ``True`` and ``1.0`` apart (Python's ``==`` does not)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strict_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# --- state mutations -----------------------------------------------------------------
#: One change a workflow makes to its state dict between two snapshots.
mutations = st.one_of(
    st.tuples(st.just("set"), json_keys, json_values),
    st.tuples(st.just("delete"), json_keys),
    st.tuples(st.just("nest"), json_keys, json_keys, json_values),
    st.tuples(st.just("append"), json_keys, json_values),
    st.tuples(st.just("pop"), json_keys),
    st.tuples(st.just("noop")),
)

#: A run of changes, each followed by a snapshot.
mutation_sequences = st.lists(st.lists(mutations, max_size=3), min_size=1, max_size=12)


def apply_mutation(state: dict[str, Any], mutation: tuple[Any, ...]) -> None:
    """Change ``state`` in place as ``mutation`` says (reaching into nested dicts and lists)."""
    op = mutation[0]
    if op == "set":
        state[mutation[1]] = mutation[2]
    elif op == "delete":
        state.pop(mutation[1], None)
    elif op == "nest":
        inner = state.get(mutation[1])
        if not isinstance(inner, dict):
            inner = state[mutation[1]] = {}
        inner[mutation[2]] = mutation[3]
    elif op == "append":
        inner = state.get(mutation[1])
        if not isinstance(inner, list):
            inner = state[mutation[1]] = []
        inner.append(mutation[2])
    elif op == "pop":
        inner = state.get(mutation[1])
        if isinstance(inner, list) and inner:
            inner.pop(0)

"""What a payload becomes: the record_* switches, placeholders, the size limit, masking."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from recording_nodes import double, echo

from recorder import (
    DEFAULT_REDACT_KEYS,
    REDACTED,
    node,
    record_workflow,
)

Read = Callable[..., Any]


class Opaque:
    """A value msgspec cannot encode."""

    def __repr__(self) -> str:
        return "Opaque()"


class BadRepr:
    """A value whose repr itself fails."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def is_placeholder(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"$repr", "$type"}



# --- record_* switches ---------------------------------------------------------------------------
def test_inputs_outputs_and_state_can_be_switched_off(store: Path, read: Read) -> None:
    """record_inputs/outputs/state_snapshots=False leave those payloads out."""
    with record_workflow("etl", store=store, record_inputs=False, record_outputs=False,
                         record_state_snapshots=False) as rec:
        double(1)
        assert rec.snapshot({"a": 1}) is None
    r = read(rec)
    assert r.kinds() == ["workflow_start", "node_start", "node_complete", "workflow_complete"]
    assert [e.data for e in r.events] == [None, None, None, None]
    assert r.header.config["record_inputs"] is False


# --- values that cannot be encoded ---------------------------------------------------------------
def _cycle() -> dict[str, Any]:
    d: dict[str, Any] = {"a": 1}
    d["self"] = d
    return d


def _list_cycle() -> list[Any]:
    lst: list[Any] = [1]
    lst.append(lst)
    return lst


@pytest.mark.parametrize("make", [
    Opaque, BadRepr, lambda: {Opaque()},
    _cycle, _list_cycle, lambda: [Opaque(), {"deep": {frozenset({1}): 2}}],
    lambda: {"fn": print, "gen": (i for i in range(3))},
], ids=["object", "bad-repr", "set-of-objects", "dict-cycle", "list-cycle", "nested",
        "callables"])
def test_unencodable_values_become_placeholders(make: Callable[[], Any], store: Path,
                                                read: Read) -> None:
    """Values msgspec cannot encode are recorded as {"$repr", "$type"} and never raise."""
    value = make()
    with record_workflow("etl", store=store) as rec:
        assert echo(value) is value
        rec.event("e", value)
        rec.snapshot({"v": value})
        rec.checkpoint("c", value)
    r = read(rec)
    assert r.status == "completed"
    assert r.footer.degraded == []
    recorded = [r.of_kind("node_start")[0].data["inputs"]["value"],
                r.of_kind("node_complete")[0].data["outputs"],
                r.of_kind("custom")[0].data["value"],
                r.of_kind("state")[0].state["v"],
                r.of_kind("checkpoint")[0].data["value"]]
    for got in recorded:
        assert got == recorded[0]
        assert _has_placeholder(got), got


def _has_placeholder(value: Any) -> bool:
    if is_placeholder(value):
        return True
    if isinstance(value, dict):
        return any(_has_placeholder(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_placeholder(v) for v in value)
    return False


def test_placeholder_names_the_type(store: Path, read: Read) -> None:
    """A placeholder holds the value's repr and its module-qualified type."""
    with record_workflow("etl", store=store) as rec:
        rec.event("e", Opaque())
        rec.event("f", BadRepr())
    a, b = (e.data["value"] for e in read(rec).of_kind("custom"))
    assert a == {"$repr": "Opaque()", "$type": f"{__name__}.Opaque"}
    assert b["$type"] == f"{__name__}.BadRepr"


def test_a_cycle_is_cut_with_a_placeholder(store: Path, read: Read) -> None:
    """A self-referencing dict is recorded up to the cycle, which becomes a placeholder."""
    with record_workflow("etl", store=store) as rec:
        rec.event("e", _cycle())
    value = read(rec).of_kind("custom")[0].data["value"]
    assert value["a"] == 1
    assert is_placeholder(value["self"])


def test_numbers_keys_and_rich_types_are_kept(store: Path, read: Read) -> None:
    """Int keys, big ints, bytes and tuples are encoded, not replaced by placeholders."""
    with record_workflow("etl", store=store) as rec:
        rec.event("e", {"big": 2**70, "ints": {1: "a"}, "t": (1, 2), "b": b"\x00"})
    assert read(rec).of_kind("custom")[0].data["value"] == {
        "big": 2**70, "ints": {"1": "a"}, "t": [1, 2], "b": "AA=="}


# --- payload size limit --------------------------------------------------------------------------
def test_oversized_payloads_are_truncated_and_noted(store: Path, read: Read) -> None:
    """A payload over max_payload_bytes becomes {"$truncated", "$preview"}, noted in dropped."""
    big = "x" * 5000

    @node
    def load(blob: str) -> str:
        return blob

    with record_workflow("etl", store=store, max_payload_bytes=1024) as rec:
        load(big)
        rec.event("e", {"blob": big})
        rec.event("small", {"n": 1})
    r = read(rec)
    start, done = r.of_kind("node_start", "node_complete")
    custom = r.of_kind("custom")[0]
    for payload in (start.data["inputs"], done.data["outputs"], custom.data["value"]):
        assert set(payload) == {"$truncated", "$preview"}
        assert payload["$truncated"] > 5000
        assert payload["$preview"].startswith(("{", '"x'))
        assert len(payload["$preview"]) < 1024
    assert r.of_kind("custom")[1].data == {"name": "small", "value": {"n": 1}}
    assert len(r.footer.dropped) == 3
    assert all("truncated" in note for note in r.footer.dropped)
    assert r.status == "completed"


def test_oversized_state_is_truncated_and_the_next_one_is_a_keyframe(store: Path,
                                                                     read: Read) -> None:
    """An oversized state is truncated and noted; the next snapshot starts a fresh keyframe."""
    with record_workflow("etl", store=store, max_payload_bytes=1024) as rec:
        rec.snapshot({"a": 1, "pad": "p" * 100})
        rec.snapshot({"a": 2, "pad": "p" * 100, "blob": "x" * 5000})
        rec.snapshot({"a": 3, "pad": "p" * 100})
    r = read(rec)
    s0, s1, s2 = r.of_kind("state")
    assert set(s1.state) == {"$truncated", "$preview"}
    assert s2.state == {"a": 3, "pad": "p" * 100}
    assert len(r.footer.dropped) == 1
    assert r.footer.index.keyframes == [s0.seq, s1.seq, s2.seq]


# --- redaction -----------------------------------------------------------------------------------
def test_default_keys_are_masked_at_any_depth_ignoring_case(store: Path, read: Read) -> None:
    """password, secret, token, api_key, authorization, cookie... are masked anywhere."""
    assert {"password", "secret", "token", "api_key", "authorization", "cookie"} \
        <= set(DEFAULT_REDACT_KEYS)
    payload = {
        "user": "ann", "Password": "hunter2",
        "headers": [{"Authorization": "Bearer x", "Accept": "*/*"}, ("COOKIE", "c")],
        "cfg": {"db": {"API_KEY": "k", "Token": {"nested": "too"}}, "secret": None},
        "tokens": 3,
    }
    with record_workflow("etl", store=store) as rec:
        rec.event("e", payload)
        rec.snapshot(payload)
        echo({"token": "t"})
    r = read(rec)
    want = {
        "user": "ann", "Password": REDACTED,
        "headers": [{"Authorization": REDACTED, "Accept": "*/*"}, ["COOKIE", REDACTED]],
        "cfg": {"db": {"API_KEY": REDACTED, "Token": REDACTED}, "secret": REDACTED},
        "tokens": 3,
    }
    assert r.of_kind("custom")[0].data["value"] == want
    assert r.of_kind("state")[0].state == want
    assert r.of_kind("node_start")[0].data["inputs"] == {"value": {"token": REDACTED}}


def test_a_redact_set_replaces_the_default_keys(store: Path, read: Read) -> None:
    """redact={"ssn"} masks ssn (any case) and no longer masks password."""
    with record_workflow("etl", store=store, redact={"ssn"}) as rec:
        rec.event("e", {"SSN": "123", "password": "p", "x": [{"ssn": 1}]})
    assert read(rec).of_kind("custom")[0].data["value"] == {
        "SSN": REDACTED, "password": "p", "x": [{"ssn": REDACTED}]}


def test_an_empty_redact_set_masks_nothing(store: Path, read: Read) -> None:
    """redact=set() turns key masking off."""
    with record_workflow("etl", store=store, redact=set()) as rec:
        rec.event("e", {"password": "p"})
    assert read(rec).of_kind("custom")[0].data["value"] == {"password": "p"}


def test_redact_callable_is_called_once_per_payload_with_its_path(store: Path,
                                                                  read: Read) -> None:
    """redact=callable gets (path, whole value) once per payload and its result is recorded."""
    calls: list[tuple[str, Any]] = []

    def scrub(path: str, value: Any) -> Any:
        calls.append((path, copy.deepcopy(value)))
        if isinstance(value, dict) and "email" in value:
            return {**value, "email": "***"}
        return value

    @node
    def fail(user: dict[str, Any]) -> None:
        raise ValueError("no")

    with record_workflow("etl", store=store, redact=scrub, inputs={"run": 1}) as rec:
        double(4)
        rec.event("e", {"email": "a@b", "n": 1})
        rec.snapshot({"email": "c@d"})
        with pytest.raises(ValueError):
            fail({"email": "e@f"})
    assert [p for p, _ in calls] == ["inputs", "inputs", "outputs", "data", "state", "inputs",
                                     "error"]
    assert calls[1] == ("inputs", {"x": 4})
    assert calls[2] == ("outputs", 8)
    assert calls[3] == ("data", {"email": "a@b", "n": 1})
    r = read(rec)
    assert r.of_kind("custom")[0].data["value"] == {"email": "***", "n": 1}
    assert r.of_kind("state")[0].state == {"email": "***"}
    assert r.of_kind("node_start")[1].data["inputs"] == {"user": {"email": "e@f"}}  # not top level


def test_redact_callable_still_masks_default_keys(store: Path, read: Read) -> None:
    """With a callable, the default secret keys are still masked in what it returns."""
    with record_workflow("etl", store=store, redact=lambda path, value: value) as rec:
        rec.event("e", {"password": "p"})
    assert read(rec).of_kind("custom")[0].data["value"] == {"password": REDACTED}


def test_a_failing_redact_callable_withholds_the_payload(store: Path, read: Read,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """If redact= raises, the payload is withheld (not recorded unmasked) and the run goes on."""
    def broken(path: str, value: Any) -> Any:
        raise RuntimeError("oops")

    with record_workflow("etl", store=store, redact=broken) as rec:
        rec.event("e", {"password": "hunter2"})
    value = read(rec).of_kind("custom")[0].data["value"]
    assert "hunter2" not in str(value)
    assert read(rec).status == "completed"
    assert any("redact" in m for m in caplog.messages)


def test_masking_never_touches_the_callers_objects(store: Path) -> None:
    """The caller's dicts and lists keep their secrets; only the recording is masked."""
    payload = {"password": "p", "inner": [{"token": "t"}], "cfg": {"cookie": "c"}}
    before = copy.deepcopy(payload)
    inner_list = payload["inner"]

    @node
    def use(cfg: dict[str, Any]) -> dict[str, Any]:
        return cfg

    with record_workflow("etl", store=store) as rec:
        assert use(payload) is payload
        rec.event("e", payload)
        rec.snapshot(payload)
        rec.checkpoint("c", payload)
    assert payload == before
    assert payload["inner"] is inner_list

"""Secrets are masked wherever a recorded value lands (SPEC §4).

By key name (the word rule), inside objects as they are encoded, in
``(name, value)`` pairs, by value once seen under a secret key, by token
shape (``redact_patterns=``) and by a ``redact=`` callable — in the header,
the events, the footer, the catalog and every export. The end-to-end test
plants secrets in every payload kind and greps the decompressed file, the
SQLite catalog files and the output of ``flowtape export`` run as a
subprocess.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import dataclasses
import gzip
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import msgspec
import pyarrow.parquet as pq
import pydantic
import pytest
import zstandard

from recorder import (
    DEFAULT_REDACT_PATTERNS,
    REDACTED,
    ExecutionRecorder,
    node,
    record_workflow,
)

ROOT = Path(__file__).resolve().parent.parent
FLOWTAPE = str(Path(sys.executable).with_name("flowtape"))
EXPORT_FORMATS = ("markdown", "json", "dot", "mermaid", "chrome", "summary")
#: Formats written with -o, with their extra options (otlp keeps payloads only on ask); parquet
#: writes a directory of tables.
FILE_FORMATS = {"html": (), "otlp": ("--include-payloads",), "parquet": ()}
_DATA_BLOCK = re.compile(rb'<script type="application/x-flowtape-gzip" data-part="(\w+)">'
                         rb"([A-Za-z0-9+/=]*)</script>")


def decompressed(path: str | os.PathLike[str]) -> bytes:
    """Every frame of a recording file, decompressed (what `zstdcat` prints)."""
    with open(path, "rb") as f:
        reader = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
        return reader.read()


def report_text(page: bytes) -> bytes:
    """An html report as text to grep: the page itself, then each embedded part decompressed.

    A part is one gzip stream cut into base64 data blocks (replayer/viewer/_report.py);
    the blocks of a part are joined before decompressing.
    """
    parts: dict[bytes, bytes] = {}
    for name, chunk in _DATA_BLOCK.findall(page):
        parts[name] = parts.get(name, b"") + base64.b64decode(chunk)
    assert set(parts) == {b"outline", b"doc"}, sorted(parts)
    return page + b"".join(gzip.decompress(raw) for raw in parts.values())


def parquet_text(out: Path) -> bytes:
    """Every cell of every Parquet table under ``out`` (its files are compressed), and the
    manifest, as text to grep."""
    files = sorted(out.rglob("*.parquet"))
    assert {f.relative_to(out).parts[0] for f in files} == {"events", "spans"}, files
    rows = [str(pq.read_table(f).to_pylist()) for f in files]
    return "\n".join([*rows, (out / "_flowtape_export.json").read_text()]).encode()


def exported(fmt: str, out: Path) -> bytes:
    """What ``flowtape export --format fmt -o out`` wrote, as text to grep."""
    if fmt == "html":
        return report_text(out.read_bytes())
    return parquet_text(out) if fmt == "parquet" else out.read_bytes()


def custom_value(rec_path: str | None, read: Any, name: str = "e") -> Any:
    return next(e.data["value"] for e in read(rec_path).of_kind("custom")
                if e.data["name"] == name)


# --- every place a value lands ------------------------------------------------------------------
KEYED = {f"K{i}": f"keyed-secret-{i}-zq" for i in range(12)}
CALLED = {f"C{i}": f"CALLABLE-SECRET-{i}-zq" for i in range(6)}


def scrub(path: str, value: Any) -> Any:
    """A redact= callable that hides every CALLABLE-SECRET string, at any depth."""
    if isinstance(value, str):
        for secret in CALLED.values():
            value = value.replace(secret, "scrubbed")
        return value
    if isinstance(value, dict):
        return {k: scrub(path, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(path, v) for v in value]
    return value


@node("use_key", node_type="tool")
def use_key(api_key: str, query: str) -> dict[str, Any]:
    return {"access_token": KEYED["K2"], "answer": query}


@node("explode")
def explode(config: dict[str, Any]) -> None:
    raise RuntimeError(f"upstream refused {CALLED['C1']} and {KEYED['K0']}")


def _planted_run(store: Path) -> ExecutionRecorder:
    """A failing run with a secret in every payload kind, masked by key and by callable."""
    with pytest.raises(RuntimeError), record_workflow(
            "leaky", store=str(store), redact=scrub,
            inputs={"password": KEYED["K3"], "note": CALLED["C0"]},
            meta={"client_secret": KEYED["K4"], "owner": CALLED["C2"]}) as rec:
        use_key(KEYED["K0"], CALLED["C3"])
        with contextlib.suppress(RuntimeError):
            explode({"Authorization": KEYED["K5"]})
        rec.snapshot({"db": {"passwd": KEYED["K6"]}, "log": CALLED["C4"]})
        rec.checkpoint("cp", {"x-api-key": KEYED["K7"]})
        rec.event("ev", {"headers": [("Set-Cookie", KEYED["K8"])]})
        with rec.team("crew", members=["a", "b"], context={"apiKey": KEYED["K9"]}) as team:
            with team.member("a"):
                team.message("a", "b", {"AWS_SECRET_ACCESS_KEY": KEYED["K10"]})
                team.message("a", "b", f"use {KEYED['K2']} please")  # seen before under a key
            team.output = {"private_key": KEYED["K11"]}
        raise RuntimeError(f"final {CALLED['C5']} after {KEYED['K6']}")
    return rec


def test_planted_secrets_reach_no_file_catalog_or_export(store: Path) -> None:
    """No planted secret appears in the recording, the catalog files or any export format."""
    rec = _planted_run(store)
    assert rec.path is not None
    secrets = [*KEYED.values(), *CALLED.values()]
    places: dict[str, bytes] = {"recording": decompressed(rec.path)}
    for name in os.listdir(store):
        if name.startswith("catalog.sqlite"):
            places[name] = (store / name).read_bytes()
    assert "catalog.sqlite" in places
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for fmt in EXPORT_FORMATS:
        proc = subprocess.run([FLOWTAPE, "--store", str(store), "export", rec.recording_id,
                               "--format", fmt], capture_output=True, env=env, timeout=120,
                              check=False)
        assert proc.returncode == 0, proc.stderr.decode()
        places[f"export {fmt}"] = proc.stdout + proc.stderr
    for fmt, options in FILE_FORMATS.items():
        out = store.parent / f"leaky.{fmt}"
        proc = subprocess.run([FLOWTAPE, "--store", str(store), "export", rec.recording_id,
                               "--format", fmt, *options, "-o", str(out)],
                              capture_output=True, env=env, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr.decode()
        places[f"export {fmt}"] = exported(fmt, out) + proc.stdout + proc.stderr
    leaks = [(where, s) for where, blob in places.items() for s in secrets
             if s.encode() in blob]
    assert not leaks, leaks
    # The masking happened (rather than the values going missing altogether).
    assert REDACTED.encode() in places["recording"]
    assert b"scrubbed" in places["recording"]
    assert f"final scrubbed after {REDACTED}".encode() in places["export markdown"]
    # These files hold the payloads (masked), so the grep above looked at them.
    for fmt in FILE_FORMATS:
        assert REDACTED.encode() in places[f"export {fmt}"], fmt
        assert b"scrubbed" in places[f"export {fmt}"], fmt


def test_the_footer_error_is_built_from_the_masked_payload(store: Path, read: Any) -> None:
    """The footer's error message is scrubbed like the workflow_error event's (issue 9.1)."""
    rec = _planted_run(store)
    r = read(rec)
    assert r.footer.error["message"] == f"final scrubbed after {REDACTED}"
    assert r.events[-1].data["error"]["message"] == r.footer.error["message"]


def test_header_meta_and_inputs_are_masked(store: Path, read: Any) -> None:
    """record_workflow(meta=..., inputs=...) are masked in the header (issue 10.10)."""
    with record_workflow("etl", store=str(store), meta={"auth": "meta-secret-1", "team": "x"},
                         inputs={"token": "input-secret-1"}) as rec:
        pass
    header = read(rec).header
    assert header.meta == {"auth": REDACTED, "team": "x"}
    assert header.inputs == {"token": REDACTED}


# --- objects --------------------------------------------------------------------------------------
@dataclasses.dataclass
class DataCfg:
    api_key: str
    host: str


class StructCfg(msgspec.Struct):
    password: str
    port: int


@attrs.define
class AttrsCfg:
    token: str
    region: str


class PydanticCfg(pydantic.BaseModel):
    secret_key: str
    model: str


class TupleCfg(NamedTuple):
    access_token: str
    retries: int


class Client:
    """An object msgspec cannot encode whose repr shows its key."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.url = "https://example.org"

    def __repr__(self) -> str:
        return f"Client(url={self.url!r}, api_key={self.api_key!r})"


@pytest.mark.parametrize(("value", "readable"), [
    (DataCfg("dc-secret-value", "db"), {"host": "db"}),
    (StructCfg("st-secret-value", 5432), {"port": 5432}),
    (AttrsCfg("at-secret-value", "eu"), {"region": "eu"}),
    (PydanticCfg(secret_key="pd-secret-value", model="m"), {"model": "m"}),
    (TupleCfg("nt-secret-value", 3), {"retries": 3}),
], ids=["dataclass", "struct", "attrs", "pydantic", "namedtuple"])
def test_secrets_inside_objects_are_masked(value: Any, readable: dict[str, Any], store: Path,
                                           read: Any) -> None:
    """Objects are masked as they are encoded, keeping their field names (issue 9.2, 10.10)."""
    with record_workflow("etl", store=str(store)) as rec:
        rec.event("e", {"cfg": value})
        rec.event("nested", [[value]])
    got = custom_value(rec, read)["cfg"]
    secret_field = next(k for k in got if k not in readable)
    assert got == {**readable, secret_field: REDACTED}
    assert custom_value(rec, read, "nested") == [[got]]
    assert b"secret-value" not in decompressed(rec.path)


def test_a_repr_that_shows_a_secret_attribute_is_masked(store: Path, read: Any) -> None:
    """A placeholder's $repr hides secret attributes the object prints (issue 10.10)."""
    with record_workflow("etl", store=str(store)) as rec:
        rec.event("e", {"client": Client("repr-secret-value")})
    got = custom_value(rec, read)["client"]
    assert got["$type"].endswith(".Client")
    assert "repr-secret-value" not in got["$repr"]
    assert "https://example.org" in got["$repr"]


def test_a_plain_namedtuple_is_recorded_as_an_object(store: Path, read: Any) -> None:
    """A NamedTuple keeps its field names (an object, not a list)."""
    Point = collections.namedtuple("Point", "x y")
    with record_workflow("etl", store=str(store)) as rec:
        rec.event("e", {"p": Point(1, 2), "plain": (1, 2)})
    assert custom_value(rec, read) == {"p": {"x": 1, "y": 2}, "plain": [1, 2]}


# --- the key-name rule ----------------------------------------------------------------------------
SECRET_NAMES = ["x-api-key", "apiKey", "APIKey", "access_token", "client_secret", "Set-Cookie",
                "set-cookie", "Proxy-Authorization", "AWS_SECRET_ACCESS_KEY", "passwd",
                "private_key", "auth", "password", "PWD", "credentials", "passphrase",
                "secret-key", "Token", "id_token", "token\n", "auth_", 'password"', "x-api-key!"]
READABLE_NAMES = ["max_tokens", "promptTokenCount", "token_count", "author", "keys",
                  "tokens", "authority", "secretary", "cookies_enabled", "api", "key"]


def test_the_key_name_rule(store: Path, read: Any) -> None:
    """Names are split into words; secret when they end in a secret word (SPEC §4, issue 10.11)."""
    payload = {name: f"value-of-{name}" for name in SECRET_NAMES + READABLE_NAMES}
    with record_workflow("etl", store=str(store)) as rec:
        rec.event("e", payload)
        rec.event("deep", {"a": [{"b": payload}]})
    got = custom_value(rec, read)
    assert {k for k, v in got.items() if v == REDACTED} == set(SECRET_NAMES)
    assert custom_value(rec, read, "deep") == {"a": [{"b": got}]}


def test_name_value_pairs_are_masked(store: Path, read: Any) -> None:
    """Headers given as a list of (name, value) pairs mask the value of secret names."""
    headers = [("Authorization", "Bearer pair-secret-1"), ("Accept", "*/*"),
               ["x-api-key", "pair-secret-2"]]
    with record_workflow("etl", store=str(store)) as rec:
        rec.event("e", {"headers": headers})
        rec.snapshot([["token", "pair-secret-3"]])
    r = read(rec)
    assert r.of_kind("custom")[0].data["value"]["headers"] == [
        ["Authorization", REDACTED], ["Accept", "*/*"], ["x-api-key", REDACTED]]
    assert r.of_kind("state")[0].state == [["token", REDACTED]]


def test_a_redact_set_is_split_into_words_too(store: Path, read: Any) -> None:
    """redact={"ssn", "api_key"} replaces the defaults and follows the same word rule."""
    with record_workflow("etl", store=str(store), redact={"ssn", "api_key"}) as rec:
        rec.event("e", {"user_ssn": "1", "SSN": "2", "xApiKey": "3", "password": "p",
                        "ssn_hint": "h"})
    assert custom_value(rec, read) == {"user_ssn": REDACTED, "SSN": REDACTED,
                                       "xApiKey": REDACTED, "password": "p", "ssn_hint": "h"}


# --- by value -------------------------------------------------------------------------------------
def test_a_value_seen_under_a_secret_key_is_masked_later(store: Path, read: Any) -> None:
    """Once seen under a secret key, a value is masked in later messages, errors, tracebacks."""
    token = "tok-3f9a77e2c1"

    @node
    def call(headers: dict[str, str]) -> str:
        raise PermissionError(f"token {token} was refused")

    with pytest.raises(PermissionError), record_workflow("etl", store=str(store)) as rec:
        rec.event("login", {"session_token": token})
        with rec.team("t") as team:
            team.message("a", "b", f"here is {token}")
        rec.snapshot({"history": [["note", f"kept {token}"]]})
        call({"Accept": "x"})
    blob = decompressed(rec.path)
    assert token.encode() not in blob
    r = read(rec)
    assert r.of_kind("team_message")[0].data["message"] == f"here is {REDACTED}"
    err = r.of_kind("node_error")[0].data["error"]
    assert err["message"] == f"token {REDACTED} was refused"
    assert REDACTED in err["traceback"]


@pytest.mark.parametrize("text", [
    "sk-proj-abcdefghijklmnop1234",
    "ghp_abcdefghijklmnopqrstuvwxyz0123",
    "github_pat_11ABCDEFG0123456789_abcdefghij",
    "AKIAIOSFODNN7EXAMPLE",
    "xoxb-123456789012-abcdefghij",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
    "Bearer abcdef0123456789",
])
def test_default_patterns_mask_token_shapes_in_any_string(text: str, store: Path,
                                                          read: Any) -> None:
    """Well-known token shapes are masked inside any string by default (issue 10.12)."""
    with record_workflow("etl", store=str(store)) as rec:
        rec.event("e", {"msg": f"using {text} now"})
        rec.event("s", f"plain {text}")
    assert text.encode() not in decompressed(rec.path)
    assert custom_value(rec, read) == {"msg": f"using {REDACTED} now"}
    assert custom_value(rec, read, "s") == f"plain {REDACTED}"


def test_patterns_can_be_replaced_or_turned_off(store: Path, read: Any) -> None:
    """redact_patterns=[...] replaces the defaults; () turns pattern masking off."""
    key = "sk-proj-abcdefghijklmnop1234"
    with record_workflow("etl", store=str(store), redact_patterns=[r"\d{3}-\d{2}-\d{4}"]) as a:
        a.event("e", f"{key} 123-45-6789")
    with record_workflow("etl", store=str(store), redact_patterns=()) as b:
        b.event("e", key)
    assert custom_value(a, read) == f"{key} {REDACTED}"
    assert custom_value(b, read) == key
    assert "sk-" in DEFAULT_REDACT_PATTERNS[0]


def test_a_bad_pattern_is_refused_up_front() -> None:
    """A redact_patterns entry that is not a regular expression is a ValueError naming it."""
    with pytest.raises(ValueError, match=r"redact_patterns.*\(unclosed"):
        record_workflow("etl", redact_patterns=["(unclosed"])


def test_masking_leaves_the_callers_objects_alone(store: Path) -> None:
    """The caller's objects keep their secrets; only the recording is masked."""
    cfg = DataCfg("mine-secret-value", "db")
    payload = {"cfg": cfg, "pairs": [["token", "abcdefgh"]], "text": "sk-proj-abcdefghijklmnop1"}
    with record_workflow("etl", store=str(store)) as rec:
        rec.event("e", payload)
    assert cfg.api_key == "mine-secret-value"
    assert payload["pairs"] == [["token", "abcdefgh"]]
    assert payload["text"] == "sk-proj-abcdefghijklmnop1"


def test_spool_files_and_saved_copies_are_masked(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A directly made recorder's spool file, and what save() writes, hold no secret."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rec = ExecutionRecorder("direct")
    rec.record_workflow_start({"password": "spool-secret-1"})
    rec.record_node_start("call", {"headers": [("Authorization", "spool-secret-2")]})
    rec.record_node_complete("call", {"echo": "spool-secret-1 again"})
    meta = asyncio.run(rec.save(tmp_path / "saved.jsonl"))
    assert rec.path is not None and meta.file_path is not None
    for path in (rec.path, meta.file_path):
        blob = gzip.decompress(Path(path).read_bytes())
        assert b"spool-secret" not in blob, path
        assert REDACTED.encode() in blob

"""The OTLP export: a recording as OpenTelemetry spans, for Jaeger, Phoenix, Langfuse… (SPEC §14).

The run is the root span ``invoke_workflow {name}``; every node, team,
member and recursion level becomes a child span, nested as recorded. Names,
kinds and attributes follow the OpenTelemetry GenAI conventions (``gen_ai.*``)
and OpenInference's (``openinference.span.kind``, ``llm.*``, ``input.value``,
``output.value``), so both kinds of backend understand them:

==============================  =========================  =======  ===============
recorded                        span name                  kind     OpenInference
==============================  =========================  =======  ===============
the run                         ``invoke_workflow {name}``  INTERNAL CHAIN
node, ``node_type="llm"``       ``chat {model}``           CLIENT   LLM
node, ``node_type="agent"``     ``invoke_agent {node}``    INTERNAL AGENT
team member                     ``invoke_agent {member}``  INTERNAL AGENT
node, ``node_type="tool"``      ``execute_tool {node}``    INTERNAL TOOL
team                            ``team {team}``            INTERNAL CHAIN
recursion level                 ``{operation} {id}``       INTERNAL CHAIN
any other node                  ``{node}``                 INTERNAL CHAIN
==============================  =========================  =======  ===============

A span that failed (or was cancelled or timed out) has status ERROR and an
``exception`` event; team messages, checkpoints and custom events are events
on the span they were recorded in. The trace id comes from the recording id
and each span id from the recording id and the span's start ``seq``, so
exporting a recording twice gives the same ids (a backend sees the same
trace, not a copy). Payloads — inputs, outputs, message contents, error
messages and tracebacks — go out only with ``include_payloads``, and then as
recorded: masked when they were written. Model names and token counts are
not payloads and always go out.

The encoding is OTLP/JSON (ids in hex, enums as numbers, 64-bit integers as
strings), one ``ExportTraceServiceRequest`` of at most `SPANS_PER_REQUEST`
spans per line in a file; ``_otlp_http.push_otlp`` POSTs the same requests
to a collector.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import msgspec

from storage import END_KINDS, START_KINDS, Span, is_placeholder
from storage.analysis.outcomes import end_status
from storage.format.header import parse_started_at

from .._replayer import Replayer

__all__ = ["SPANS_PER_REQUEST", "iter_otlp", "iter_otlp_json", "otlp_requests", "trace_id"]

#: Spans per ExportTraceServiceRequest (the OpenTelemetry SDK's default batch is 512).
SPANS_PER_REQUEST = 1000
_KIND_INTERNAL, _KIND_CLIENT = 1, 3
_STATUS_ERROR = 2
_json = msgspec.json.Encoder()


def _id(*parts: object, size: int) -> str:
    """A deterministic id of ``size`` bytes, as hex (never all zeros: OTLP's "no id")."""
    digest = hashlib.sha256(":".join(map(str, ("flowtape", *parts))).encode()).digest()[:size]
    return (digest if any(digest) else b"\x01" * size).hex()


def trace_id(recording_id: str) -> str:
    """The trace id (hex) every export of this recording uses."""
    return _id(recording_id, size=16)


def _value(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": str(v)}


def _attributes(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _value(v)} for k, v in values.items() if v is not None]


def _text(value: Any) -> str:
    """A payload as JSON text."""
    return _json.encode(value).decode()


def _model(inputs: Any, outputs: Any) -> tuple[str | None, str | None]:
    """(requested model, responding model) as an LLM call's inputs and outputs name them."""
    asked = inputs.get("model") if isinstance(inputs, dict) else None
    answered = outputs.get("model") if isinstance(outputs, dict) else None
    return (asked if isinstance(asked, str) else None,
            answered if isinstance(answered, str) else None)


_INPUT_TOKENS = ("input_tokens", "prompt_tokens", "prompt_token_count", "promptTokenCount")
_OUTPUT_TOKENS = ("output_tokens", "completion_tokens", "candidates_token_count",
                  "candidatesTokenCount")


def _tokens(outputs: Any) -> tuple[int | None, int | None]:
    """(input, output) token counts from an LLM call's recorded usage, when it has them
    (OpenAI's, Anthropic's and Gemini's spellings)."""
    if not isinstance(outputs, dict) or is_placeholder(outputs):
        return None, None
    usage = next((outputs[k] for k in ("usage", "usage_metadata", "usageMetadata")
                  if isinstance(outputs.get(k), dict)), None)
    if usage is None:
        return None, None

    def first(keys: tuple[str, ...]) -> int | None:
        found = next((usage[k] for k in keys if k in usage), None)
        return found if isinstance(found, int) and not isinstance(found, bool) else None

    return first(_INPUT_TOKENS), first(_OUTPUT_TOKENS)


class _Found(msgspec.Struct, kw_only=True):
    """What one pass over the events finds for the spans: their payloads and events."""

    start_data: dict[int, dict[str, Any]] = {}
    end: dict[int, tuple[str, Any]] = {}
    """Start seq -> (end kind, end data)."""
    events: dict[int | None, list[dict[str, Any]]] = {}
    """Span start seq (None: outside any span) -> its OTLP events."""
    last_ts: int = 0
    """The last event's ``ts``: where spans that never ended are drawn to end."""


def _collect(replayer: Replayer, base_ns: int, *, include_payloads: bool) -> _Found:
    out = _Found()
    for e in replayer.iter_events():
        out.last_ts = max(out.last_ts, e.ts)
        data = e.data if isinstance(e.data, dict) else {}
        if e.kind in START_KINDS:
            out.start_data.setdefault(e.seq, data)
        elif e.kind in END_KINDS and e.span is not None:
            out.end.setdefault(e.span, (e.kind, e.data))
        elif e.kind in ("team_message", "checkpoint", "custom"):
            out.events.setdefault(e.parent, []).append(
                _mark(e.kind, data, base_ns + e.ts, include_payloads=include_payloads))
    return out


def _mark(kind: str, data: dict[str, Any], when: int, *, include_payloads: bool
          ) -> dict[str, Any]:
    """A message, checkpoint or custom event as an OTLP span event."""
    if kind == "team_message":
        values = {"flowtape.message.from": data.get("from"),
                  "flowtape.message.to": data.get("to")}
        if include_payloads:
            values["flowtape.message.content"] = _text(data.get("message"))
        return {"timeUnixNano": str(when), "name": "team_message",
                "attributes": _attributes(values)}
    values = {}
    if include_payloads and "value" in data:
        values["flowtape.value"] = _text(data["value"])
    return {"timeUnixNano": str(when), "name": f"{kind} {data.get('name', '')}".strip(),
            "attributes": _attributes(values)}


def _naming(span: Span, start: dict[str, Any], outputs: Any) -> tuple[str, int,
                                                                      dict[str, Any]]:
    """(name, kind, attributes) of a span by what it recorded (the module's table)."""
    node = span.node
    if span.kind == "workflow":
        return f"invoke_workflow {node}", _KIND_INTERNAL, {
            "gen_ai.operation.name": "invoke_workflow", "openinference.span.kind": "CHAIN"}
    if span.kind == "member":
        return f"invoke_agent {node}", _KIND_INTERNAL, {
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": node,
            "openinference.span.kind": "AGENT", "flowtape.team": start.get("team"),
            "flowtape.role": start.get("role")}
    if span.kind == "team":
        return f"team {node}", _KIND_INTERNAL, {
            "openinference.span.kind": "CHAIN", "flowtape.team.formation":
            start.get("formation")}
    if span.kind == "recursion":
        return f"{start.get('operation') or 'recursion'} {node}", _KIND_INTERNAL, {
            "openinference.span.kind": "CHAIN", "flowtape.recursion.operation":
            start.get("operation")}
    node_type = start.get("node_type")
    if node_type == "llm":
        asked, answered = _model(start.get("inputs"), outputs)
        model = asked or answered
        n_in, n_out = _tokens(outputs)
        return f"chat {model}" if model else "chat", _KIND_CLIENT, {
            "gen_ai.operation.name": "chat", "gen_ai.request.model": asked or answered,
            "gen_ai.response.model": answered, "gen_ai.usage.input_tokens": n_in,
            "gen_ai.usage.output_tokens": n_out, "openinference.span.kind": "LLM",
            "llm.model_name": answered or asked, "llm.token_count.prompt": n_in,
            "llm.token_count.completion": n_out,
            "llm.token_count.total": n_in + n_out if n_in is not None and n_out is not None
            else None}
    if node_type == "agent":
        return f"invoke_agent {node}", _KIND_INTERNAL, {
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": node,
            "openinference.span.kind": "AGENT"}
    if node_type == "tool":
        return f"execute_tool {node}", _KIND_INTERNAL, {
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": node,
            "openinference.span.kind": "TOOL"}
    return node, _KIND_INTERNAL, {"openinference.span.kind": "CHAIN",
                                  "flowtape.node_type": node_type}


def _error_status(status: str, error: Any, when: int, *, include_payloads: bool
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The OTLP status and ``exception`` event of a span that ended ``status``."""
    if not isinstance(error, dict):
        return {"code": _STATUS_ERROR, "message": status}, []
    kind = str(error.get("type") or "Error")
    values: dict[str, Any] = {"exception.type": kind}
    message = kind
    if include_payloads:
        values["exception.message"] = error.get("message")
        values["exception.stacktrace"] = error.get("traceback")
        if error.get("message"):
            message = f"{kind}: {error['message']}"
    return ({"code": _STATUS_ERROR, "message": message},
            [{"timeUnixNano": str(when), "name": "exception", "attributes": _attributes(values)}])


def _payload_attributes(span: Span, start: dict[str, Any], outputs: Any, header_inputs: Any
                        ) -> dict[str, Any]:
    inputs = start.get("inputs")
    if span.kind == "workflow" and inputs is None:
        inputs = header_inputs
    values: dict[str, Any] = {}
    if inputs is not None:
        values.update({"input.value": _text(inputs), "input.mime_type": "application/json"})
    if outputs is not None:
        values.update({"output.value": _text(outputs), "output.mime_type": "application/json"})
    return values


def _otlp_spans(replayer: Replayer, *, include_payloads: bool) -> Iterator[dict[str, Any]]:
    """The recording's spans as OTLP/JSON span objects, in start order."""
    rid = replayer.recording_id
    base_ns = int(parse_started_at(replayer.header.started_at).timestamp() * 1e6) * 1000
    spans = replayer.spans()
    found = _collect(replayer, base_ns, include_payloads=include_payloads)
    unended = "running" if replayer.reader.status == "running" else "incomplete"
    trace = trace_id(rid)
    known = {s.start_seq for s in spans}
    for span in spans:
        start = found.start_data.get(span.start_seq, {})
        end_kind, end_data = found.end.get(span.start_seq, (None, None))
        end = end_data if isinstance(end_data, dict) else {}
        status = end_status(end_kind, end_data) if end_kind is not None else unended
        outputs = end.get("outputs")
        name, kind, values = _naming(span, start, outputs)
        values.update({"flowtape.span.kind": span.kind, "flowtape.node": span.node,
                       "flowtape.seq": span.start_seq, "flowtape.status": status,
                       "thread.name": span.lane,
                       "flowtape.attempt": span.attempt if span.kind == "node" else None,
                       "flowtape.depth": span.depth or None})
        if span.kind == "workflow":
            values["flowtape.recording_id"] = rid
        if include_payloads:
            values.update(_payload_attributes(span, start, outputs, replayer.header.inputs))
        end_ns = base_ns + (span.end_ns if span.end_ns is not None else found.last_ts)
        out: dict[str, Any] = {
            "traceId": trace, "spanId": _id(rid, span.start_seq, size=8),
            "name": name, "kind": kind,
            "startTimeUnixNano": str(base_ns + span.start_ns), "endTimeUnixNano": str(end_ns),
            "attributes": _attributes(values),
        }
        if span.parent is not None and span.parent in known:
            out["parentSpanId"] = _id(rid, span.parent, size=8)
        events = list(found.events.get(span.start_seq, ()))
        if status in ("failed", "cancelled", "timed_out"):
            out["status"], raised = _error_status(status, end.get("error"), end_ns,
                                                  include_payloads=include_payloads)
            events += raised
        if events:
            out["events"] = events
        yield out


def otlp_requests(replayer: Replayer, *, include_payloads: bool = False
                  ) -> Iterator[dict[str, Any]]:
    """The recording as OTLP/JSON ``ExportTraceServiceRequest`` objects of at most
    `SPANS_PER_REQUEST` spans each (see the module docstring for what they hold)."""
    header = replayer.header
    resource = {"attributes": _attributes({
        "service.name": header.workflow, "flowtape.recording_id": header.recording_id,
        "host.name": header.host or None, "process.pid": header.pid or None})}
    try:
        version = metadata.version("flowtape")
    except metadata.PackageNotFoundError:
        version = "0"
    scope = {"name": "flowtape", "version": version}
    batch: list[dict[str, Any]] = []

    def request() -> dict[str, Any]:
        return {"resourceSpans": [{"resource": resource,
                                   "scopeSpans": [{"scope": scope, "spans": batch}]}]}

    for span in _otlp_spans(replayer, include_payloads=include_payloads):
        batch.append(span)
        if len(batch) == SPANS_PER_REQUEST:
            yield request()
            batch = []
    if batch:
        yield request()


def iter_otlp_json(replayer: Replayer, *, include_payloads: bool = False) -> Iterator[str]:
    """OTLP/JSON lines: one ``ExportTraceServiceRequest`` per line (the collector's
    ``otlpjsonfile`` layout)."""
    for req in otlp_requests(replayer, include_payloads=include_payloads):
        yield json.dumps(req, ensure_ascii=False, separators=(",", ":")) + "\n"


def iter_otlp(replayer: Replayer) -> Iterator[str]:
    """The ``otlp`` format of `replayer.export`: OTLP/JSON lines, without payloads."""
    return iter_otlp_json(replayer)

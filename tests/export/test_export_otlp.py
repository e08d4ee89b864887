"""`flowtape export ID --format otlp`: a recording as OpenTelemetry spans (SPEC §14).

What the export writes is read with the official ``opentelemetry-proto``
classes (``google.protobuf.json_format`` into ``ExportTraceServiceRequest``),
as a collector would; pushes go to a real OTLP/HTTP receiver on 127.0.0.1
that decodes them with the same classes. OTLP/JSON writes trace and span
ids as hex (not protobuf's base64), which `parse` turns back into bytes, as
the OTLP specification tells receivers to.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("opentelemetry.proto", reason="the OTLP tests need the dev extra "
                    "(opentelemetry-proto)")

from analytics_recordings import record_one
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from store_recordings import subprocess_env

from recorder import node, record_workflow
from replayer import Replayer, export

#: Which run of analytics_recordings gives which shape.
REPORT_FAILED, ETL_RETRIED, TRIAGE = 7, 15, 2


def flowtape(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "replayer", *args], capture_output=True,
                          text=True, timeout=120, check=False, env=env or subprocess_env())


def _ids_to_base64(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (base64.b64encode(bytes.fromhex(v)).decode()
                    if k in ("traceId", "spanId", "parentSpanId") and v else _ids_to_base64(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_ids_to_base64(v) for v in value]
    return value


def parse(text: str | bytes) -> ExportTraceServiceRequest:
    """One OTLP/JSON request decoded into the official message class (hex ids as bytes)."""
    request = json_format.Parse(json.dumps(_ids_to_base64(json.loads(text))),
                                ExportTraceServiceRequest())
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            for s in ss.spans:
                assert len(s.trace_id) == 16 and len(s.span_id) == 8
                assert s.parent_span_id == b"" or len(s.parent_span_id) == 8
    return request


def spans_of(requests: list[ExportTraceServiceRequest]) -> list[Span]:
    return [s for req in requests for rs in req.resource_spans for ss in rs.scope_spans
            for s in ss.spans]


def attrs(span: Span | Any) -> dict[str, Any]:
    """A span's (or event's) attributes as plain values."""
    out = {}
    for kv in span.attributes:
        which = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, which)
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A store with a failed report run (LLM, tool), a retried etl run and a triage run (agent,
    team, members, messages, recursion): (store, {"report"|"etl"|"triage": id})."""
    root = tmp_path_factory.mktemp("otlp") / "recordings"
    ids = {name: record_one(root, i) for name, i in (("report", REPORT_FAILED),
                                                     ("etl", ETL_RETRIED), ("triage", TRIAGE))}
    return root, ids


def export_file(store: Path, rid: str, out: Path, *more: str) -> list[ExportTraceServiceRequest]:
    done = flowtape("--store", str(store), "export", rid, "--format", "otlp", "-o", str(out),
                    *more)
    assert done.returncode == 0, done.stderr
    return [parse(line) for line in out.read_text().splitlines()]


def by_seq(spans: list[Span]) -> dict[int, Span]:
    return {attrs(s)["flowtape.seq"]: s for s in spans}


def test_the_file_parses_as_one_span_per_recorded_span(
        store: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """Every workflow/node/team/member/recursion span of the triage run, the run as the root
    ``invoke_workflow triage``, the nesting as parent links, one trace."""
    root, ids = store
    requests = export_file(root, ids["triage"], tmp_path / "t.jsonl")
    spans = spans_of(requests)
    with Replayer.open(ids["triage"], root) as r:
        recorded = r.spans()
    got = by_seq(spans)
    assert sorted(got) == [s.start_seq for s in recorded]
    assert len({s.trace_id for s in spans}) == 1
    for s in recorded:
        parent = got[s.parent].span_id if s.parent is not None else b""
        assert got[s.start_seq].parent_span_id == parent
    names = {(attrs(s)["flowtape.span.kind"], s.name, s.kind) for s in spans}
    assert names == {
        ("workflow", "invoke_workflow triage", Span.SPAN_KIND_INTERNAL),
        ("node", "invoke_agent planner", Span.SPAN_KIND_INTERNAL),
        ("team", "team reviewers", Span.SPAN_KIND_INTERNAL),
        ("member", "invoke_agent ann", Span.SPAN_KIND_INTERNAL),
        ("member", "invoke_agent bob", Span.SPAN_KIND_INTERNAL),
        ("recursion", "split case2/b", Span.SPAN_KIND_INTERNAL),
        ("node", "execute_tool search", Span.SPAN_KIND_INTERNAL)}
    root_span = got[0]
    assert attrs(root_span)["gen_ai.operation.name"] == "invoke_workflow"
    assert attrs(root_span)["openinference.span.kind"] == "CHAIN"
    assert attrs(root_span)["flowtape.recording_id"] == ids["triage"]
    assert attrs(requests[0].resource_spans[0].resource)["service.name"] == "triage"
    agent = next(s for s in spans if s.name == "invoke_agent planner")
    assert attrs(agent)["gen_ai.agent.name"] == "planner"
    assert attrs(agent)["openinference.span.kind"] == "AGENT"
    tool = next(s for s in spans if s.name == "execute_tool search")
    assert attrs(tool)["gen_ai.tool.name"] == "search"
    assert attrs(tool)["openinference.span.kind"] == "TOOL"
    assert all(s.end_time_unix_nano >= s.start_time_unix_nano > 0 for s in spans)
    assert all(s.status.code == Status.STATUS_CODE_UNSET for s in spans)


def test_team_messages_are_events_on_the_sending_span(
        store: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """Each team message is an event on the span it was sent from, with from and to; its
    content only with --include-payloads."""
    root, ids = store
    spans = spans_of(export_file(root, ids["triage"], tmp_path / "t.jsonl"))
    sent = {(s.name, e.name, attrs(e)["flowtape.message.from"], attrs(e)["flowtape.message.to"])
            for s in spans for e in s.events}
    assert sent == {("invoke_agent ann", "team_message", "ann", "bob"),
                    ("invoke_agent bob", "team_message", "bob", "ann")}
    assert not any("flowtape.message.content" in attrs(e) for s in spans for e in s.events)
    full = spans_of(export_file(root, ids["triage"], tmp_path / "p.jsonl", "--include-payloads"))
    contents = [json.loads(attrs(e)["flowtape.message.content"]) for s in full
                for e in s.events]
    assert sorted(contents, key=str) == [{"note": "case2/a"}, {"note": "ok"}]


def test_an_llm_node_is_a_chat_client_span_with_model_and_tokens(
        store: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """node_type llm: ``chat {model}``, kind CLIENT, GenAI and OpenInference model and token
    attributes; inputs and outputs are left out without --include-payloads."""
    root, ids = store
    spans = spans_of(export_file(root, ids["report"], tmp_path / "r.jsonl"))
    chat = next(s for s in spans if s.name.startswith("chat "))
    assert chat.name == "chat gpt-4o-mini" and chat.kind == Span.SPAN_KIND_CLIENT
    a = attrs(chat)
    with Replayer.open(ids["report"], root) as r:
        outputs = next(e for e in r.iter_events() if e.kind == "node_complete"
                       and e.node == "draft").data["outputs"]
    usage = outputs["usage"]
    assert (a["gen_ai.operation.name"], a["gen_ai.request.model"], a["gen_ai.response.model"],
            a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (
        "chat", "gpt-4o-mini", "gpt-4o-mini", usage["input_tokens"], usage["output_tokens"])
    assert (a["openinference.span.kind"], a["llm.model_name"], a["llm.token_count.prompt"],
            a["llm.token_count.completion"], a["llm.token_count.total"]) == (
        "LLM", "gpt-4o-mini", usage["input_tokens"], usage["output_tokens"],
        usage["input_tokens"] + usage["output_tokens"])
    assert not any(k.startswith(("input.", "output.")) for s in spans for k in attrs(s))


def test_payloads_go_out_as_recorded_with_include_payloads(
        store: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """--include-payloads adds input.value / output.value (JSON), the run's inputs on the
    root, and the error's message and traceback."""
    root, ids = store
    spans = spans_of(export_file(root, ids["report"], tmp_path / "r.jsonl",
                                 "--include-payloads"))
    with Replayer.open(ids["report"], root) as r:
        events = list(r.iter_events())
    got = by_seq(spans)
    for e in events:
        if e.kind == "node_start":
            a = attrs(got[e.seq])
            assert json.loads(a["input.value"]) == e.data["inputs"]
            assert a["input.mime_type"] == "application/json"
        if e.kind == "node_complete":
            assert json.loads(attrs(got[e.span])["output.value"]) == e.data["outputs"]
    assert json.loads(attrs(got[0])["input.value"]) == {"run": REPORT_FAILED}
    failed = next(s for s in spans if s.name == "publish")
    event = next(e for e in failed.events if e.name == "exception")
    assert attrs(event)["exception.message"].startswith("refused ")
    assert attrs(event)["exception.stacktrace"].startswith("Traceback (most recent call last)")
    assert failed.status.message.startswith("PublishError: refused ")


def test_errors_set_status_error_with_an_exception_event(
        store: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """A failed node and the failed run are ERROR with an ``exception`` event naming the type;
    its message stays out without --include-payloads; a retried node's attempts are two
    spans."""
    root, ids = store
    spans = spans_of(export_file(root, ids["report"], tmp_path / "r.jsonl"))
    failed = [s for s in spans if s.status.code == Status.STATUS_CODE_ERROR]
    assert {s.name for s in failed} == {"publish", "invoke_workflow report"}
    for s in failed:
        (event,) = [e for e in s.events if e.name == "exception"]
        assert attrs(event) == {"exception.type": "PublishError"}
        assert s.status.message == "PublishError"
        assert event.time_unix_nano == s.end_time_unix_nano
    etl = spans_of(export_file(root, ids["etl"], tmp_path / "e.jsonl"))
    attempts = sorted((attrs(s)["flowtape.attempt"], s.status.code) for s in etl
                      if s.name == "transform")
    assert attempts == [(1, Status.STATUS_CODE_ERROR), (2, Status.STATUS_CODE_UNSET)]


def test_secrets_stay_masked_in_the_payloads(tmp_path: Path) -> None:
    """A value under a secret key was masked when recorded, and goes out masked."""
    @node("call", node_type="llm")
    def call(prompt: str, api_key: str) -> str:
        return "ok"

    with record_workflow("secretive", path=str(tmp_path / "run.jsonl.zst")):
        call("hi", api_key="sk-live-0123456789abcdef0123")
    out = tmp_path / "out.jsonl"
    done = flowtape("export", str(tmp_path / "run.jsonl.zst"), "-f", "otlp", "-o", str(out),
                    "--include-payloads")
    assert done.returncode == 0, done.stderr
    assert "sk-live" not in out.read_text()
    chat = spans_of([parse(line) for line in out.read_text().splitlines()])[1]
    assert chat.name == "chat" and json.loads(attrs(chat)["input.value"]) == {
        "prompt": "hi", "api_key": "[REDACTED]"}


def test_exporting_twice_gives_the_same_ids(store: tuple[Path, dict[str, str]],
                                            tmp_path: Path) -> None:
    """Trace and span ids come from the recording id and seqs: the same on every export, and
    different for another recording."""
    root, ids = store
    one = [(s.trace_id, s.span_id, s.parent_span_id) for s in spans_of(
        export_file(root, ids["triage"], tmp_path / "1.jsonl"))]
    two = [(s.trace_id, s.span_id, s.parent_span_id) for s in spans_of(
        export_file(root, ids["triage"], tmp_path / "2.jsonl", "--include-payloads"))]
    other = spans_of(export_file(root, ids["etl"], tmp_path / "3.jsonl"))
    assert one == two and len(set(one)) == len(one)
    assert one[0][0] != other[0].trace_id


def test_the_python_api_and_stdout(store: tuple[Path, dict[str, str]]) -> None:
    """``export(r, "otlp")`` is one request per line; so is stdout without -o."""
    root, ids = store
    with Replayer.open(ids["etl"], root) as r:
        text = export(r, "otlp")
        n = len(r.spans())
    assert len(spans_of([parse(line) for line in text.splitlines()])) == n
    done = flowtape("--store", str(root), "export", ids["etl"], "-f", "otlp")
    assert done.returncode == 0 and done.stdout == text


# --- OTLP/HTTP ------------------------------------------------------------------------------

class Receiver:
    """An OTLP/HTTP receiver on 127.0.0.1 that decodes each request with the official classes.

    ``replies`` scripts the answers: (status, headers, body) per request, then 200 with an
    empty ExportTraceServiceResponse.
    """

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []
        self.headers: list[Message] = []
        self.replies: list[tuple[int, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.paths.append(self.path)
                receiver.headers.append(self.headers)
                status, headers, reply = receiver.replies.pop(0) if receiver.replies else (
                    200, {}, json_format.MessageToJson(ExportTraceServiceResponse()).encode())
                if status == 200 and self.headers["Content-Type"] == "application/json":
                    receiver.requests.append(parse(body))
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()
        thread.join(timeout=10)


def test_a_push_delivers_every_span_with_its_parent(store: tuple[Path, dict[str, str]],
                                                    receiver: Receiver) -> None:
    """--endpoint posts OTLP/JSON to /v1/traces: one span per node, team, member (and
    recursion level) plus the root, parents as recorded; pushing twice repeats the ids."""
    root, ids = store
    done = flowtape("--store", str(root), "export", ids["triage"], "-f", "otlp",
                    "--endpoint", receiver.url)
    assert done.returncode == 0, done.stderr
    with Replayer.open(ids["triage"], root) as r:
        recorded = r.spans()
    assert f"sent {len(recorded)} spans of {ids['triage']} to {receiver.url}/v1/traces" \
        in done.stdout
    assert receiver.paths == ["/v1/traces"]
    assert receiver.headers[0]["Content-Type"] == "application/json"
    first = spans_of(receiver.requests)
    got = by_seq(first)
    assert sorted(got) == [s.start_seq for s in recorded]
    assert [s.kind for s in recorded].count("workflow") == 1
    for s in recorded:
        assert got[s.start_seq].parent_span_id == (got[s.parent].span_id
                                                   if s.parent is not None else b"")
    again = flowtape("--store", str(root), "export", ids["triage"], "-f", "otlp",
                     "--endpoint", f"{receiver.url}/v1/traces")
    assert again.returncode == 0, again.stderr
    second = spans_of(receiver.requests[1:])
    assert [(s.trace_id, s.span_id, s.parent_span_id) for s in second] == [
        (s.trace_id, s.span_id, s.parent_span_id) for s in first]


def test_a_big_run_goes_in_several_requests(tmp_path: Path, receiver: Receiver) -> None:
    """2,500 node spans and the root go in three requests of at most 1,000 spans."""
    @node("step")
    def step(i: int) -> int:
        return i

    with record_workflow("many", path=str(tmp_path / "run.jsonl.zst")):
        for i in range(2500):
            step(i)
    done = flowtape("export", str(tmp_path / "run.jsonl.zst"), "-f", "otlp", "--endpoint",
                    receiver.url)
    assert done.returncode == 0, done.stderr
    assert [len(spans_of([r])) for r in receiver.requests] == [1000, 1000, 501]
    assert "in 3 requests" in done.stdout


def test_headers_come_from_the_otel_environment(store: tuple[Path, dict[str, str]],
                                                receiver: Receiver) -> None:
    """OTEL_EXPORTER_OTLP_HEADERS (e.g. an Authorization for a hosted backend) is sent."""
    root, ids = store
    env = {**subprocess_env(), "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Basic%20eDp5,x-team=ml"}
    done = flowtape("--store", str(root), "export", ids["etl"], "-f", "otlp", "--endpoint",
                    receiver.url, env=env)
    assert done.returncode == 0, done.stderr
    assert receiver.headers[0]["authorization"] == "Basic eDp5"
    assert receiver.headers[0]["x-team"] == "ml"


def test_a_busy_collector_is_tried_again(store: tuple[Path, dict[str, str]],
                                         receiver: Receiver) -> None:
    """503 with Retry-After: 0 is retried, and the spans arrive."""
    root, ids = store
    receiver.replies = [(503, {"Retry-After": "0"}, b"busy")]
    done = flowtape("--store", str(root), "export", ids["etl"], "-f", "otlp", "--endpoint",
                    receiver.url)
    assert done.returncode == 0, done.stderr
    assert len(receiver.paths) == 2 and len(receiver.requests) == 1


@pytest.mark.parametrize(("reply", "message"), [
    ((400, {}, b'{"code": 3, "message": "bad span"}'), "answered 400"),
    ((200, {}, json_format.MessageToJson(ExportTraceServiceResponse(
        partial_success=ExportTracePartialSuccess(rejected_spans=2, error_message="too old")
    )).encode()), "rejected 2 spans: too old"),
])
def test_a_refusing_collector_is_an_error(store: tuple[Path, dict[str, str]],
                                          receiver: Receiver, reply: Any, message: str) -> None:
    """A 4xx answer or rejected spans: exit 2, one line naming the endpoint and why."""
    root, ids = store
    receiver.replies = [reply]
    done = flowtape("--store", str(root), "export", ids["etl"], "-f", "otlp", "--endpoint",
                    receiver.url)
    assert done.returncode == 2
    assert message in done.stderr and f"{receiver.url}/v1/traces" in done.stderr
    assert "Traceback" not in done.stderr


def test_no_collector_listening_is_an_error(store: tuple[Path, dict[str, str]]) -> None:
    """A port nobody listens on: exit 2 saying it could not connect."""
    root, ids = store
    with socket.socket() as s:  # a free port, closed again: nobody listens there
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    done = flowtape("--store", str(root), "export", ids["etl"], "-f", "otlp", "--endpoint", url)
    assert done.returncode == 2
    assert f"cannot send the spans to {url}/v1/traces" in done.stderr
    assert "is an OTLP/HTTP collector listening there?" in done.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["-f", "json", "--endpoint", "http://127.0.0.1:1"], "--endpoint applies to --format otlp"),
    (["-f", "summary", "--include-payloads"], "--include-payloads applies to --format otlp"),
    (["-f", "otlp", "--endpoint", "ftp://example.org"], "an http:// or https:// URL"),
    (["-f", "otlp", "--endpoint", "http://127.0.0.1:1", "-o", "x.json"],
     "--endpoint sends the spans; -o writes them to a file: give one of the two"),
])
def test_option_mistakes_are_usage_errors(store: tuple[Path, dict[str, str]], args: list[str],
                                          message: str) -> None:
    """OTLP options with another format, a non-HTTP endpoint, both -o and --endpoint."""
    root, ids = store
    done = flowtape("--store", str(root), "export", ids["etl"], *args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr

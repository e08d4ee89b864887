"""A support agent whose model and tools live behind HTTP: record it once, re-execute it offline.

The agent answers "where is my order?": it asks a model which tools to use,
calls them (order status, knowledge base), streams a reply from the model and
formats the answer. The model and the tools are a small HTTP server on
127.0.0.1 that this script starts (and counts requests on), so every
``@node`` below really goes over the network — as an LLM API would.

::

    python support_agent.py                      # records a run into ./recordings
    flowtape rerun latest --live format_reply    # again, offline: no server at all

The run for order A-1002 fails in ``format_reply`` (a delayed order has no
ETA yet): README.md ("Re-execute a run") walks through reproducing it from
the recording, fixing it, and checking the fix against the exact run that
failed, with the server gone. The recording's ``entry`` is
``support_agent:triage``, so ``flowtape rerun`` must run where this file is.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from recorder import node, record_workflow

API_KEY = "sk-demo-2b7f4c1e9a8d6f3e5b0c"  # masked in the recording: never written to disk
ORDERS = {
    "A-1001": {"status": "shipped", "eta": "2024-06-03T09:00:00Z", "carrier": "DHL"},
    "A-1002": {"status": "delayed", "eta": None, "carrier": "DHL"},
}


# --- the workflow -------------------------------------------------------------------------
@dataclasses.dataclass
class Completion:
    content: str
    prompt_tokens: int
    completion_tokens: int


@dataclasses.dataclass
class ToolCall:
    name: str
    args: dict[str, str]


def _post(url: str, body: dict[str, Any], api_key: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    req = urllib.request.Request(url, json.dumps(body).encode(), headers)
    return urllib.request.urlopen(req, timeout=10)


@node("ask_model", node_type="llm")
def ask_model(base_url: str, api_key: str, messages: list[dict[str, str]]) -> Completion:
    """One chat completion from the model."""
    with _post(f"{base_url}/v1/chat/completions", {"model": "demo-1", "messages": messages},
               api_key) as resp:
        reply = json.load(resp)
    usage = reply["usage"]
    return Completion(reply["choices"][0]["message"]["content"], usage["prompt_tokens"],
                      usage["completion_tokens"])


@node
def parse_plan(completion: Completion) -> list[ToolCall]:
    """The tool calls the model asked for."""
    return [ToolCall(t["name"], t["args"]) for t in json.loads(completion.content)["tools"]]


@node("call_tool", node_type="tool")
def call_tool(base_url: str, call: ToolCall) -> dict[str, Any]:
    """Run one tool on the tool server."""
    with _post(f"{base_url}/tools/{call.name}", call.args) as resp:
        return json.load(resp)  # type: ignore[no-any-return]


@node("stream_reply", node_type="llm")
def stream_reply(base_url: str, api_key: str, messages: list[dict[str, str]]) -> Iterator[str]:
    """The model's reply, streamed chunk by chunk (server-sent events)."""
    with _post(f"{base_url}/v1/chat/completions",
               {"model": "demo-1", "messages": messages, "stream": True}, api_key) as resp:
        for raw in resp:
            line = raw.decode().strip()
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                return
            yield json.loads(line[len("data: "):])["delta"]


@node
def format_reply(question: str, results: dict[str, Any], draft: str) -> str:
    """The answer the customer gets."""
    order = results["order_status"]
    eta = order["eta"][:10]
    return f"{draft}\n\nStatus: {order['status']}, expected {eta} ({order['carrier']})"


def triage(question: str, base_url: str, api_key: str) -> str:
    """The workflow: plan with the model, call the tools, stream a reply, format it."""
    system = {"role": "system", "content": "You are a support agent. Plan tool calls as JSON."}
    plan = ask_model(base_url, api_key, [system, {"role": "user", "content": question}])
    results = {call.name: call_tool(base_url, call) for call in parse_plan(plan)}
    facts = {"role": "tool", "content": json.dumps(results, sort_keys=True)}
    draft = "".join(stream_reply(base_url, api_key,
                                 [system, {"role": "user", "content": question}, facts]))
    return format_reply(question, results, draft)


# --- the model and tool server ------------------------------------------------------------
class ModelAndTools:
    """An HTTP server on 127.0.0.1 standing in for an LLM API and a tool API.

    ``requests`` counts what it served; ``url`` is where it listens (a free port).
    """

    def __init__(self) -> None:
        self.requests = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                with server._lock:
                    server.requests += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == "/v1/chat/completions":
                    if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                        self._json(401, {"error": "bad api key"})
                    elif body.get("stream"):
                        self._stream(body["messages"])
                    else:
                        self._json(200, _plan_reply(body["messages"]))
                elif self.path == "/tools/order_status":
                    order = ORDERS.get(body.get("order_id", ""))
                    self._json(200 if order else 404, order or {"error": "no such order"})
                elif self.path == "/tools/search_kb":
                    self._json(200, {"articles": [
                        {"title": "When a parcel is late", "url": "https://help.example/late"}]})
                else:
                    self._json(404, {"error": f"no route {self.path}"})

            def _json(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, messages: list[dict[str, str]]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in _reply_chunks(messages):
                    self.wfile.write(f"data: {json.dumps({'delta': chunk})}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ModelAndTools:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def _plan_reply(messages: list[dict[str, str]]) -> dict[str, Any]:
    question = messages[-1]["content"]
    found = re.search(r"[A-Z]-\d{4}", question)
    tools = [{"name": "order_status", "args": {"order_id": found.group(0) if found else ""}},
             {"name": "search_kb", "args": {"query": "late delivery"}}]
    content = json.dumps({"tools": tools})
    return {"choices": [{"message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 12 + len(question.split()), "completion_tokens": 31}}


def _reply_chunks(messages: list[dict[str, str]]) -> list[str]:
    results = json.loads(messages[-1]["content"])
    status = results["order_status"].get("status", "unknown")
    return ["Thanks for your patience. ", f"Your order is {status}", " — ",
            "here is what happens next."]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default=None,
                        help="where to record (default: $FLOWTAPE_STORE or ./recordings)")
    parser.add_argument("--question", default="Where is my order A-1002? It was due Monday.")
    args = parser.parse_args(argv)
    server = ModelAndTools().start()
    failed = False
    try:
        with record_workflow(
                "support-triage", store=args.store, tags=["example"],
                inputs={"question": args.question, "base_url": server.url,
                        "api_key": API_KEY},
                entry=f"{Path(__file__).stem}:triage") as rec:
            print(triage(args.question, server.url, API_KEY))
    except Exception as exc:
        failed = True
        print(f"the run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        server.stop()
    print(f"({server.requests} requests to the model and tool server; recorded as "
          f"{rec.recording_id})", file=sys.stderr)
    print(rec.recording_id)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

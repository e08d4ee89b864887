"""Acceptance: a workflow whose model and tool nodes call a real HTTP server on 127.0.0.1.

Recorded once against the server, it is re-executed with the server still up
(which counts no new request) and with the server stopped (nothing to call):
the same final result both times, and a report that says identical.
"""

from __future__ import annotations

from pathlib import Path

import support_agent_example
from conftest import read_recording

from recorder import record_workflow, reexecute


def test_model_and_tool_calls_replay_with_no_request(tmp_path: Path) -> None:
    """Same result, zero requests, identical report; then again with the server gone."""
    agent = support_agent_example.load()
    server = agent.ModelAndTools().start()
    question = "Where is my order A-1001?"
    original = tmp_path / "original.jsonl.zst"
    try:
        with record_workflow("support-triage", path=str(original)):
            expected = agent.triage(question, server.url, agent.API_KEY)
        recorded_requests = server.requests
        assert recorded_requests == 4  # plan, two tools, the streamed reply

        with reexecute(original, record_to=tmp_path / "while-up.jsonl.zst") as rx:
            assert agent.triage(question, server.url, agent.API_KEY) == expected
        assert server.requests == recorded_requests  # not one request
        assert rx.report.identical, rx.report.to_text()
    finally:
        server.stop()

    with reexecute(original, record_to=tmp_path / "offline.jsonl.zst") as rx:
        assert agent.triage(question, server.url, agent.API_KEY) == expected
    report = rx.report
    assert report.identical and report.sources == {"recorded": 6}
    kinds = {e.node: e.data.get("node_type") for e in read_recording(rx.path or "")
             .of_kind("node_start")}
    assert kinds["stream_reply"] == "llm" and kinds["call_tool"] == "tool"
    for path in (original, Path(rx.path or "")):
        plain = support_agent_example.plain_bytes(path)
        assert b"A-1001" in plain and agent.API_KEY.encode() not in plain

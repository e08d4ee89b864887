"""Sending a recording's spans to an OpenTelemetry collector over OTLP/HTTP (SPEC §14).

`push_otlp` POSTs the requests `_export_otlp.otlp_requests` builds, as JSON
(``Content-Type: application/json``, which OTLP/HTTP accepts), with nothing
but the standard library: to ``/v1/traces`` of the endpoint when its URL has
no path, with the headers the OpenTelemetry SDKs read from the environment,
trying again when the collector says to (429, 502, 503, 504). A refusal, or
spans the collector reports rejected, is a `FlowtapeError` naming the URL.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

import msgspec

from storage import FlowtapeError

from .._replayer import Replayer
from .otlp import otlp_requests, trace_id

__all__ = ["ATTEMPTS", "OtlpPush", "otel_headers", "push_otlp", "traces_url"]

#: Attempts at a request a collector answers 429/502/503/504, and the longest wait between.
ATTEMPTS = 3
MAX_WAIT_S = 10.0
_RETRY = frozenset({429, 502, 503, 504})


class OtlpPush(msgspec.Struct, kw_only=True):
    """What `push_otlp` sent."""

    url: str
    trace_id: str
    spans: int = 0
    requests: int = 0


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for ``endpoint``: ``/v1/traces`` added when it has no path.

    Raises ValueError for anything but an http:// or https:// URL.
    """
    parts = urllib.parse.urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--endpoint {endpoint!r} is not an http:// or https:// URL; give "
                         "the collector's OTLP/HTTP address, e.g. http://localhost:4318")
    if parts.path in ("", "/"):
        parts = parts._replace(path="/v1/traces")
    return urllib.parse.urlunsplit(parts)


def otel_headers() -> dict[str, str]:
    """Headers from ``OTEL_EXPORTER_OTLP_TRACES_HEADERS`` or ``OTEL_EXPORTER_OTLP_HEADERS``
    (``key=value,key2=value2``, values URL-encoded), as the OpenTelemetry SDKs read them."""
    text = (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
            or os.environ.get("OTEL_EXPORTER_OTLP_HEADERS") or "")
    headers = {}
    for item in text.split(","):
        key, eq, value = item.partition("=")
        if eq and key.strip():
            headers[urllib.parse.unquote(key.strip())] = urllib.parse.unquote(value.strip())
    return headers


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> bytes:
    """POST ``body``; retry what the collector says to retry; FlowtapeError otherwise."""
    for attempt in range(1, ATTEMPTS + 1):
        request = urllib.request.Request(url, data=body, method="POST", headers={
            **headers, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:  # http(s) only
                return bytes(reply.read())
        except urllib.error.HTTPError as exc:
            answer = exc.read()[:300].decode("utf-8", "replace")
            if exc.code in _RETRY and attempt < ATTEMPTS:
                time.sleep(_wait(exc.headers.get("Retry-After"), attempt))
                continue
            raise FlowtapeError(f"the collector at {url} answered {exc.code} {exc.reason}: "
                                f"{answer or '(no body)'}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise FlowtapeError(f"cannot send the spans to {url} ({reason}); is an OTLP/HTTP "
                                "collector listening there?") from None
    raise AssertionError("unreachable: the last attempt returns or raises")


def _wait(retry_after: str | None, attempt: int) -> float:
    try:
        return min(MAX_WAIT_S, max(0.0, float(retry_after))) if retry_after else float(attempt)
    except ValueError:
        return float(attempt)


def push_otlp(replayer: Replayer, endpoint: str, *, include_payloads: bool = False,
              headers: dict[str, str] | None = None, timeout: float = 30.0) -> OtlpPush:
    """Send the recording's spans to a collector's OTLP/HTTP endpoint as JSON.

    ``headers`` default to the OpenTelemetry environment (`otel_headers`).
    Requests a collector answers 429, 502, 503 or 504 are tried again (up to
    `ATTEMPTS`, after its ``Retry-After``). Raises ValueError for an endpoint
    that is not http(s), and `FlowtapeError` when the collector cannot be
    reached, refuses a request, or rejects spans.
    """
    url = traces_url(endpoint)
    sent = OtlpPush(url=url, trace_id=trace_id(replayer.recording_id))
    send_headers = otel_headers() if headers is None else headers
    for req in otlp_requests(replayer, include_payloads=include_payloads):
        n = len(req["resourceSpans"][0]["scopeSpans"][0]["spans"])
        answer = _post(url, json.dumps(req, separators=(",", ":")).encode(), send_headers,
                       timeout)
        try:
            partial = json.loads(answer or b"{}").get("partialSuccess") or {}
        except (ValueError, AttributeError):
            partial = {}
        rejected = int(partial.get("rejectedSpans") or 0)
        if rejected:
            raise FlowtapeError(f"the collector at {url} rejected {rejected} spans: "
                                f"{partial.get('errorMessage') or 'no reason given'} "
                                f"({sent.spans} spans were accepted before)")
        sent.spans += n
        sent.requests += 1
    return sent

"""`flowtape serve`'s HTTP server: the viewer for every recording of a store, read-only.

The standard library's ``ThreadingHTTPServer``, bound to 127.0.0.1 only. A
request is answered only when its ``Host`` names this server (a page on any
other site that rebinds its DNS name to 127.0.0.1 is refused) and its
``Origin``, if any, is this server; only GET and HEAD exist. Recordings are
addressed by id — validated by the store, so nothing outside the store can
be named — and anything that does not resolve is a 404.

Routes: ``/`` (the list), ``/r/ID`` (one recording), ``/compare?a=ID&b=ID``,
and the JSON they fetch under ``/api/`` (`_api`). Pages are the viewer's
shell with ``connect-src 'self'``; a recording's events come in pages, so a
1M-event recording opens at once. Recordings in use stay open (a few, least
recently used first out); one still being written is refreshed on each
request, which is how the page's poll sees what was appended.
"""

from __future__ import annotations

import contextlib
import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import msgspec

from storage import (
    FlowtapeError,
    InvalidIdError,
    RecordingNotFoundError,
    RecordingQuery,
    Store,
    open_store,
)

from .._replayer import Replayer
from . import _api
from ._outline import outline
from ._page import assets, policy, shell

__all__ = ["ViewerServer"]

_enc = msgspec.json.Encoder()
_OPEN_RECORDINGS = 4


class _Recording:
    """One open recording: a replayer for the page's questions and one for its outline, each
    behind its own lock (reading the spans of 1M events must not hold up a page of events)."""

    def __init__(self, store: Store, rid: str) -> None:
        self.store, self.rid = store, rid
        self.replayer = Replayer(store.open(rid))
        self.lock = threading.Lock()
        self.outline_lock = threading.Lock()
        self.outline: tuple[int, bytes] | None = None  # (event count it was read at, gzip JSON)

    def fresh(self) -> Replayer:
        """The replayer, having read what a live writer appended since the last request."""
        r = self.replayer
        if r.footer is None:
            r.reader.refresh()
        return r

    def outline_json(self) -> bytes:
        """The outline as gzip-compressed JSON, read again only when the recording grew."""
        with self.outline_lock:
            with self.lock:
                count = len(self.fresh())
            if self.outline is None or self.outline[0] != count:
                with Replayer(self.store.open(self.rid)) as own:
                    self.outline = (count, gzip.compress(outline(own).to_json(), 6))
            return self.outline[1]

    def close(self) -> None:
        self.replayer.close()


class ViewerServer(ThreadingHTTPServer):
    """Serves the viewer for the store at ``store_url`` on 127.0.0.1:``port`` (0: a free one).

    Raises OSError when the port is taken.
    """

    daemon_threads = True

    def __init__(self, store_url: str, port: int = 0, *, quiet: bool = False) -> None:
        self.store = open_store(store_url)
        self.store_url = store_url
        self.quiet = quiet
        self._open: OrderedDict[str, _Recording] = OrderedDict()
        self._open_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)
        self.port = int(self.server_address[1])
        self.hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        self.origins = {f"http://{h}" for h in self.hosts}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def recording(self, id_text: str) -> _Recording:
        """The open recording for an id or unique prefix (opened now if need be)."""
        rid = self.store.get(id_text).recording_id  # validates the id; raises if unknown
        with self._open_lock:
            rec = self._open.get(rid)
            if rec is None:
                rec = self._open[rid] = _Recording(self.store, rid)
                while len(self._open) > _OPEN_RECORDINGS:
                    self._open.popitem(last=False)[1].close()
            self._open.move_to_end(rid)
            return rec

    def server_close(self) -> None:
        super().server_close()
        with self._open_lock:
            for rec in self._open.values():
                rec.close()
            self._open.clear()


class _Refused(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def _page(kind: str, attrs: str = "") -> bytes:
    head, tail = shell(kind, connect="'self'", attrs=attrs)
    return (head + tail).encode()


class _Handler(BaseHTTPRequestHandler):
    server: ViewerServer
    server_version = "flowtape-serve"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)

    # --- answering ---------------------------------------------------------------------------
    def _send(self, status: HTTPStatus, body: bytes, content_type: str, *,
              gzipped: bool = False, page: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        if page:
            self.send_header("Content-Security-Policy",
                             policy(assets(), connect="'self'") + "; frame-ancestors 'none'")
            self.send_header("X-Frame-Options", "DENY")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, value: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
        body = _enc.encode(value)
        if len(body) > 4096 and "gzip" in self.headers.get("Accept-Encoding", ""):
            self._send(status, gzip.compress(body, 5), "application/json", gzipped=True)
        else:
            self._send(status, body, "application/json")

    def _fail(self, status: HTTPStatus, message: str) -> None:
        if self.path.startswith("/api/") or status == HTTPStatus.FORBIDDEN:
            self._json({"error": message}, status)
        else:
            self._send(status, f"{status.value} {status.phrase}: {message}\n".encode(),
                       "text/plain; charset=utf-8")

    # --- checking ------------------------------------------------------------------------------
    def _check(self) -> None:
        host = self.headers.get("Host")
        if host not in self.server.hosts:
            raise _Refused(HTTPStatus.FORBIDDEN, f"refused: Host {host!r} is not this server "
                           f"({self.server.url}); open that address instead")
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self.server.origins:
            raise _Refused(HTTPStatus.FORBIDDEN, f"refused: requests from {origin!r} are not "
                           "served; this viewer answers its own pages only")
        if self.headers.get("Sec-Fetch-Site") == "cross-site":
            raise _Refused(HTTPStatus.FORBIDDEN, "refused: a cross-site request")

    def do_GET(self) -> None:
        try:
            self._check()
            self._route()
        except _Refused as exc:
            self._fail(exc.status, str(exc))
        except _api.BadParameter as exc:
            self._fail(HTTPStatus.BAD_REQUEST, str(exc))
        except (InvalidIdError, RecordingNotFoundError, LookupError) as exc:
            self._fail(HTTPStatus.NOT_FOUND, str(exc))
        except (FlowtapeError, OSError, ValueError) as exc:
            self._fail(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}")

    do_HEAD = do_GET

    def _refuse_method(self) -> None:
        self._fail(HTTPStatus.METHOD_NOT_ALLOWED, "this viewer is read-only: GET and HEAD only")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

    # --- routes ----------------------------------------------------------------------------------
    def _route(self) -> None:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query))
        parts = [unquote(p) for p in url.path.split("/")[1:]]
        html = "text/html; charset=utf-8"
        match parts:
            case [""]:
                self._send(HTTPStatus.OK, _page("list"), html, page=True)
            case ["r", rid]:
                rec = self.server.recording(rid)
                self._send(HTTPStatus.OK, _page("recording", f' data-id="{rec.rid}"'), html,
                           page=True)
            case ["compare"]:
                self._send(HTTPStatus.OK, _page("compare"), html, page=True)
            case ["api", "list"]:
                q = _api.query(params)
                infos = self.server.store.list(q)
                self._json({"store": self.server.store_url, "recordings": infos,
                            "limit": q.limit})
            case ["api", "compare"]:
                self._compare(params)
            case ["api", "r", rid]:
                self._ask(rid, lambda r: _api.meta(r, live=r.reader.writer_alive))
            case ["api", "r", rid, "outline"]:
                body = self.server.recording(rid).outline_json()
                if "gzip" in self.headers.get("Accept-Encoding", ""):
                    self._send(HTTPStatus.OK, body, "application/json", gzipped=True)
                else:
                    self._send(HTTPStatus.OK, gzip.decompress(body), "application/json")
            case ["api", "r", rid, ("events" | "state" | "why" | "find") as what]:
                answer: Callable[[Replayer, _api.Params], Any] = getattr(_api, what)
                self._ask(rid, lambda r: answer(r, params))
            case _:
                raise _Refused(HTTPStatus.NOT_FOUND, f"nothing at {url.path}")

    def _ask(self, rid: str, question: Callable[[Replayer], Any]) -> None:
        rec = self.server.recording(rid)
        with rec.lock:
            answer = question(rec.fresh())
        self._json(answer)

    def _compare(self, params: dict[str, str]) -> None:
        ids = [params.get(k) or "" for k in ("a", "b")]
        for key, value in zip("ab", ids, strict=True):
            if not value:
                raise _api.BadParameter(f"the parameter {key} is missing: /compare?a=ID&b=ID")
        with contextlib.ExitStack() as stack:
            sides = [stack.enter_context(Replayer(self.server.store.open(i))) for i in ids]
            self._json(_api.compare(sides[0], sides[1]))


@contextlib.contextmanager
def serving(store_url: str, port: int = 0, *, quiet: bool = False) -> Iterator[ViewerServer]:
    """A started server in a background thread, shut down on leaving the block (for tests and
    benchmarks). Raises like `ViewerServer`, and `FlowtapeError` for an unreadable store."""
    srv = ViewerServer(store_url, port, quiet=quiet)
    srv.store.list(RecordingQuery(limit=1))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join()

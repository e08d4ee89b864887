"""`flowtape serve`: the store's recordings in a browser, from 127.0.0.1 only, read-only.

A real `ViewerServer` on a free loopback port serves a store of real
recordings; its JSON endpoints are asked with http.client (which can send a
foreign Host header), its pages are opened in Debian's headless Chromium,
and the live view watches a recording a real child process is still writing.
"""

from __future__ import annotations

import http.client
import io
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from viewer_browser import launch_browser, watch
from viewer_recordings import LIVE_CHILD, record_example, record_loop, record_pair

from replayer.viewer._server import ViewerServer, serving

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
_browser = pytest.fixture(scope="module", name="browser")(launch_browser)

ROOT = Path(__file__).resolve().parents[2]


class Store:
    """The served store and the ids in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ok = record_example(root).name.split(".")[0]
        self.failed = record_example(root, "--fail").name.split(".")[0]
        self.a, self.b = record_pair(root)
        self.loop = record_loop(root, 700).name.split(".")[0]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return Store(tmp_path_factory.mktemp("served"))


@pytest.fixture(scope="module")
def server(store: Store) -> Iterator[ViewerServer]:
    with serving(str(store.root), quiet=True) as srv:
        yield srv


def get(srv: ViewerServer, path: str, headers: dict[str, str] | None = None,
        method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    try:
        conn.request(method, path, headers=headers or {})
        res = conn.getresponse()
        return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
    finally:
        conn.close()


def api(srv: ViewerServer, path: str) -> Any:
    status, _, body = get(srv, path)
    assert status == 200, body
    return json.loads(body)


# --- the JSON endpoints --------------------------------------------------------------------
def test_list_filters_by_workflow_and_status(server: ViewerServer, store: Store) -> None:
    """/api/list takes the §7 filters: workflow and status pick out exactly the runs asked."""
    def ids(query: str) -> list[str]:
        return [r["recording_id"] for r in api(server, "/api/list?" + query)["recordings"]]

    assert ids("workflow=research_pipeline&status=failed") == [store.failed]
    assert ids("workflow=research_pipeline&status=completed") == [store.ok]
    assert sorted(ids("workflow=scoring")) == sorted([store.a, store.b])
    assert ids("workflow=research_pipeline&sort_by=started_at&sort_order=asc") == [store.ok,
                                                                                   store.failed]
    assert ids("workflow=nothing") == []
    assert len(ids("limit=2")) == 2 and api(server, "/api/list?limit=2")["limit"] == 2


def test_events_come_in_pages_and_state_from_the_engine(server: ViewerServer,
                                                        store: Store) -> None:
    """A page of events is the json export's events; state and why come from the replayer."""
    from replayer import Replayer
    from replayer.export.json import to_json

    meta = api(server, f"/api/r/{store.loop}")
    assert meta["count"] == meta["summary"]["event_count"] and meta["live"] is False
    page = api(server, f"/api/r/{store.loop}/events?start=100&count=50")
    with Replayer.open(store.loop, str(store.root)) as r:
        whole = json.loads(to_json(r))["events"]
        assert page["events"] == whole[100:150]
        assert api(server, f"/api/r/{store.loop}/state?pos=200") == {
            "state": r.get_state_at_event(200), "before": r.get_state_at_event(199)}
    why = api(server, f"/api/r/{store.loop}/why?pos=200&path=" + quote('["done"]'))
    assert whole[why["pos"]]["kind"] == "state" and why["pos"] <= 200
    found = api(server, f"/api/r/{store.loop}/find?from=0&dir=1&spec="
                + quote(json.dumps({"breaks": [{"kind": "node_complete"}]})))
    assert whole[found["pos"]]["kind"] == "node_complete"
    outline = api(server, f"/api/r/{store.loop}/outline")
    assert len(outline["spans"]) == 1 + 700


@pytest.mark.parametrize("path", [
    "/r/..%2F..%2Fetc%2Fpasswd", "/api/r/..%2Fcatalog.sqlite", "/api/r/%2Fetc%2Fpasswd/events",
    "/r/..", "/api/r/.%2E/outline", "/r/nosuchid0000", "/nowhere", "/api/nowhere",
])
def test_ids_that_escape_the_store_get_404(server: ViewerServer, path: str) -> None:
    """Anything that is not an id of a recording in the store, or not a route, is a 404."""
    status, headers, body = get(server, path)
    assert status == 404, body
    if path.startswith("/api/"):
        assert headers["content-type"].startswith("application/json")
        assert json.loads(body)["error"]


def test_a_real_file_path_is_not_an_id(server: ViewerServer, store: Store) -> None:
    """Even the path of a recording file on disk is refused: the server takes ids only."""
    path = next(store.root.glob("*.jsonl.zst"))
    status, _, _ = get(server, "/api/r/" + quote(str(path), safe=""))
    assert status == 404


def test_foreign_host_and_origin_are_refused(server: ViewerServer, store: Store) -> None:
    """A Host that is not this server (DNS rebinding) or a foreign Origin gets 403; only reads."""
    port = server.port
    for headers in ({"Host": f"evil.example:{port}"}, {"Host": "127.0.0.1"},
                    {"Host": f"127.0.0.1:{port}", "Origin": "http://evil.example"},
                    {"Host": f"localhost:{port}", "Sec-Fetch-Site": "cross-site"}):
        status, _, body = get(server, "/api/list", headers)
        assert status == 403, headers
        assert b"refused" in body
    assert get(server, "/api/list", {"Host": f"localhost:{port}"})[0] == 200
    assert get(server, "/", {"Host": f"127.0.0.1:{port}",
                             "Origin": f"http://127.0.0.1:{port}"})[0] == 200
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert get(server, f"/api/r/{store.ok}", method=method)[0] == 405
    assert server.server_address[0] == "127.0.0.1"


@pytest.mark.parametrize(("path", "words"), [
    ("/api/list?limit=-1", "limit"), ("/api/list?min_duration=soon", "min_duration"),
    ("/api/list?since=yesterdayish", "since"), ("/api/r/{loop}/events?start=x", "start"),
    ("/api/r/{loop}/find?from=0&dir=1&spec=%7Bnot", "spec"), ("/api/r/{loop}/state", "pos"),
    ("/api/r/{loop}/why?pos=3&path=cart", "path"), ("/api/compare?a={loop}", "b"),
    ("/api/r/{loop}/why?pos=3&path=%7B%7D", "path"), ("/api/r/{loop}/state?pos=99999", "pos"),
    ("/api/r/{loop}/find?from=0&dir=2&spec=%7B%7D", "dir"),
    ("/api/r/{loop}/find?from=0&dir=1&spec=%7B%7D", "spec"),
    ("/api/list?sort_by=colour", "sort"),
])
def test_bad_parameters_get_400_saying_which(server: ViewerServer, store: Store, path: str,
                                            words: str) -> None:
    """A parameter the server cannot use is a 400 whose JSON error names it."""
    status, _, body = get(server, path.format(loop=store.loop))
    assert status == 400, body
    assert words in json.loads(body)["error"]


def test_a_damaged_recording_is_an_error_naming_its_file(server: ViewerServer,
                                                         store: Store) -> None:
    """A recording whose bytes were damaged answers with an error that names the file."""
    path = record_loop(store.root, 600)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)
    path.write_bytes(data)
    status, _, body = get(server, f"/api/r/{path.name.split('.')[0]}/outline")
    assert status == 500
    assert str(path) in json.loads(body)["error"]


def test_pages_carry_a_policy_that_allows_only_this_server(server: ViewerServer,
                                                           store: Store) -> None:
    """Pages are sent with the CSP (fetches to this server only), no framing, no sniffing."""
    status, headers, body = get(server, f"/r/{store.ok}")
    assert status == 200
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert f'data-id="{store.ok}"' in body.decode()


# --- in the browser ---------------------------------------------------------------------------
def test_list_page_filters_by_workflow_and_status(browser: Any, server: ViewerServer,
                                                  store: Store) -> None:
    """The list page reads its filters from the address and applies new ones."""
    w = watch(browser, server.url + "?workflow=research_pipeline&status=failed")
    rows = w.page.locator("table.recordings tbody tr")
    rows.first.wait_for()
    assert [rows.nth(i).get_attribute("data-id") for i in range(rows.count())] == [store.failed]
    w.page.select_option("select[name=status]", "completed")
    w.page.click("text=filter")
    w.page.wait_for_function(
        f"() => document.querySelector('tbody tr').dataset.id === '{store.ok}'")
    assert rows.count() == 1
    assert "status=completed" in w.page.url
    assert w.errors == []


def test_recording_page_fetches_events_in_pages(browser: Any, server: ViewerServer,
                                               store: Store) -> None:
    """A recording's page asks for one page of events, and the rest only when shown."""
    w = watch(browser, f"{server.url}r/{store.loop}")
    w.page.wait_for_selector(".events .row.cursor")
    pages = [u for u in w.requests if "/events?" in u]
    assert 1 <= len(pages) <= 2
    w.page.keyboard.press("End")
    with_last = api(server, f"/api/r/{store.loop}")["count"] - 1
    w.wait_seq(with_last)
    assert len([u for u in w.requests if "/events?" in u]) <= len(pages) + 2
    w.page.keyboard.press("S")
    w.wait_seq(with_last - 1)
    assert w.errors == []
    w.screenshot("viewer-serve-recording.png")


def test_compare_page_shows_the_one_changed_node(browser: Any, server: ViewerServer,
                                                 store: Store) -> None:
    """Two runs that differ in one node's output: one changed step, its values side by side."""
    w = watch(browser, f"{server.url}compare?a={store.a}&b={store.b}")
    changed = w.page.locator("table.steps tr.op-changed")
    assert changed.count() == 1
    assert changed.get_attribute("data-node") == "score"
    text = changed.inner_text()
    assert "outputs.score" in text and "0.91" in text and "0.87" in text
    assert changed.locator(".was").inner_text() == "0.91"
    assert changed.locator(".now").inner_text() == "0.87"
    assert w.page.locator("table.steps tr:visible").count() == 2  # header + the change
    assert "regression" in w.text(".verdict")
    w.screenshot("viewer-serve-compare.png")
    assert w.errors == []


def test_live_view_shows_what_another_process_is_writing(browser: Any, server: ViewerServer,
                                                         store: Store, tmp_path: Path) -> None:
    """A recording still being written opens as running and grows as the writer appends."""
    log = tmp_path / "child.log"
    with log.open("w") as err:
        child = subprocess.Popen([sys.executable, "-c", LIVE_CHILD, str(store.root),
                                  str(tmp_path)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "burst0").exists():
            assert child.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        rid = (tmp_path / "burst0").read_text()
        w = watch(browser, f"{server.url}r/{rid}")
        assert w.text(".top .badge") == "running"
        w.page.wait_for_function("() => Number(document.body.dataset.events) >= 21")
        (tmp_path / "go1").touch()
        w.page.wait_for_function("() => Number(document.body.dataset.events) >= 41", timeout=30_000)
        (tmp_path / "go2").touch()
        w.page.wait_for_function("() => document.querySelector('.top .badge').textContent "
                                 "=== 'completed'", timeout=30_000)
        assert int(w.page.evaluate("document.body.dataset.events")) == 62
        assert w.errors == []
    finally:
        child.kill()
        child.wait()


# --- the command -----------------------------------------------------------------------------
SERVE = """
import sys
from replayer.cli import build_parser, load_commands
from replayer.terminal.console import make_console
parser = build_parser(load_commands(["replayer.cli.serve"]))
args = parser.parse_args(sys.argv[1:])
sys.exit(args._command.run(args, make_console()))
"""


def test_serve_command_prints_its_url_and_stops_on_ctrl_c(store: Store) -> None:
    """`flowtape serve --port 0` prints the URL it listens on, serves, and Ctrl-C ends it."""
    proc = subprocess.Popen([sys.executable, "-c", SERVE, "serve", "--store", str(store.root),
                             "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, line + (proc.stderr.read() if proc.stderr else "")
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/api/list?workflow=scoring")
        assert len(json.loads(conn.getresponse().read())["recordings"]) == 2
        conn.close()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def _serve_command(*argv: str) -> tuple[Any, io.StringIO]:
    from rich.console import Console

    from replayer.cli import build_parser, load_commands

    parser = build_parser(load_commands(["replayer.cli.serve"]))
    args = parser.parse_args(["serve", *argv])
    out = io.StringIO()
    return lambda: args._command.run(args, Console(file=out)), out


@pytest.mark.parametrize(("make", "message"), [
    (lambda tmp: tmp / "missing", "does not exist"),
    (lambda tmp: (tmp / "a-file").touch() or tmp / "a-file", "is a file"),
])
def test_serve_refuses_a_store_that_is_not_there(tmp_path: Path, make: Any,
                                                 message: str) -> None:
    """A --store that does not exist, or is a file, is an error naming it; no server starts."""
    from storage import FlowtapeError

    where = make(tmp_path)
    run, out = _serve_command("--store", str(where), "--port", "0")
    with pytest.raises(FlowtapeError, match=message) as info:
        run()
    assert str(where) in str(info.value)
    assert out.getvalue() == ""


def test_serve_refuses_a_bad_or_busy_port(server: ViewerServer, store: Store) -> None:
    """A port out of range is a ValueError; one already taken is an OSError saying so."""
    run, _ = _serve_command("--store", str(store.root), "--port", "70000")
    with pytest.raises(ValueError, match="--port"):
        run()
    run, _ = _serve_command("--store", str(store.root), "--port", str(server.port))
    with pytest.raises(OSError, match="in use"):
        run()

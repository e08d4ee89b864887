"""Cassettes in the pytest plugin: a test's node calls recorded once, then served (SPEC §12).

A real pytest runs in a subprocess on a scratch project whose test calls a
"weather" tool over HTTP, against a server this test starts and counts
requests on. The first run records ``cassettes/test_forecast.jsonl.zst``; the
next passes with the server stopped; ``none`` without a cassette, and a call
the cassette lacks, fail with two different messages; ``new_episodes`` adds
the new call; nothing secret reaches the cassette.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import support_agent_example

from recorder.pytest_plugin import RecordMode

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-live-" + "9f8e7d6c5b4a39281706"
pytestmark = pytest.mark.slow  # pytest in subprocesses, several times per test

PROJECT_TEST = textwrap.dedent('''
    import json
    import os
    import urllib.request

    from recorder import node


    @node("weather", node_type="tool")
    def weather(city: str, api_key: str) -> dict:
        url = f"{os.environ['FT_SERVER']}/weather?city={city}"
        req = urllib.request.Request(url, headers={"X-Api-Key": api_key})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.load(resp)


    def test_forecast(flowtape_cassette):
        with flowtape_cassette():
            assert weather("Oslo", os.environ["FT_KEY"])["city"] == "Oslo"
            if os.environ.get("FT_EXTRA"):
                assert weather("Bergen", os.environ["FT_KEY"])["city"] == "Bergen"


    async def test_async_forecast(flowtape_cassette):
        async with flowtape_cassette(name="async"):
            assert weather("Rome", os.environ["FT_KEY"])["sky"] == "clear"
''')
CONFTEST = textwrap.dedent('''
    import asyncio
    import inspect

    import pytest


    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(pyfuncitem):
        if inspect.iscoroutinefunction(pyfuncitem.obj):
            args = {k: pyfuncitem.funcargs[k] for k in pyfuncitem._fixtureinfo.argnames}
            asyncio.run(pyfuncitem.obj(**args))
            return True
        return None
''')


class WeatherServer:
    """A counting weather service on 127.0.0.1."""

    def __init__(self) -> None:
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                server.requests += 1
                city = self.path.split("city=")[-1]
                data = json.dumps({"city": city, "sky": "clear", "key_seen":
                                   self.headers.get("X-Api-Key") == SECRET}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server() -> Iterator[WeatherServer]:
    s = WeatherServer()
    yield s
    s.stop()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "test_weather.py").write_text(PROJECT_TEST)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    return tmp_path


DEAD = "http://127.0.0.1:9"  # nothing listens there: a served call never gets that far


def pytest_run(project: Path, url: str, *args: str, extra: bool = False,
               select: str = "test_forecast") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FT_SERVER": url, "FT_KEY": SECRET,
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "200"}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("FT_EXTRA", None)
    if extra:
        env["FT_EXTRA"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "recorder.pytest_plugin", "-p",
         "no:cacheprovider", "-q", "-rfE", "-k", select, *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)


def cassette(project: Path, name: str = "test_forecast") -> Path:
    return project / "cassettes" / f"{name}.jsonl.zst"


def test_first_run_records_and_the_next_runs_offline(project: Path,
                                                     server: WeatherServer) -> None:
    """once: the first run records the cassette (one request); the second passes with no
    server at all and leaves the cassette as it was."""
    first = pytest_run(project, server.url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert server.requests == 1
    assert cassette(project).is_file()
    assert "flowtape cassettes written" in first.stdout
    written = cassette(project).read_bytes()

    again = pytest_run(project, DEAD)
    assert again.returncode == 0, again.stdout + again.stderr
    assert server.requests == 1
    assert cassette(project).read_bytes() == written


def test_none_without_a_cassette_fails_saying_how_to_record(project: Path) -> None:
    """none: a missing cassette fails with "no cassette at PATH; run with … once"."""
    got = pytest_run(project, DEAD, "--flowtape-record-mode", "none")
    assert got.returncode == 1
    assert ("no cassette at cassettes/test_forecast.jsonl.zst; run with "
            "--flowtape-record-mode once") in got.stdout
    assert not cassette(project).exists()


def test_a_call_the_cassette_lacks_fails_and_new_episodes_adds_it(project: Path,
                                                                  server: WeatherServer) -> None:
    """A new call under once fails with "has no such call" (not the no-cassette message);
    new_episodes records just that call; then once passes offline with both."""
    assert pytest_run(project, server.url).returncode == 0
    missing = pytest_run(project, DEAD, extra=True)
    assert missing.returncode == 1
    assert "the cassette cassettes/test_forecast.jsonl.zst has no such call" in missing.stdout
    assert "weather" in missing.stdout and "new_episodes" in missing.stdout
    assert "no cassette at" not in missing.stdout
    assert server.requests == 1

    added = pytest_run(project, server.url, "--flowtape-record-mode", "new_episodes",
                       extra=True)
    assert added.returncode == 0, added.stdout + added.stderr
    assert server.requests == 2  # only the new call went out
    offline = pytest_run(project, DEAD, extra=True)
    assert offline.returncode == 0, offline.stdout + offline.stderr


def test_all_and_rewrite_record_again(project: Path, server: WeatherServer) -> None:
    """all and rewrite run the calls for real again and write the cassette anew."""
    assert pytest_run(project, server.url).returncode == 0
    for mode in ("all", "rewrite"):
        before = server.requests
        got = pytest_run(project, server.url, "--flowtape-record-mode", mode)
        assert got.returncode == 0, got.stdout + got.stderr
        assert server.requests == before + 1


def test_rewrite_that_fails_leaves_no_cassette(project: Path) -> None:
    """rewrite removes the old cassette first: a run that fails leaves none behind."""
    cassette(project).parent.mkdir()
    cassette(project).write_bytes(b"old")
    got = pytest_run(project, DEAD, "--flowtape-record-mode", "rewrite")
    assert got.returncode == 1
    assert not cassette(project).exists()


def test_no_secret_reaches_a_cassette(project: Path, server: WeatherServer) -> None:
    """The api key passed to the node is masked before the cassette is written."""
    assert pytest_run(project, server.url).returncode == 0
    plain = support_agent_example.plain_bytes(cassette(project))
    assert b"Oslo" in plain and SECRET.encode() not in plain


def test_async_with_a_cassette(project: Path, server: WeatherServer) -> None:
    """`async with flowtape_cassette(name=...)` records, then serves."""
    def run(url: str) -> subprocess.CompletedProcess[str]:
        return pytest_run(project, url, select="async")

    assert run(server.url).returncode == 0
    assert cassette(project, "test_async_forecast-async").is_file()
    got = run(DEAD)
    assert got.returncode == 0, got.stdout + got.stderr


def test_an_unknown_mode_lists_the_valid_ones(project: Path) -> None:
    """A mode that does not exist is a usage error listing once, none, all, new_episodes,
    rewrite."""
    got = pytest_run(project, DEAD, "--flowtape-record-mode", "sometimes")
    assert got.returncode == 4
    assert "'sometimes'; choose one of once, none, all, new_episodes, rewrite" in got.stderr
    with pytest.raises(ValueError, match="choose one of once, none"):
        RecordMode.parse("never")
    assert RecordMode.parse("new_episodes") is RecordMode.NEW_EPISODES

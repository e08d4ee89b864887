"""The viewer's own JavaScript tests (tests/js/*.test.js), run in headless Chromium.

The test modules import the viewer's modules from replayer/viewer/static/js
exactly as the page does; `replayer.viewer._page.bundle` joins them into one
inline script on a page with the viewer's Content-Security-Policy, opened
from ``file://``. Each JS test is reported here as its own pytest case.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from viewer_browser import launch_browser, watch

from replayer.viewer._page import Assets, bundle, shell

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
_browser = pytest.fixture(scope="module", name="browser")(launch_browser)

JS = Path(__file__).resolve().parent / "js"


@pytest.fixture(scope="module")
def results(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every JS test's outcome, by name, from one run of the test page."""
    head, tail = shell("tests", a=Assets(bundle(JS / "main.test.js"), ""))
    page = tmp_path_factory.mktemp("js") / "tests.html"
    page.write_text(head + tail, encoding="utf-8")
    w = watch(browser, page.as_uri(), wait=False)
    w.ready("body[data-results]")
    assert w.errors == []
    outcome = json.loads(w.page.evaluate("document.body.dataset.results"))
    return {r["name"]: r for r in outcome}


def _names() -> list[str]:
    names = []
    for path in sorted(JS.glob("*.test.js")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith('test("'):
                names.append(json.loads(line[5:line.index('", ') + 1]))
    return names


@pytest.mark.parametrize("name", _names())
def test_js(results: dict[str, Any], name: str) -> None:
    """One test of the viewer's JavaScript (its name says what it checks)."""
    assert name in results, f"the page never ran {name!r}"
    assert results[name]["ok"], results[name]["error"]


def test_every_js_test_is_collected(results: dict[str, Any]) -> None:
    """The page ran exactly the tests found in the files (none lost, none unnamed)."""
    assert sorted(results) == sorted(_names())

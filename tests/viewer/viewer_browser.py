"""Driving Debian's headless Chromium for the viewer's tests (Playwright, the system browser).

`launch_browser` makes a module-scoped fixture (``_browser =
pytest.fixture(scope="module", name="browser")(launch_browser)`` in the test
module): one Chromium per test module, launched
from ``/usr/bin/chromium`` (never a downloaded build) with a fresh temporary
profile, no background networking, no component updates, no sync. A missing
Chromium or Playwright skips the tests, or fails them under
``FLOWTAPE_REQUIRE_TOOLS=1`` (tests/_tools.py). `Watched` is a page that
keeps what the tests check: console errors, uncaught exceptions, every
request the page made, dialogs, and pages it tried to open. `write_report`
writes the HTML report of a recording, the file the report tests open.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _tools import require_tool

from replayer import Replayer
from replayer.viewer import write_html

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def _playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "the Python package playwright is not installed (pip install -e '.[dev]')"
        if os.environ.get("FLOWTAPE_REQUIRE_TOOLS") == "1":
            pytest.fail(f"{reason}, and FLOWTAPE_REQUIRE_TOOLS=1 requires it", pytrace=False)
        pytest.skip(reason)
    return sync_playwright


def write_report(recording: Path, out: Path, **options: Any) -> Path:
    """The HTML report of ``recording`` written to ``out`` (`write_html`'s ``options``)."""
    with Replayer.open(recording) as r, out.open("w", encoding="utf-8") as f:
        write_html(r, f, **options)
    return out


def launch_browser() -> Iterator[Any]:
    """One headless Debian Chromium for the whole test module."""
    executable = require_tool("chromium")
    with _playwright()() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Watched:
    """A page and what it did: console errors, page errors, requests, dialogs, popups."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    popups: list[str] = field(default_factory=list)

    def ready(self, selector: str = "body[data-ready='1']") -> None:
        self.page.wait_for_selector(selector, state="attached", timeout=30_000)

    def seq(self) -> int:
        """The seq of the event at the cursor (the page keeps it on <body data-seq>)."""
        self.page.wait_for_function("() => document.body.dataset.seq !== undefined")
        return int(self.page.evaluate("document.body.dataset.seq"))

    def wait_seq(self, seq: int) -> None:
        self.page.wait_for_function(f"() => document.body.dataset.seq === '{seq}'", timeout=10_000)

    def text(self, selector: str) -> str:
        return str(self.page.inner_text(selector))

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path))
        return path


def watch(browser: Any, url: str, *, wait: bool = True, width: int = 1400) -> Watched:
    """Open ``url`` in a new page of ``browser`` and record what it does."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    w = Watched(page)
    page.on("console", lambda m: w.errors.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: w.errors.append(f"uncaught: {exc}"))
    page.on("request", lambda r: w.requests.append(r.url))
    page.on("popup", lambda p: w.popups.append(p.url))

    def dialog(d: Any) -> None:
        w.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    page.on("dialog", dialog)
    page.goto(url)
    if wait:
        w.ready()
    return w

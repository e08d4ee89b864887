"""The HTML report in a real headless Chromium: it loads, draws, steps, searches, links.

Each test opens a report written by `replayer.viewer.write_html` from
``file://``, as a person opening an attachment would, in Debian's Chromium
(tests/viewer/viewer_browser.py). The page keeps the cursor's seq on ``<body
data-seq>``; what the tests read besides is what a person sees: bars, rows
and the inspector's text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from viewer_browser import Watched, launch_browser, watch, write_report
from viewer_recordings import (
    HOSTILE_IMG,
    HOSTILE_NODE,
    HOSTILE_SCRIPT,
    HOSTILE_URL,
    killed_mid_run,
    record_hostile,
    record_idle,
    record_loop,
)

from replayer import Replayer

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
_browser = pytest.fixture(scope="module", name="browser")(launch_browser)


def test_report_loads_with_no_error_and_no_request(browser: Any, example_html: Path) -> None:
    """Opened from file://, the report shows the run, logs no error and requests nothing."""
    w = watch(browser, example_html.as_uri())
    assert w.errors == []
    assert w.requests == [example_html.as_uri()]
    assert "research_pipeline" in w.text("header")
    assert w.page.title() == "research_pipeline · flowtape"
    w.screenshot("viewer-report.png")
    assert (w.page.evaluate("document.querySelectorAll('script[data-part]').length")) == 0


def test_timeline_has_one_bar_per_span(browser: Any, example: Path, example_html: Path) -> None:
    """Every span of the run is one bar on the timeline, none merged at the fitted zoom."""
    w = watch(browser, example_html.as_uri())
    with Replayer.open(example) as r:
        starts = sorted(s.start_seq for s in r.spans())
    bars = w.page.eval_on_selector_all("svg.timeline rect.bar", "els => els.map(e => "
                                       "[Number(e.dataset.start), e.classList.contains('merged')])")
    assert sorted(start for start, _ in bars) == starts
    assert not any(merged for _, merged in bars)
    lanes = w.page.eval_on_selector_all("svg.timeline text.lane",
                                        "els => els.map(e => e.textContent)")
    assert {"pipeline", "researcher:alice", "researcher:bob", "researcher:carol"} <= set(lanes)
    assert w.page.locator("svg.timeline line.msg").count() == 6
    assert w.page.locator("svg.timeline rect.bar.status-failed").count() == 2  # two node errors
    assert w.page.locator("svg.timeline rect.bar.retry").count() == 1  # fetch_citations #2


def _state_shown(w: Watched) -> str:
    section = w.page.locator("section.insp", has=w.page.locator("h3", has_text="State after"))
    return str(section.inner_text())


def test_opens_at_the_first_error_and_s_steps(browser: Any, example: Path,
                                               example_html: Path) -> None:
    """The page opens on the first error; s three times moves the cursor three events on,
    and the inspector then shows the state after that event."""
    w = watch(browser, example_html.as_uri())
    with Replayer.open(example) as r:
        first_error = next(e.seq for e in r.iter_events() if e.kind.endswith("_error"))
        assert w.seq() == first_error
        for _ in range(3):
            w.page.keyboard.press("s")
        w.wait_seq(first_error + 3)
        state = r.get_state_at_event(first_error + 3)
    cursor = w.page.locator(".events .row.cursor")
    assert cursor.get_attribute("data-seq") == str(first_error + 3)
    shown = _state_shown(w)
    for key, value in state.items():
        assert f"{key}:" in shown
        if isinstance(value, str | int | float):
            assert json.dumps(value) in shown
    assert w.errors == []


def test_slash_searches_for_a_node(browser: Any, example: Path, example_html: Path) -> None:
    """`/` opens the search line; the text typed finds the next event that mentions it."""
    w = watch(browser, example_html.as_uri())
    start = w.seq()
    w.page.keyboard.press("/")
    w.page.keyboard.type("publish")
    w.page.keyboard.press("Enter")
    with Replayer.open(example) as r:
        expected = next(e.seq for e in r.iter_events(start + 1)
                        if "publish" in f"{e.kind} {e.node} {json.dumps(e.data)}")
    w.wait_seq(expected)
    assert w.page.locator(".events .row.cursor .node").inner_text() == "publish"
    w.page.keyboard.press("?")
    w.page.keyboard.type("load")
    w.page.keyboard.press("Enter")
    w.page.wait_for_function(f"() => Number(document.body.dataset.seq) < {expected}")
    assert "load" in w.page.locator(".events .row.cursor").inner_text()


def test_hash_opens_at_the_event_and_follows_the_cursor(browser: Any,
                                                        example_html: Path) -> None:
    """#seq=N in the address opens the page on event N; moving the cursor updates it."""
    w = watch(browser, example_html.as_uri() + "#seq=40")
    assert w.seq() == 40
    assert w.page.locator(".events .row.cursor").get_attribute("data-seq") == "40"
    w.page.keyboard.press("S")  # reverse step
    w.wait_seq(39)
    assert w.page.evaluate("location.hash") == "#seq=39"
    w.page.evaluate("location.hash = '#seq=12'")
    w.wait_seq(12)


def test_clicking_a_state_key_says_why(browser: Any, example: Path, example_html: Path) -> None:
    """A click on a key of the state names the event that last set it, with a way there."""
    w = watch(browser, example_html.as_uri() + "#seq=80")
    w.page.locator("section.insp button.j-key", has_text="stage").first.click()
    answer = w.page.locator(".why-answer")
    answer.wait_for()
    with Replayer.open(example) as r:
        stage = r.get_state_at_event(80)["stage"]
        setter = max(e.seq for e in r.iter_events() if e.seq <= 80 and e.kind == "state"
                     and (r.get_state_at_event(e.seq - 1) or {}).get("stage") != stage)
    assert f"last set at seq {setter}" in answer.inner_text()
    answer.locator("button.go").click()
    w.wait_seq(setter)


def test_markup_in_payloads_is_shown_as_text_and_runs_nothing(browser: Any,
                                                              tmp_path: Path) -> None:
    """<script>, <img onerror> and javascript: URLs in names and payloads are only text."""
    path = record_hostile(tmp_path)
    html = write_report(path, tmp_path / "hostile.html")
    w = watch(browser, html.as_uri())
    with Replayer.open(path) as r:
        done = next(e.seq for e in r.iter_events() if e.kind == "node_complete")
    w.page.keyboard.press("j")
    w.page.keyboard.type(str(done))
    w.page.keyboard.press("Enter")
    w.wait_seq(done)
    inspector = w.text(".inspector")
    for text in (HOSTILE_SCRIPT, HOSTILE_IMG, HOSTILE_URL):
        assert json.dumps(text) in inspector
    assert HOSTILE_NODE in w.text(".tree")
    w.page.locator(".tree .node", has_text="evil").hover()
    w.page.locator("svg.timeline rect.bar").last.hover()
    w.page.keyboard.press("End")  # the last state holds markup as keys and values
    w.page.wait_for_timeout(200)
    assert w.page.evaluate("typeof window.__pwned") == "undefined"
    assert w.page.evaluate("document.querySelectorAll('img, iframe, object, embed, a').length") == 0
    assert w.dialogs == [] and w.popups == []
    assert w.page.url.split("#")[0] == html.as_uri()
    assert w.requests == [html.as_uri()]
    assert w.errors == []


def test_capped_report_says_what_it_left_out(browser: Any, tmp_path: Path) -> None:
    """A report cut to a window of events says so, draws every span, and opens at the error."""
    path = record_loop(tmp_path, 300, fail_at=200)
    html = write_report(path, tmp_path / "capped.html", max_events=100)
    w = watch(browser, html.as_uri())
    with Replayer.open(path) as r:
        total, spans = len(r), len(r.spans())
        error = next(e.seq for e in r.iter_events() if e.kind == "node_error")
    notice = w.text(".notice")
    assert f"of {total:,} events" in notice and "left out" in notice
    assert w.seq() == error
    bars = w.page.eval_on_selector_all("svg.timeline rect.bar", "els => els.reduce("
                                       "(n, e) => n + Number(e.dataset.count || 1), 0)")
    assert bars == spans
    w.page.keyboard.press("Home")
    w.page.wait_for_function(f"() => Number(document.body.dataset.seq) < {error - 40}")
    assert "No state is known" not in w.text(".inspector")  # the state before the window came along
    assert w.errors == []


def test_timeline_zooms_collapses_idle_gaps_and_picks_spans(browser: Any,
                                                            tmp_path: Path) -> None:
    """g collapses an idle stretch, + and - zoom, 0 fits, and a click on a bar goes there."""
    path = record_idle(tmp_path)
    w = watch(browser, write_report(path, tmp_path / "idle.html").as_uri())

    def box(node: str) -> dict[str, float]:
        bar = w.page.locator("svg.timeline rect.bar",
                             has=w.page.locator(f"title:text-matches('^{node} ')"))
        return dict(bar.bounding_box())

    narrow = box("after")["width"]
    w.page.keyboard.press("g")  # the idle stretch shrinks, so the work gets the room
    assert w.page.locator("svg.timeline rect.gap").count() >= 1
    assert box("after")["width"] > narrow * 3
    w.page.keyboard.press("g")
    assert w.page.locator("svg.timeline rect.gap").count() == 0
    shown = "() => flowtape.timeline.v1 - flowtape.timeline.v0"  # the time range in view
    whole = w.page.evaluate(shown)
    for _ in range(3):
        w.page.keyboard.press("+")
    assert w.page.evaluate(shown) == pytest.approx(whole / 1.25 ** 3)
    w.page.keyboard.press("-")
    assert w.page.evaluate(shown) == pytest.approx(whole / 1.25 ** 2)
    w.page.keyboard.press("0")
    assert w.page.evaluate(shown) == whole
    with Replayer.open(path) as r:
        after = next(e.seq for e in r.iter_events() if e.kind == "node_start" and e.node == "after")
    b = box("after")
    w.page.mouse.click(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2)
    w.wait_seq(after)
    assert w.errors == []


def test_breakpoints_and_the_command_line(browser: Any, example: Path,
                                          example_html: Path) -> None:
    """`:` takes stepper commands: b on a kind, then c and C stop where it matches."""
    w = watch(browser, example_html.as_uri() + "#seq=0")
    with Replayer.open(example) as r:
        checkpoints = [e.seq for e in r.iter_events() if e.kind == "checkpoint"]
    w.page.keyboard.press(":")
    w.page.keyboard.type("b checkpoint")
    w.page.keyboard.press("Enter")
    assert "Breakpoint 1 at kind checkpoint" in w.text(".statusline")
    w.page.keyboard.press("c")
    w.wait_seq(checkpoints[0])
    w.page.keyboard.press("c")
    w.wait_seq(checkpoints[1])
    assert w.page.locator(".events .row.cursor .mark").inner_text().startswith("●")
    w.page.keyboard.press("C")
    w.wait_seq(checkpoints[0])
    w.page.keyboard.press("h")
    assert "rr: to the start of the innermost span" in w.text(".help")
    w.page.keyboard.press("Escape")
    assert not w.page.locator(".help").is_visible()
    assert w.errors == []


def test_a_state_value_click_says_why_too(browser: Any, example_html: Path) -> None:
    """Clicking a value (not only its key) in the state asks which event set it."""
    w = watch(browser, example_html.as_uri() + "#seq=80")
    w.page.locator("section.insp .j-row", has=w.page.locator("button.j-key", has_text="topic")
                   ).locator(".v-str").first.click()
    assert "topic" in w.page.locator(".why-answer").inner_text()


def test_report_of_a_run_killed_mid_way(browser: Any, tmp_path: Path) -> None:
    """A recording whose writer was SIGKILLed shows as incomplete, its open spans running."""
    store = tmp_path / "store"
    store.mkdir()
    path = killed_mid_run(store, tmp_path)
    w = watch(browser, write_report(path, tmp_path / "killed.html").as_uri())
    assert w.text(".top .badge") == "incomplete"
    assert w.page.locator("svg.timeline rect.bar.kind-workflow.status-running").count() == 1
    w.page.keyboard.press("End")
    w.page.keyboard.press("r")  # return: the workflow never ended
    w.page.wait_for_function("() => document.querySelector('.statusline').textContent")
    assert "live never ended in this recording" in w.text(".statusline")
    assert w.errors == []


def test_a_damaged_report_says_it_cannot_be_shown(browser: Any, example_html: Path,
                                                  tmp_path: Path) -> None:
    """A report whose data was damaged in transit says so instead of showing half a run."""
    html = example_html.read_text(encoding="utf-8")
    marker = 'data-part="doc">'
    at = html.index(marker) + len(marker) + 40
    broken = tmp_path / "broken.html"
    broken.write_text(html[:at] + "AAAAAAAA" + html[at + 8:], encoding="utf-8")
    w = watch(browser, broken.as_uri(), wait=False)
    w.ready("body[data-ready='error']")
    assert "could not be shown" in w.text(".fatal")
    assert w.requests == [broken.as_uri()]

"""The HTML report's panes in a real headless Chromium: windowed drawing, the tree's
teams, the inspector's Changed and Error sections, and panning the timeline.

Like tests/viewer/test_viewer_browser.py, each test opens a report from ``file://``
in Debian's Chromium (tests/viewer/viewer_browser.py) and reads what a person
sees: rows, bars, the axis and the inspector's text. The page keeps the
cursor's seq on ``<body data-seq>`` and its viewer on ``window.flowtape``
(the timeline's shown time range is ``flowtape.timeline.v0`` to ``v1``).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from viewer_browser import Watched, launch_browser, watch, write_report
from viewer_recordings import record_loop

from recorder import node, record_workflow
from replayer import Replayer

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
_browser = pytest.fixture(scope="module", name="browser")(launch_browser)

#: Loop steps of the big recording: three events each (start, complete, state), ~20k in all.
BIG_STEPS = 6_700
#: Most rows or bars a pane may draw however long the recording (a screen's worth and more).
BOUND = 300
GUTTER = 140  # px left of the timeline's time axis, where the lane names are (timeline.js)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_loop(tmp_path_factory.mktemp("big"), BIG_STEPS, fail_at=BIG_STEPS // 2)


@pytest.fixture(scope="module")
def big_html(big: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(big, tmp_path_factory.mktemp("html") / "big.html")


def _rows(w: Watched, pane: str) -> list[int]:
    """The seqs (event list) or span starts (tree) of the rows a pane has in its DOM."""
    key = "seq" if pane == "events" else "start"
    return [int(v) for v in w.page.eval_on_selector_all(
        f".{pane} .row", f"els => els.map(e => e.dataset.{key})")]


def _bars(w: Watched) -> list[dict[str, Any]]:
    """The timeline's bars as drawn: the span each starts at, how many spans it stands for, x."""
    return list(w.page.eval_on_selector_all("svg.timeline rect.bar", """els => els.map(e => ({
        start: Number(e.dataset.start), count: Number(e.dataset.count || 1),
        x: Number(e.getAttribute('x')), width: Number(e.getAttribute('width'))}))"""))


def test_a_20k_event_report_draws_only_what_is_on_screen(browser: Any, big: Path,
                                                         big_html: Path) -> None:
    """The event list, the tree and the timeline hold a screenful of elements, not one per
    event or span; scrolling the list to its middle draws the rows of the middle."""
    with Replayer.open(big) as r:
        count, spans = len(r), len(r.spans())
        kinds = [e.kind for e in r.iter_events()]
    assert count > 20_000 and spans > 6_000
    w = watch(browser, big_html.as_uri() + "#seq=0")  # not at the error, which is mid-run
    events, tree = _rows(w, "events"), _rows(w, "tree")
    assert 10 < len(events) < BOUND and events[0] == 0
    assert 10 < len(tree) < BOUND  # the workflow starts open: its 6,700 steps are rows
    bars = _bars(w)
    assert 0 < len(bars) < BOUND
    assert sum(b["count"] for b in bars) == spans  # merged, not lost
    assert w.page.evaluate("document.querySelector('svg.timeline')"
                           ".querySelectorAll('*').length") < 4 * BOUND

    thumb_bar = w.page.locator(".events .vl-bar").bounding_box()
    assert thumb_bar is not None
    w.page.mouse.click(thumb_bar["x"] + thumb_bar["width"] / 2,
                       thumb_bar["y"] + thumb_bar["height"] / 2)
    w.page.wait_for_function(f"() => Number(document.querySelector('.events .row')"
                             f".dataset.seq) > {count // 4}", timeout=10_000)
    middle = _rows(w, "events")
    assert len(middle) < BOUND
    assert middle == list(range(middle[0], middle[0] + len(middle)))
    assert abs(middle[0] + len(middle) / 2 - count / 2) < len(middle)
    shown = w.page.eval_on_selector_all(".events .row .kind", "els => els.map(e => e.textContent)")
    assert shown == [kinds[s] for s in middle]
    w.page.mouse.move(thumb_bar["x"] - 200, thumb_bar["y"] + thumb_bar["height"] / 2)
    w.page.mouse.wheel(0, 20 * 100)  # a hundred rows further on
    w.page.wait_for_function(f"() => Number(document.querySelector('.events .row')"
                             f".dataset.seq) === {middle[0] + 100}", timeout=10_000)
    assert len(_rows(w, "events")) == len(middle)

    for _ in range(20):  # zoomed in ~87x: only the bars in view are drawn
        w.page.keyboard.press("+")
    width = float(w.page.evaluate("flowtape.timeline.w"))
    zoomed = _bars(w)
    assert 0 < len(zoomed) < BOUND
    assert sum(b["count"] for b in zoomed) < spans / 20
    assert all(b["x"] >= GUTTER and b["x"] < width for b in zoomed)
    assert w.errors == []


def test_the_tree_draws_a_team_as_a_group_of_its_members(browser: Any, example: Path,
                                                         example_html: Path) -> None:
    """The team's row is followed by its members, one level in, each member by its own
    node rows another level in; the group ends where the team's siblings go on."""
    with Replayer.open(example) as r:
        by_start = {s.start_seq: s for s in r.spans()}
    (team,) = [s for s in by_start.values() if s.kind == "team"]
    members = [by_start[c] for c in team.children]
    assert [m.node for m in members] == ["alice", "bob", "carol"]
    assert all(m.kind == "member" and m.children for m in members)
    w = watch(browser, example_html.as_uri() + "#seq=0")
    for m in members:  # members start folded, showing how many spans they hold
        row = w.page.locator(f".tree .row[data-start='{m.start_seq}']")
        assert row.locator(".count").inner_text() == f"({len(m.children)})"
        row.locator(".toggle").click()
        w.page.locator(f".tree .row[data-start='{m.children[0]}']").wait_for()
    rows = w.page.eval_on_selector_all(".tree .row", """els => els.map(e => [
        Number(e.dataset.start), e.querySelector('.indent').textContent.length / 2,
        e.querySelector('.badge').textContent, e.querySelector('.node').textContent])""")
    at = next(i for i, row in enumerate(rows) if row[0] == team.start_seq)
    level = rows[at][1]
    assert rows[at][2:] == ["team", team.node]
    assert "kind-team" in (w.page.locator(f".tree .row[data-start='{team.start_seq}']")
                           .get_attribute("class") or "")
    end = next((i for i in range(at + 1, len(rows)) if rows[i][1] <= level), len(rows))
    expected = []
    for m in members:
        expected.append([m.start_seq, level + 1, "m", m.node])
        expected += [[c, level + 2, "n", by_start[c].node] for c in m.children]
    assert rows[at + 1:end] == expected
    assert end < len(rows) and by_start[rows[end][0]].parent == team.parent  # the group ends
    w.page.locator(f".tree .row[data-start='{members[1].start_seq}'] .toggle").click()
    w.page.locator(f".tree .row[data-start='{members[1].children[0]}']").wait_for(
        state="detached")  # folding a member hides its nodes, not the other members'
    assert members[2].children[0] in _rows(w, "tree")
    assert w.errors == []


@node("checkout")
def _checkout(cart: dict[str, Any]) -> None:
    try:
        cart["missing"]
    except KeyError as exc:
        raise RuntimeError("checkout failed for cart 7") from exc


#: Paths the shop's last state event changes: more than the Changed pane lists at first.
STOCK = 250


def _record_shop(store: Path) -> Path:
    """Two states that differ in a nested value, an added item and a removed key; a node
    that fails with a cause; then a state event that changes `STOCK` paths at once."""
    cart = {"items": ["apple", "pear"], "total": 3}
    with record_workflow("shop", store=str(store)) as rec:
        rec.snapshot({"cart": {"items": ["apple"], "total": 1}, "user": "ann"})
        rec.snapshot({"cart": cart, "stock": {f"s{i:03}": i for i in range(STOCK)}})
        with contextlib.suppress(RuntimeError):
            _checkout({})
        rec.snapshot({"cart": cart, "stock": {f"s{i:03}": i + 1 for i in range(STOCK)}})
        path = rec.path
    assert path is not None
    return Path(path)


def _section(w: Watched, title: str) -> Any:
    return w.page.locator("section.insp", has=w.page.locator("h3", has_text=title))


def test_the_inspector_shows_what_changed_and_the_error_with_its_traceback(
        browser: Any, tmp_path: Path) -> None:
    """Changed lists every state path the event changed, old → new; a node_error shows its
    error, its cause and its traceback (once, not again inside the data)."""
    path = _record_shop(tmp_path)
    with Replayer.open(path) as r:
        events = list(r.iter_events())
    first, second, stocked = (e.seq for e in events if e.kind == "state")
    error = next(e for e in events if e.kind == "node_error")
    html = write_report(path, tmp_path / "shop.html")

    w = watch(browser, html.as_uri() + f"#seq={second}")
    changes = _section(w, "Changed").locator("li").all_inner_texts()
    assert changes[:3] == ["cart.items[1]: (not set) → pear", "cart.total: 1 → 3",
                           "user: ann → (not set)"]
    # stock is new: the whole object is one change, its value cut short
    assert changes[3].startswith('stock: (not set) → {"s000":0,"s001":1,')
    assert changes[3].endswith("…") and len(changes) == 4
    _section(w, "Changed").locator("button.j-key", has_text="cart.total").click()
    assert f"last set at seq {second}" in w.text(".why-answer")
    w.page.keyboard.press("S")
    w.wait_seq(first)
    assert _section(w, "Changed").locator("li").all_inner_texts() == ["the first state"]
    w.page.keyboard.press("j")
    w.page.keyboard.type(str(error.seq - 1))  # the node's start: the state stays as it was
    w.page.keyboard.press("Enter")
    w.wait_seq(error.seq - 1)
    assert _section(w, "Changed").locator("li").all_inner_texts() == [
        f"seq {error.seq - 1} did not change the state"]
    assert _section(w, "Error").count() == 0

    w.page.keyboard.press("s")
    w.wait_seq(error.seq)
    pane = _section(w, "Error")
    assert pane.locator(".error-line").inner_text() == "RuntimeError: checkout failed for cart 7"
    assert pane.locator(".cause").all_inner_texts() == ["caused by KeyError: 'missing'"]
    traceback = pane.locator("pre.traceback").inner_text()
    assert traceback.strip() == error.data["error"]["traceback"].strip()
    assert 'raise RuntimeError("checkout failed for cart 7") from exc' in traceback
    data = w.text("section.insp:has(h3:text-is('Data'))")
    assert '"(above)"' in data and "Traceback" not in data

    w.page.keyboard.press("j")  # a change of many paths lists them all, the rest on a click
    w.page.keyboard.type(str(stocked))
    w.page.keyboard.press("Enter")
    w.wait_seq(stocked)
    changed = _section(w, "Changed")
    assert changed.locator("li").count() < STOCK
    changed.locator("button.more").click(timeout=10_000)
    shown = changed.locator("li").all_inner_texts()
    assert shown == [f"stock.s{i:03}: {i} → {i + 1}" for i in range(STOCK)]
    assert w.errors == []


def test_dragging_or_shift_wheel_pans_the_timeline_and_0_fits_it(browser: Any,
                                                                  example_html: Path) -> None:
    """Zoomed in, a drag to the left and Shift+wheel move the window later in the run (the
    axis starts later, other bars come first, the cursor stays); 0 fits the run again."""
    w = watch(browser, example_html.as_uri() + "#seq=0")
    view = "() => [flowtape.timeline.v0, flowtape.timeline.v1]"

    def in_view() -> dict[int, float]:  # the bars that begin inside the view: their x
        return {b["start"]: b["x"] for b in _bars(w) if b["x"] > GUTTER + 1}

    def axis_start() -> str:
        return str(w.page.locator("svg.tl-axis text.tick-label").first.text_content())

    fitted_view, fitted_bars = w.page.evaluate(view), _bars(w)
    assert fitted_view[0] == 0 and axis_start() == "0 ns"
    for _ in range(6):
        w.page.keyboard.press("+")
    v0, v1 = w.page.evaluate(view)
    axis, bars = axis_start(), in_view()

    box = w.page.locator("svg.timeline").bounding_box()
    assert box is not None
    y = box["y"] + 5
    w.page.mouse.move(box["x"] + 900, y)
    w.page.mouse.down()
    w.page.mouse.move(box["x"] + 600, y, steps=10)
    w.page.mouse.up()
    d0, d1 = w.page.evaluate(view)
    assert d0 > v0 and d1 - d0 == pytest.approx(v1 - v0)
    assert axis_start() != axis
    dragged = in_view()
    assert dragged.keys() != bars.keys()  # some bars went out on the left, others came in
    # ... and the bars in view before and after moved as far as the pointer did
    assert all(x == pytest.approx(bars[s] - 300, abs=0.5) for s, x in dragged.items() if s in bars)
    assert w.seq() == 0  # a drag is not a click on a bar

    w.page.mouse.move(box["x"] + 700, y)
    w.page.keyboard.down("Shift")
    w.page.mouse.wheel(0, 200)
    w.page.keyboard.up("Shift")
    w.page.wait_for_function(f"() => flowtape.timeline.v0 > {d0}", timeout=10_000)
    s0, s1 = w.page.evaluate(view)
    assert s1 - s0 == pytest.approx(v1 - v0)  # panned, not zoomed
    w.page.mouse.wheel(200, 0)  # a sideways swipe (a trackpad's, a tilting wheel's) pans too
    w.page.wait_for_function(f"() => flowtape.timeline.v0 > {s0}", timeout=10_000)
    h0, h1 = w.page.evaluate(view)
    assert h1 - h0 == pytest.approx(v1 - v0)

    w.page.keyboard.press("0")
    assert w.page.evaluate(view) == fitted_view
    assert axis_start() == "0 ns"
    assert _bars(w) == fitted_bars

    # The wheel zooms around the pointer (at a whole pixel, as mouse events have it): the
    # moment under it stays there, so a bar near it keeps its distance times the zoom.
    mid = min(fitted_bars, key=lambda b: abs(b["x"] - box["width"] / 2))
    pointer = round(box["x"] + mid["x"])
    w.page.mouse.move(pointer, y)
    for _ in range(5):
        w.page.mouse.wheel(0, -100)
    w.page.wait_for_function(f"() => flowtape.timeline.v1 - flowtape.timeline.v0"
                             f" < {fitted_view[1]} / 3", timeout=10_000)
    z0, z1 = w.page.evaluate(view)
    at = pointer - box["x"]
    zoom = (fitted_view[1] - fitted_view[0]) / (z1 - z0)
    assert in_view()[mid["start"]] == pytest.approx(at + (mid["x"] - at) * zoom, abs=0.1)
    assert w.errors == []

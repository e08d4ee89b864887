"""The HTML report as bytes: one file, a CSP that forbids the network, the recording inside.

What the page does with it is tested in a real browser (tests/viewer/test_viewer_browser.py);
here the file itself is read back in Python: its Content-Security-Policy, its
inline code matched against the policy's hashes, the compressed chunks decoded
to exactly the ``json`` export, the outline of spans the page draws, and the
size cap.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from viewer_recordings import (
    HOSTILE_IMG,
    HOSTILE_NODE,
    HOSTILE_SCRIPT,
    HOSTILE_URL,
    record_hostile,
    record_loop,
    write_outcomes,
)

from replayer import Replayer
from replayer.export.json import to_json
from replayer.viewer import iter_html, write_html
from replayer.viewer._report import CHUNK_BYTES


def _html(path: Path, **options: Any) -> str:
    with Replayer.open(path) as r:
        return "".join(iter_html(r, **options))


def _csp(html: str) -> dict[str, list[str]]:
    m = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', html)
    assert m is not None, "no CSP meta element"
    policy: dict[str, list[str]] = {}
    for directive in m.group(1).split(";"):
        name, *values = directive.split()
        policy[name] = values
    return policy


def _chunks(html: str, part: str) -> list[str]:
    return re.findall(r'<script type="application/x-flowtape-gzip" data-part="' + part
                      + r'">([A-Za-z0-9+/=]*)</script>', html)


def _part(html: str, part: str) -> str:
    raw = b"".join(base64.b64decode(c) for c in _chunks(html, part))
    return gzip.decompress(raw).decode()


def test_report_is_one_file_whose_policy_forbids_the_network(example: Path) -> None:
    """The page names no URL at all, and its CSP allows no request: no default, no connect."""
    html = _html(example)
    policy = _csp(html)
    assert policy["default-src"] == ["'none'"]
    assert policy["connect-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'none'"]
    assert not re.search(r"\s(src|href|action|srcset)=", html), "the page refers to something"
    # The one URL is SVG's namespace name, an identifier that is never fetched.
    urls = set(re.findall(r"https?://[^\s\"'`]*", html))
    assert urls == {"http://www.w3.org/2000/svg"}


def test_inline_code_is_exactly_what_the_policy_hashes(example: Path) -> None:
    """Every inline script and style is allowed by its sha256 in the CSP, and nothing else is."""
    html = _html(example)
    policy = _csp(html)

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() \
            + "'"

    scripts = re.findall(r'<script type="module">(.*?)</script>', html, re.S)
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(scripts) == 1 and len(styles) == 1
    assert policy["script-src"] == [digest(scripts[0])]
    assert policy["style-src"] == [digest(styles[0])]
    assert "innerHTML" not in scripts[0] and "insertAdjacentHTML" not in scripts[0]
    assert "eval(" not in scripts[0] and "new Function" not in scripts[0]


def test_recording_travels_as_the_json_export_in_gzip_chunks(tmp_path: Path) -> None:
    """The doc part decodes to exactly the `json` export, in many modest base64 chunks."""
    path = record_loop(tmp_path, 3000)
    html = _html(path)
    chunks = _chunks(html, "doc")
    assert len(chunks) > 1
    assert all(len(c) <= CHUNK_BYTES * 4 // 3 + 4 for c in chunks)
    with Replayer.open(path) as r:
        assert _part(html, "doc") == to_json(r)


def test_recorded_markup_is_never_in_the_page_as_markup(tmp_path: Path) -> None:
    """Hostile node names, payloads, tags and the title exist only inside the compressed data."""
    path = record_hostile(tmp_path)
    html = _html(path)
    for text in (HOSTILE_SCRIPT, HOSTILE_IMG, HOSTILE_URL, HOSTILE_NODE, "__pwned"):
        assert text not in html
    assert html.count("<script") == html.count("</script>")
    assert "<title>flowtape report</title>" in html
    doc = json.loads(_part(html, "doc"))
    assert HOSTILE_NODE in {e.get("node") for e in doc["events"]}


def test_outline_has_every_span_and_opens_at_the_first_error(example: Path,
                                                             tmp_path: Path) -> None:
    """The outline lists every span the engine finds, and the first error event's seq."""
    html = _html(example)
    outline = json.loads(_part(html, "outline"))
    with Replayer.open(example) as r:
        spans = r.spans()
        first_error = next(e.seq for e in r.iter_events() if e.kind.endswith("_error"))
    assert [row[0] for row in outline["spans"]] == [s.start_seq for s in spans]
    assert outline["first_error"] == first_error
    assert outline["window"] is None
    nodes = outline["nodes"]
    retried = [row for row in outline["spans"] if nodes[row[5]] == "fetch_citations"]
    assert [row[8] for row in retried] == [1, 2]
    assert len(outline["messages"]) == 6
    assert all(m[2] >= 0 and m[3] >= 0 for m in outline["messages"])  # sender, receiver spans
    clean = record_loop(tmp_path, 3)
    assert json.loads(_part(_html(clean), "outline"))["first_error"] is None


def test_span_status_follows_what_the_end_event_says(tmp_path: Path) -> None:
    """A cancelled workflow, a member with an error, a member timed out, a team that failed."""
    path = write_outcomes(tmp_path / "outcomes.jsonl.zst")
    outline = json.loads(_part(_html(path), "outline"))
    status = {outline["nodes"][row[5]]: outline["statuses"][row[6]] for row in outline["spans"]}
    assert status == {"outcomes": "cancelled", "crew": "failed", "alice": "failed",
                      "bob": "timed_out", "carol": "completed"}


def test_above_the_cap_every_span_stays_and_a_window_of_events(tmp_path: Path) -> None:
    """Past max_events the file keeps the spans, events around the first error, and says so."""
    path = record_loop(tmp_path, 400, fail_at=300)
    html = _html(path, max_events=100)
    doc = json.loads(_part(html, "doc"))
    outline = json.loads(_part(html, "outline"))
    with Replayer.open(path) as r:
        total, spans = len(r), r.spans()
        error = next(e.seq for e in r.iter_events() if e.kind == "node_error")
        window = outline["window"]
        first = window["first"]
        assert window == {"first": first, "count": 100, "total": total,
                          "state_before": r.get_state_at_event(first - 1)}
        assert [e["seq"] for e in doc["events"]] == list(range(first, first + 100))
        assert first <= error < first + 100
        assert doc["summary"]["event_count"] == total
    assert len(outline["spans"]) == len(spans)
    assert outline["first_error"] == error


def test_the_cap_must_be_positive(example: Path) -> None:
    """max_events below 1 is refused with a message naming the option."""
    with pytest.raises(ValueError, match="max_events"):
        _html(example, max_events=0)


def test_write_html_writes_the_same_page(example: Path) -> None:
    """write_html sends iter_html's pieces to an open text file."""
    out = io.StringIO()
    with Replayer.open(example) as r:
        write_html(r, out)
    assert out.getvalue() == _html(example)


@pytest.mark.parametrize(("files", "problem"), [
    ({"main.js": 'import { a } from "./a.js";\n', "a.js": 'import { m } from "./main.js";\n'},
     "import cycle"),
    ({"main.js": "export default function main() {}\n"}, "write imports as"),
    ({"main.js": 'const x = await import("./a.js");\n'}, "write imports as"),
    ({"main.js": 'const tag = "</script>";\n'}, "would end or confuse"),
])
def test_bundler_refuses_what_it_cannot_inline(tmp_path: Path, files: dict[str, str],
                                               problem: str) -> None:
    """Cycles, other import/export forms and text that ends a script fail, naming the file."""
    from replayer.viewer._page import bundle

    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match=problem) as info:
        bundle(tmp_path / "main.js")
    assert str(tmp_path) in str(info.value)

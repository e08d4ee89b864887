"""Fixtures the viewer's test modules share: the research-pipeline example and its report.

Module-scoped, so each test module records the example once (the browser test
modules each launch their own Chromium too, tests/viewer/viewer_browser.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from viewer_browser import write_report
from viewer_recordings import record_example


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The research-pipeline example's recording (examples/research_pipeline.py)."""
    return record_example(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module")
def example_html(example: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's HTML report."""
    return write_report(example, tmp_path_factory.mktemp("html") / "run.html")

"""The browser viewer (SPEC §13): the ``html`` export and ``flowtape serve``.

`iter_html` / `write_html` make one self-contained page from a recording
(`_report`); ``replayer.cli.serve`` is the ``serve`` command, whose server
(`_server`) shows every recording of a store with the same page. The page
itself is hand-written JavaScript, CSS and SVG under ``static/``, joined into
one inline script by `_page`. docs/viewer.md tells what the page shows and
which keys it takes.
"""

from ._report import iter_html, write_html

__all__ = ["iter_html", "write_html"]

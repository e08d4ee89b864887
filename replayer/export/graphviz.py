"""Drawings of a run: the DOT export rendered by Graphviz's ``dot`` (``-o run.svg``, ``run.png``).

flowtape writes DOT itself (`replayer.export.dot`); turning it into a picture is
Graphviz's job, so this module runs the ``dot`` program when it is
installed and says what to install when it is not. The DOT text is streamed
to a private temporary file first (a big run's DOT need not fit in memory),
then ``dot -T<format>`` draws it into the file the caller names.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile

from .._replayer import Replayer
from .dot import iter_dot

__all__ = ["GRAPHVIZ_FORMATS", "render_graphviz"]

#: Picture formats drawn from the DOT export, by their Graphviz ``-T`` name.
GRAPHVIZ_FORMATS = frozenset({"svg", "png"})
_STDERR_LINES = 5


def render_graphviz(replayer: Replayer, fmt: str, path: str, *, shown_as: str) -> None:
    """Draw ``replayer``'s run as a ``fmt`` picture (see `GRAPHVIZ_FORMATS`) into ``path``.

    ``shown_as`` is the file name the user gave, for messages. Raises
    FileNotFoundError when Graphviz is not installed and OSError when ``dot``
    fails, each saying what happened and what to do; ValueError for a format
    that is not a picture format.
    """
    if fmt not in GRAPHVIZ_FORMATS:
        raise ValueError(f"{fmt!r} is not a picture format; choose one of "
                         f"{', '.join(sorted(GRAPHVIZ_FORMATS))}")
    dot = shutil.which("dot")
    if dot is None:
        stem = os.path.splitext(shown_as)[0]
        raise FileNotFoundError(
            errno.ENOENT, f"drawing {shown_as} needs Graphviz's `dot` program, which is not "
            f"installed (e.g. `apt install graphviz`); or write the graph as text with "
            f"-o {stem}.dot and render it elsewhere")
    fd, source = tempfile.mkstemp(prefix=".flowtape-", suffix=".dot",
                                  dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for piece in iter_dot(replayer):
                f.write(piece)
        done = subprocess.run([dot, f"-T{fmt}", "-o", path, source], capture_output=True,
                              check=False)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(source)
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()[-_STDERR_LINES:]
        raise OSError(f"Graphviz `dot -T{fmt}` could not draw {shown_as} (exit status "
                      f"{done.returncode}): {' / '.join(said) or 'no message'}")

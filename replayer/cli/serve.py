"""`flowtape serve`: every recording of a store in the browser viewer, from 127.0.0.1 only.

Read-only, on the loopback interface only, answering only requests whose
Host is this server (see `replayer.viewer._server`). ``--port 0`` picks a free port; the URL
is printed either way. Ctrl-C stops it (exit status 0).
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.text import Text

from storage import RecordingQuery

from ..viewer._server import ViewerServer

NAME = "serve"
HELP = "show the store's recordings in a browser (127.0.0.1 only, read-only)"
DEFAULT_PORT = 8765


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", "-p", type=int, default=DEFAULT_PORT, metavar="PORT",
                        help=f"the port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)")


def run(args: argparse.Namespace, console: Console) -> int:
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be between 0 and 65535, not {args.port}")
    server = ViewerServer(args.store, args.port, quiet=not getattr(args, "debug", False))
    try:
        server.store.list(RecordingQuery(limit=1))  # an unreadable store fails now, not later
        console.print(Text(f"flowtape serve: {server.url}  (store {args.store}; Ctrl-C stops)"),
                      highlight=False, soft_wrap=True)
        console.file.flush()
        server.serve_forever()
    except KeyboardInterrupt:
        return 0
    finally:
        server.server_close()
    return 0

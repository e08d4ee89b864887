"""``python -m replayer``: the `flowtape` command."""

import sys

from .cli import main

sys.exit(main())

"""The terminal room: how recordings look in a terminal — timeline, stepper, diff report.

Consoles, JSON and progress bars (`console`), event lines (`timeline`), the
interactive stepper (`stepper`, on `moving`, `frames`, `looking`, `shell`, with
`breakpoints` and `conditions`; docs/stepper.md) and the rich diff report
(`diffreport`).
It only renders: every question it asks is answered by the `Replayer`
engine (replayer's top level). It imports the engine and `storage`, never
the export, cli or viewer rooms.
"""

from .diffreport import print_report
from .stepper import Stepper

__all__ = ["Stepper", "print_report"]

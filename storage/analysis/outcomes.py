"""How an execution ended, read from its end event (docs/format.md, event payloads).

One rule for everything that shows or compares outcomes — the exports, the
diff — so a team member whose body raised is ``failed`` everywhere, and a
cancelled run is ``cancelled``, not ``failed``:

* ``node_error`` (any ``*_error``) is ``failed``, except a ``workflow_error``
  whose ``data.status`` is ``cancelled`` or ``timed_out``: then that;
* ``team_member_complete`` and ``team_complete`` are what their
  ``data.status`` says (``failed``, ``cancelled``, ``timed_out``); without
  one, one carrying an ``error``, or a ``team_complete`` whose
  ``data.success`` is false, is ``failed``;
* every other end is ``completed``.

A span with no end event is ``running`` while its writer lives and
``incomplete`` once it is gone; that is the reader's to tell, not an end's.
"""

from __future__ import annotations

from typing import Any

__all__ = ["END_STATUSES", "OUTCOME_KINDS", "end_status"]

#: The statuses an end event can give.
END_STATUSES = ("completed", "failed", "cancelled", "timed_out")
#: End kinds whose outcome depends on their data (the others' is fixed by their kind).
OUTCOME_KINDS = frozenset({"workflow_error", "team_complete", "team_member_complete"})
_NOT_COMPLETED = frozenset(END_STATUSES[1:])


def end_status(kind: str, data: Any = None) -> str:
    """The status an end event of ``kind`` with payload ``data`` gives its span.

    ``data`` matters only for `OUTCOME_KINDS`; an unknown ``status`` value
    there is ignored (the kind's default stands).
    """
    status = data.get("status") if isinstance(data, dict) else None
    if not isinstance(status, str):
        status = None  # damaged data: the kind's default stands
    if kind.endswith("_error"):
        if kind == "workflow_error" and status in ("cancelled", "timed_out"):
            return str(status)
        return "failed"
    if kind in ("team_member_complete", "team_complete"):
        if status in _NOT_COMPLETED:
            return str(status)
        if isinstance(data, dict) and (data.get("error") is not None
                                       or (kind == "team_complete"
                                           and data.get("success") is False)):
            return "failed"  # an error without a status (older writers) still failed
    return "completed"

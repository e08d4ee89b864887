"""Teams: ``with rec.team("research", members=[...]) as team:`` (SPEC §4).

A team run is a span (``team_start`` … ``team_complete``); each member's turn
inside it is a span of its own (``team_member_start`` …
``team_member_complete``), and ``team.message(from, to, message)`` records a
``team_message``. A body that raises ends its span with ``status`` and the
masked ``error``, like a node end, and the exception goes on unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._context import Span
    from ._recorder import RecorderCore

__all__ = ["TeamRecorder"]


class TeamRecorder:
    """A team run: ``with rec.team("research", members=[...]) as team:``."""

    def __init__(self, rec: RecorderCore, team_id: str, formation: str | None,
                 members: list[str], context: Any) -> None:
        self.rec = rec
        self.team_id = team_id
        self.formation = formation
        self.members = members
        self.context = context
        #: What the team produced: set it inside the block to record it as ``outputs``.
        self.output: Any = None
        self.success = True
        #: The ``team_start`` event's seq once entered.
        self.seq: int | None = None
        self._span: Span | None = None
        self._outcome: dict[str, Any] | None = None

    def __enter__(self) -> TeamRecorder:
        rec = self.rec
        data: dict[str, Any] = {"member_count": len(self.members)}
        if self.formation is not None:
            data["formation"] = self.formation
        if self.members:
            data["members"] = list(self.members)
        if self.context is not None:
            data["context"] = rec._payload(self.context, "data")
        self._span = rec.span_start("team_start", self.team_id, data)
        self.seq = self._span.seq
        return self

    def __exit__(self, et: Any, ev: BaseException | None, tb: Any) -> None:
        if ev is not None:
            self.success = False
            self._outcome = self.rec._failure_data(ev)
        assert self._span is not None
        self.rec.span_end(self._span, "team_complete", self._end_data())

    async def __aenter__(self) -> TeamRecorder:
        return self.__enter__()

    async def __aexit__(self, et: Any, ev: BaseException | None, tb: Any) -> None:
        self.__exit__(et, ev, tb)

    def _end_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"success": self.success}
        if self.output is not None and self.rec._record_outputs:
            data["outputs"] = self.rec._payload(self.output, "outputs")
        if self._outcome is not None:
            data.update(self._outcome)
        return data

    @contextmanager
    def member(self, name: str, role: str | None = None) -> Iterator[int]:
        """Context manager around one member's turn in the team."""
        data: dict[str, Any] = {"team": self.team_id}
        if role is not None:
            data["role"] = role
        rec = self.rec
        span = rec.span_start("team_member_start", name, data)
        outcome: dict[str, Any] | None = None
        try:
            yield span.seq
        except BaseException as exc:
            outcome = rec._failure_data(exc)
            raise
        finally:
            rec.span_end(span, "team_member_complete", outcome)

    def message(self, from_member: str, to_member: str, message: Any) -> int:
        """A message one member sent another."""
        rec = self.rec
        parent, depth = rec._enclosing()
        data = {"from": from_member, "to": to_member,
                "message": rec._payload(message, "data")}
        return rec._emit("team_message", self.team_id, None, parent, depth, None, data)

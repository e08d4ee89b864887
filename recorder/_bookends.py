"""The lines a recording starts and ends with: its header and its footer (SPEC §3).

The header carries what the run is (workflow, tags, config, host, user
``meta`` and ``inputs``, masked and held to the payload limit like any
payload: the header is one frame, which must stay small); the footer how it
ended (status, counts, duration, the short error, and the ``dropped`` and
``degraded`` notes). The writer adds the seek index.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import socket
import time
from typing import TYPE_CHECKING, Any

import msgspec

from storage import Counts, Footer, Header

from ._values import fix_text, truncated

if TYPE_CHECKING:
    from ._recorder import RecorderCore

__all__ = ["footer_now", "header_for", "masked_inputs", "plain_value"]

_json_plain = msgspec.json.Decoder()


def header_for(rec: RecorderCore) -> Header:
    """``rec``'s header line, as its file starts."""
    opts = rec.options
    assert rec._started_wall is not None
    return Header(
        recording_id=rec.recording_id,
        workflow=fix_text(rec.workflow_name),
        started_at=rec._started_wall.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        tags=[fix_text(t) for t in rec.tags],
        codec=opts.codec,
        config=rec.config,
        host=socket.gethostname(),
        pid=os.getpid(),
        python=platform.python_version(),
        meta=_header_value(rec, "meta", dict(opts.meta)) if opts.meta else {},
        inputs=_header_value(rec, "inputs", None),
        entry=opts.entry,
        replay_of=opts.replay_of,
    )


def _header_value(rec: RecorderCore, name: str, value: Any) -> Any:
    """``meta`` or ``inputs`` for the header: masked, and truncated past the payload limit."""
    masked = masked_inputs(rec) if name == "inputs" else rec._payload(value, name)
    if isinstance(masked, msgspec.Raw) and len(masked) > rec._max_payload:
        rec._notes.note_dropped(f"header {name} ({len(masked)} bytes) truncated")
        return truncated(len(masked), bytes(masked))
    return plain_value(masked)


def masked_inputs(rec: RecorderCore) -> Any:
    """The run's inputs as recorded (header and ``workflow_start``): masked once, so a
    ``redact=`` callable sees this payload once."""
    if rec._inputs_masked is None and rec.options.inputs is not None:
        rec._inputs_masked = rec._payload(rec.options.inputs, "inputs")
    return rec._inputs_masked


def footer_now(rec: RecorderCore, status: str, error: dict[str, Any] | None) -> Footer:
    """``rec``'s footer as it would be written now (counts, duration, notes)."""
    kc = rec._kind_counts
    end = rec._ended_ns or time.perf_counter_ns()
    return Footer(
        status=status,
        event_count=rec._seq,
        duration_ns=max(0, end - rec._t0) if rec._t0 else 0,
        ended_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        error=_short_error(error),
        counts=Counts(
            nodes=kc.get("node_start", 0),
            teams=kc.get("team_start", 0),
            messages=kc.get("team_message", 0),
            max_depth=rec._max_depth,
            errors=kc.get("node_error", 0) + kc.get("workflow_error", 0),
            states=kc.get("state", 0),
        ),
        dropped=rec._notes.all_dropped(),
        degraded=list(rec._notes.degraded),
    )


def plain_value(value: Any) -> Any:
    """A recorded payload (`msgspec.Raw` or a scalar) as plain Python values."""
    return _json_plain.decode(value) if isinstance(value, msgspec.Raw) else value


def _short_error(error: dict[str, Any] | None) -> dict[str, Any] | None:
    if not error:
        return None
    return {k: error[k] for k in ("type", "module", "message") if k in error}

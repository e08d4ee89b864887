"""The event that would not encode: fixed up, truncated, or replaced — never raised.

The hot path encodes an event line in one go. When that fails — a value the
encode hook cannot take, lone surrogates in a node id or thread name
(`LineTooLong` aside) — or the line is over the payload limit, the event
comes here: its fields are converted by the general converter, payloads over
``max_payload_bytes`` become ``{"$truncated", "$preview"}`` stand-ins noted in
the footer's ``dropped``, and as a last resort a payload becomes a typed
placeholder (SPEC §4: recording never changes the workflow).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from storage import Event, LineTooLong, LogWriter, RecordingWriteError

from ._values import fix_text, make_enc_hook, placeholder, to_builtins, truncated

if TYPE_CHECKING:
    from ._placement import DiscardWriter
    from ._recorder import RecorderCore

__all__ = ["append_slow", "enc_hook", "encode_value"]

enc_hook = make_enc_hook()
_json = msgspec.json.Encoder(enc_hook=enc_hook)


def encode_value(value: Any) -> bytes:
    """``value`` as recorded JSON (a `msgspec.Raw` as it is); never raises."""
    if isinstance(value, msgspec.Raw):
        return bytes(value)
    try:
        return _json.encode(value)
    except Exception:
        return _json.encode(to_builtins(value, enc_hook))


def append_slow(rec: RecorderCore, writer: LogWriter | DiscardWriter, ev: Event,
                exc: Exception, urgent: bool) -> None:
    """Append ``ev``, which failed to encode with ``exc``, in whatever form can be written."""
    notes = rec._notes
    if not isinstance(exc, LineTooLong):
        # Lone surrogates in a node id or a thread name, values the hook could not take.
        ev.node = None if ev.node is None else fix_text(ev.node)
        ev.lane = None if ev.lane is None else fix_text(ev.lane)
        ev.data = to_builtins(ev.data, enc_hook)
        ev.state = to_builtins(ev.state, enc_hook)
        ev.patch = to_builtins(ev.patch, enc_hook)
    limit = rec._max_payload
    for name in ("data", "state", "patch"):
        value = getattr(ev, name)
        if value is None:
            continue
        if name == "data" and isinstance(value, dict):
            fixed = dict(value)
            for k, v in value.items():
                enc = encode_value(v)
                if len(enc) > limit:
                    fixed[k] = truncated(len(enc), enc)
                    notes.note_dropped(f"seq {ev.seq} {ev.kind} {ev.node or ''}: "
                                       f"data.{k} ({len(enc)} bytes) truncated")
            ev.data = fixed
        else:
            enc = encode_value(value)
            if len(enc) > limit:
                setattr(ev, name, truncated(len(enc), enc) if name != "patch" else None)
                if name == "patch":
                    ev.state = truncated(len(enc), enc)
                    rec._states.keyframes.append(ev.seq)  # it now holds a (placeholder) state
                notes.note_dropped(f"seq {ev.seq} {ev.kind} {ev.node or ''}: "
                                   f"{name} ({len(enc)} bytes) truncated")
                if name in ("state", "patch"):
                    rec._states.last = None  # the next snapshot must be a keyframe
    try:
        writer.append(ev, 0, urgent)
    except RecordingWriteError as exc2:
        notes.io_failed(exc2)
    except Exception as exc2:
        ev.data = None if ev.data is None else placeholder(ev.data)
        ev.state = None if ev.state is None and ev.patch is None else placeholder(
            ev.state if ev.state is not None else ev.patch)
        ev.patch = None
        try:
            writer.append(ev, 0, urgent)
        except Exception:
            notes.note_degraded(f"seq {ev.seq} {ev.kind} could not be encoded: {exc2}")

"""The header line: checked before anything else in a file is trusted (docs/format.md).

`format` and `version` are looked at first, whatever else the header holds
(§Versioning): a file without ``"format": "flowtape"`` is not a recording, a
newer version is refused with the version it needs. The header frame holds
the header line and nothing else; damage to it is always an error, since
nothing in the file can be read without it.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from ..errors import CorruptRecordingError, NotARecordingError, UnsupportedVersionError
from .codec import Codec, FrameError, TruncatedFrame
from .events import FORMAT_NAME, FORMAT_VERSION, Header
from .frames import BAD_JSON

__all__ = ["header_from_content", "header_from_frame", "parse_header", "parse_started_at"]

_any_decoder = msgspec.json.Decoder()


def header_from_frame(path: str, codec: Codec, frame: bytes) -> Header:
    """The header in the header frame's bytes (for plain files, the first line's)."""
    if codec.name == "none":
        return parse_header(path, frame.rstrip(b"\n"))
    try:
        data = codec.decompress(frame)
    except TruncatedFrame:
        raise CorruptRecordingError(path, "the header frame is cut short",
                                    frame=0, offset=0) from None
    except FrameError as exc:
        raise CorruptRecordingError(path, f"the header frame is damaged ({exc})",
                                    frame=0, offset=0) from None
    return header_from_content(path, data)


def header_from_content(path: str, data: bytes) -> Header:
    """The header in a decompressed header frame, which must hold that line alone."""
    line, _, rest = data.partition(b"\n")
    header = parse_header(path, line)
    if rest.strip():
        raise CorruptRecordingError(path, "the header frame holds more than the header",
                                    frame=0, offset=0)
    return header


def parse_header(path: str, line: bytes) -> Header:
    """The header line, ``format`` and ``version`` checked first.

    Raises `NotARecordingError`, `UnsupportedVersionError`, `CorruptRecordingError`.
    """
    try:
        raw = _any_decoder.decode(line)
    except BAD_JSON as exc:
        raise CorruptRecordingError(path, f"the header line is not JSON ({exc})",
                                    frame=0, offset=0) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT_NAME:
        raise NotARecordingError(path, f"its first line has no \"format\": \"{FORMAT_NAME}\"")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CorruptRecordingError(path, f"header has an invalid version {version!r}",
                                    frame=0, offset=0)
    if version > FORMAT_VERSION:
        raise UnsupportedVersionError(path, version, FORMAT_VERSION)
    try:
        return msgspec.convert(raw, Header)
    except msgspec.ValidationError as exc:
        raise CorruptRecordingError(path, f"the header is malformed ({exc})",
                                    frame=0, offset=0) from None


def parse_started_at(text: str) -> dt.datetime:
    """The header's RFC 3339 ``started_at`` as an aware datetime."""
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)

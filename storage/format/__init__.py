"""The format room: the only code that knows the bytes of a recording (docs/format.md).

What a line holds (`events`), how lines become frames (`codec`), writing
(`writer`), the header and footer lines (`header`, `footer`), walking a file
frame by frame (`scan`, `frames`, `framereader`), reading (`reader`),
checking a whole file (`integrity`), whether its writer still holds it
(`lock`), the stand-ins for values the recorder could not keep
(`placeholders`) and re-encoding a recording (`copy`).

It imports `storage.errors` and `storage._words` and nothing else of
flowtape: the stores and the analysis ask it for headers, footers, frames
and events, and never parse bytes themselves.
"""

from .codec import CODECS, suffix_for_codec
from .copy import copy_recording, file_checksum
from .events import (
    DEFAULT_KEYFRAME_EVERY,
    END_KINDS,
    EVENT_KINDS,
    FORMAT_NAME,
    FORMAT_VERSION,
    START_KINDS,
    Counts,
    Event,
    Footer,
    Header,
    RecordingEventType,
    SeekIndex,
)
from .placeholders import is_placeholder, is_repr, is_truncated
from .reader import LogReader, SkippedFrame
from .writer import DEFAULT_FLUSH_EVERY, DEFAULT_FLUSH_INTERVAL, LineTooLong, LogWriter

__all__ = [
    "CODECS",
    "DEFAULT_FLUSH_EVERY",
    "DEFAULT_FLUSH_INTERVAL",
    "DEFAULT_KEYFRAME_EVERY",
    "END_KINDS",
    "EVENT_KINDS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "START_KINDS",
    "Counts",
    "Event",
    "Footer",
    "Header",
    "LineTooLong",
    "LogReader",
    "LogWriter",
    "RecordingEventType",
    "SeekIndex",
    "SkippedFrame",
    "copy_recording",
    "file_checksum",
    "is_placeholder",
    "is_repr",
    "is_truncated",
    "suffix_for_codec",
]

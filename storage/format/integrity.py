"""Checking a recording file end to end: what `flowtape verify` reports.

Every frame is decoded (checksums included), ``seq`` must run 0, 1, 2, …
without gaps or repeats, the footer's counts and seek index must agree with
the events, and a finished file must end with a trailer that points at its
footer frame (docs/format.md §Trailer). Damage is collected, not raised, so
one report names every problem, and `IntegrityReport.verdict` is the one
word every caller (``flowtape verify``, a store's deep verify) reports.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable

import msgspec

from .._words import plural
from ..errors import CorruptRecordingError, RecordingNotFoundError
from .codec import codec_for_name
from .reader import LogReader, SkippedFrame

__all__ = ["IntegrityReport", "check_file", "frame_total", "trailer_present", "trailer_problem"]


class IntegrityReport(msgspec.Struct, kw_only=True):
    """What `check_file` found. ``problems`` empty means the file is intact."""

    path: str
    size: int = 0
    codec: str | None = None
    recording_id: str | None = None
    workflow: str | None = None
    status: str = "unreadable"
    """The footer's status, ``incomplete`` without one, ``unreadable`` without a header."""
    frames: int = 0
    events: int = 0
    footer: bool = False
    trailer: bool | None = None
    """Whether the trailer follows the footer; None for codecs without one (``none``)."""
    tail_garbage: int = 0
    skipped: list[SkippedFrame] = []
    problems: list[str] = []
    checks: list[str] = []
    """What was checked and found right, for the report."""

    incomplete: bool = False
    """No footer and no live writer: the run crashed or was killed (not damage by itself)."""

    @property
    def ok(self) -> bool:
        """True when nothing is wrong: intact, or still being written with no damage so far."""
        return not self.problems and not self.incomplete

    @property
    def verdict(self) -> str:
        """One word for the file, the same wherever it is checked.

        ``intact`` (finished, every check passed), ``running`` (the writer is
        alive; what is written so far is sound), ``incomplete`` (the writer died
        before the footer; what is there is sound), ``damaged`` (a problem was
        found), ``unreadable`` (not even a header).
        """
        if self.status == "unreadable":
            return "unreadable"
        if self.problems:
            return "damaged"
        if self.incomplete:
            return "incomplete"
        return "running" if self.status == "running" else "intact"


def trailer_problem(reader: LogReader) -> str | None:
    """What is wrong with the trailer of a file with a footer, or None when it is sound.

    Sound means: the file ends with a valid trailer (docs/format.md §Trailer)
    whose offsets add up to the file's size and point exactly at the footer
    frame. Codecs without a trailer (``none``) and files without a footer
    have nothing to check.
    """
    codec = codec_for_name(reader.codec)
    size, at = reader.size, reader.footer_offset
    if codec.trailer_size == 0 or reader.footer is None or at is None:
        return None
    footer_end = at + reader.footer_length
    loc = codec.parse_trailer(reader.tail(codec.trailer_size))
    if loc is None:
        after = size - footer_end
        return ("no valid trailer after the footer (readers have to scan the whole file to "
                "find it)" + (f"; {after} bytes follow the footer frame" if after else ""))
    off, length = loc
    if off + length > size or off + length + codec.trailer_size != size:
        return (f"the trailer points at bytes {off}..{off + length} of a {size}-byte file, "
                "past where the trailer starts (readers have to scan to find the footer)")
    if (off, length) != (at, reader.footer_length):
        return (f"the trailer points at byte offset {off} ({length} bytes), but the footer "
                f"frame is at byte offset {at} ({reader.footer_length} bytes)")
    return None


def trailer_present(reader: LogReader) -> bool | None:
    """True when a finished file's trailer is sound (see `trailer_problem`); None when its
    codec has none."""
    if codec_for_name(reader.codec).trailer_size == 0:
        return None
    return reader.footer is not None and trailer_problem(reader) is None


def frame_total(path: str) -> int:
    """How many event frames a check of ``path`` will decode (for a progress bar).

    Read from the footer's index when it is usable (nothing decoded), else by
    a recovering scan.
    """
    try:
        with LogReader.open(path) as reader:
            return reader.frame_count
    except CorruptRecordingError:
        with LogReader.open(path, recover=True) as reader:
            return reader.frame_count


def check_file(path: str, advance: Callable[[int], None] = lambda n: None) -> IntegrityReport:
    """Decode and cross-check every part of the recording at ``path``.

    Raises only for a file that cannot be opened at all (missing, a
    directory, a newer format version); damage lands in the report.
    """
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        raise RecordingNotFoundError(path, "check the path") from None
    report = IntegrityReport(path=path, size=size)
    try:
        reader = LogReader.open(path, recover=True)
    except CorruptRecordingError as exc:
        report.problems.append(str(exc))
        return report
    with reader:
        _check(reader, report, advance)
    return report


def _check(reader: LogReader, report: IntegrityReport,
           advance: Callable[[int], None]) -> None:
    h = reader.header
    report.codec = reader.codec
    report.recording_id = h.recording_id
    report.workflow = h.workflow
    report.status = reader.status
    report.checks.append(f"header: format {h.format} version {h.version}, workflow "
                         f"{h.workflow!r}, id {h.recording_id}")
    kinds: Counter[str] = Counter()
    keyframes: list[int] = []
    max_depth = 0
    expected = 0
    gaps: list[str] = []
    for i, span in enumerate(reader.frames):
        events = reader.read_frame(i)
        advance(1)
        if events and events[0].seq != span.first_seq:
            report.problems.append(f"frame {i + 1} at byte offset {span.offset} starts at seq "
                                   f"{events[0].seq}, but the index says {span.first_seq}")
        for e in events:
            if e.seq != expected:
                gaps.append(f"seq {expected}..{e.seq - 1} missing" if e.seq > expected
                            else f"seq {e.seq} out of order after {expected - 1}")
            expected = max(expected, e.seq + 1)
            kinds[e.kind] += 1
            max_depth = max(max_depth, e.depth)
            if e.kind == "state" and e.state is not None:
                keyframes.append(e.seq)
        report.events += len(events)
    report.frames = reader.frame_count
    report.skipped = list(reader.skipped)
    report.tail_garbage = reader.tail_garbage
    for s in reader.skipped:
        report.problems.append(f"frame {s.frame} at byte offset {s.offset} ({s.length} bytes) "
                               f"is damaged: {s.reason}")
    report.problems.extend(reader.notes)
    if gaps:
        shown = "; ".join(gaps[:5]) + (f"; and {len(gaps) - 5} more" if len(gaps) > 5 else "")
        report.problems.append(f"seq is not dense: {shown}")
    else:
        report.checks.append(f"{plural(report.frames, 'frame')} decoded, "
                             f"{plural(report.events, 'event')}, "
                             + (f"seq 0..{report.events - 1} dense" if report.events
                                else "no events"))
    footer = reader.footer
    report.footer = footer is not None
    if footer is None:
        if report.status == "running":
            report.checks.append("no footer yet: the writer is still running (what is "
                                 "written so far was checked)")
            return
        report.incomplete = True
        report.checks.append("no footer: the writer is gone — the run crashed or was "
                             "killed (status incomplete)"
                             + (f"; {reader.tail_garbage} bytes at the end do not form a "
                                "complete frame" if reader.tail_garbage else ""))
        return
    mismatches = []
    if footer.event_count != report.events:
        mismatches.append(f"event_count {footer.event_count} but {report.events} events read")
    c = footer.counts
    expect = {
        "nodes": kinds["node_start"], "teams": kinds["team_start"],
        "messages": kinds["team_message"], "states": kinds["state"],
        "errors": kinds["node_error"] + kinds["workflow_error"], "max_depth": max_depth,
    }
    for name, actual in expect.items():
        if getattr(c, name) != actual:
            mismatches.append(f"counts.{name} {getattr(c, name)} but the events give {actual}")
    if not reader.skipped and (reader.indexed or reader.codec != "none") and \
            len(footer.index.frames) != report.frames:
        mismatches.append(f"the seek index lists {len(footer.index.frames)} frames, "
                          f"the file holds {report.frames}")
    if not reader.skipped and sorted(footer.index.keyframes) != keyframes:
        mismatches.append(f"the seek index lists {len(footer.index.keyframes)} state "
                          f"keyframes, the events hold {len(keyframes)}")
    if mismatches:
        report.problems.append("footer disagrees with the events: " + "; ".join(mismatches))
    else:
        report.checks.append(f"footer: status {footer.status}, counts and seek index match "
                             "the events")
    problem = trailer_problem(reader)
    report.trailer = trailer_present(reader)
    if problem is not None:
        report.problems.append(problem)
    elif report.trailer:
        report.checks.append("trailer present and pointing at the footer: it is found "
                             "without a scan")

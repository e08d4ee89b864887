"""`Replayer`: open a recording lazily, move a cursor through it, ask about any event.

All cursor state lives here and changes through `Replayer._move`; the
interactive stepper only parses commands and prints (as bdb does for pdb).

Opening a finished recording reads the trailer, footer and header — not the
events; an event is decoded with its frame when first asked for, and a few
frames are cached, so stepping through a 1M-event run stays small.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Self, overload

import msgspec

from storage import (
    Event,
    EventView,
    Footer,
    Header,
    LogReader,
    RecordingNotFoundError,
    SkippedFrame,
    Span,
    StateTracker,
    Store,
    UnknownState,
    build_spans,
    iter_event_views,
    open_store,
)
from storage.analysis import iter_spans
from storage.analysis.paths import Part

from . import _queries
from ._queries import Stepping, ValueChange
from ._text import plural
from .errors import EventNotFoundError, StateUnknownError

__all__ = ["Replayer", "Summary"]


class Summary(msgspec.Struct, kw_only=True):
    """How a run ended, from its footer (or from what could be read, if it has none)."""

    status: str
    """``completed``, ``failed``, ``timed_out`` or ``cancelled`` from the footer; without
    one, ``running`` while the writer still holds the file, else ``incomplete``."""
    event_count: int
    duration_ns: int
    error: dict[str, Any] | None = None
    nodes: int = 0
    teams: int = 0
    messages: int = 0
    max_depth: int = 0
    errors: int = 0
    dropped: list[str] = []
    degraded: list[str] = []
    unreadable_tail_bytes: int = 0
    skipped_frames: int = 0
    """How many stretches of damage a recovering read stepped over (``skipped`` lists them)."""
    skipped: list[SkippedFrame] = []
    """Each with its frame, byte offset, length, reason and the seqs it took (where known)."""
    notes: list[str] = []
    """What the reader found wrong with the footer or its seek index, and worked around."""


class _Events(Sequence[Event]):
    """`Replayer.events`: a lazy sequence (decodes frames only when indexed)."""

    def __init__(self, replayer: Replayer) -> None:
        self._r = replayer

    def __len__(self) -> int:
        return len(self._r)

    @overload
    def __getitem__(self, i: int) -> Event: ...
    @overload
    def __getitem__(self, i: slice) -> list[Event]: ...
    def __getitem__(self, i: int | slice) -> Event | list[Event]:
        return self._r[i]

    def __iter__(self) -> Iterator[Event]:
        return self._r.iter_events()

    def __repr__(self) -> str:
        return f"<events of {self._r.path}: {len(self)}>"


class Replayer(Stepping):
    """A recording opened for reading, with a cursor.

    ::

        r = Replayer.open("latest")             # id, unique prefix, `latest`, or a path
        r.jump_to_event(120)
        r.current, r.get_state_at_event(120)
        for e in r.step_forward(5): ...
    """

    def __init__(self, reader: LogReader) -> None:
        self.reader = reader
        self.path = reader.path
        self._position = 0
        self._state = StateTracker(reader)
        self._spans_by_start: dict[int, Span] | None = None
        reader.settle()  # recovering: find what is readable now, so len and positions hold

    # --- opening ------------------------------------------------------------------
    @classmethod
    def open(cls, path_or_id: str | os.PathLike[str], store: str | Store | None = None, *,
             recover: bool = False) -> Replayer:
        """Open a file path, or an id / unique id prefix / ``latest`` in ``store``.

        An argument naming an existing file is opened as that file; anything
        else is looked up in the store (default ``$FLOWTAPE_STORE`` or
        ``./recordings``). Raises `RecordingNotFoundError`, `AmbiguousIdError`,
        `InvalidIdError`, `CorruptRecordingError`, `UnsupportedVersionError`.
        """
        text = os.fspath(path_or_id)
        if os.path.isfile(text):
            return cls(LogReader.open(text, recover=recover))
        if os.sep in text or text.endswith((".zst", ".gz", ".jsonl")):  # meant as a path
            if os.path.exists(text):  # a directory or a device: the reader says what it is
                return cls(LogReader.open(text, recover=recover))
            raise RecordingNotFoundError(
                text, "there is no such file, and it is not a recording id (ids contain only "
                "letters, digits, '_' and '-'); check the path, or see `flowtape list`")
        return cls(open_store(store).open(text, recover=recover))

    def close(self) -> None:
        """Release the file."""
        self.reader.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what the recording is ---------------------------------------------------------
    @property
    def header(self) -> Header:
        """The header line (workflow, id, start time, tags, config, …)."""
        return self.reader.header

    @property
    def footer(self) -> Footer | None:
        """The footer line, or None for an incomplete recording."""
        return self.reader.footer

    @property
    def has_state_events(self) -> bool:
        """True when the recording holds state events (else state folds node outputs)."""
        return self._state.has_state_events

    @property
    def recording_id(self) -> str:
        return self.reader.header.recording_id

    @property
    def summary(self) -> Summary:
        """Status, counts and duration; without a footer, ``running`` or ``incomplete``.

        ``event_count`` is what can be read (a footer that claims otherwise is
        noted in ``notes``); ``skipped`` lists damage a recovering read stepped over.
        """
        r = self.reader
        n = len(self)
        skipped = r.skipped
        s = Summary(status=r.status, event_count=n, duration_ns=0, skipped=skipped,
                    skipped_frames=len(skipped), notes=list(r.notes))
        f = r.footer
        if f is None:
            s.duration_ns = self[n - 1].ts if n else 0
            s.unreadable_tail_bytes = r.tail_garbage
            return s
        c = f.counts
        s.duration_ns, s.error, s.dropped, s.degraded = (f.duration_ns, f.error, list(f.dropped),
                                                         list(f.degraded))
        s.nodes, s.teams, s.messages, s.max_depth, s.errors = (c.nodes, c.teams, c.messages,
                                                               c.max_depth, c.errors)
        return s

    def __len__(self) -> int:
        return self.reader.event_count

    @overload
    def __getitem__(self, i: int) -> Event: ...
    @overload
    def __getitem__(self, i: slice) -> list[Event]: ...
    def __getitem__(self, i: int | slice) -> Event | list[Event]:
        """The event at position ``i`` (negative counts from the end); slices give lists."""
        n = len(self)
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(n))]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise EventNotFoundError(self.path, f"at position {i}", n)
        return self.reader.event_at(i)

    @property
    def events(self) -> _Events:
        """All events as a lazy sequence."""
        return _Events(self)

    def iter_events(self, start: int = 0) -> Iterator[Event]:
        """Events from position ``start`` on, decoding frame by frame."""
        if start >= len(self):
            return iter(())
        return self.reader.iter_events(self.reader.seq_at(max(0, start)))

    def get_event(self, seq: int) -> Event:
        """The event with this ``seq`` (its id); `EventNotFoundError` if there is none."""
        try:
            return self.reader.get(seq)
        except IndexError:
            raise EventNotFoundError(self.path, f"with seq {seq}", len(self)) from None

    def position_of(self, seq: int) -> int:
        """The position of the event with this seq; `EventNotFoundError` if there is none."""
        position = self.reader.position_of(seq)
        if position is None:
            raise EventNotFoundError(self.path, f"with seq {seq}", len(self))
        return position

    def get_node_events(self, node_id: str) -> list[Event]:
        """Every event about ``node_id`` (its starts, completes, errors, …), in order."""
        return [e for e in self.iter_events() if e.node == node_id]

    def spans(self) -> list[Span]:
        """One `Span` per workflow / node / team / member / recursion execution, in start order.

        Built afresh on each call from slim views of the events (payloads are not
        decoded), so the list is the caller's own; keep it if you need it twice.
        """
        return build_spans(self.event_views())

    def iter_spans(self) -> Iterator[Span]:
        """Each `Span` as its end event goes by, holding only the open ones: what `spans`
        gives, in end order, with memory that does not grow with the recording.

        A span never ended (a crash, a cut-off file) comes after the last event, in start
        order, ``running`` as `spans` shows it. ``children`` is left empty: each span's
        ``parent`` names its parent, so a caller that wants the tree builds it from those.
        """
        return iter_spans(self.event_views())

    def event_views(self) -> Iterator[EventView]:
        """Slim views of the readable events, in order: ``seq``, ``kind``, ``node``, the links
        and ``lane``, with the payload left undecoded (`storage.view_data` decodes one), so
        one pass over a big recording stays cheap (the exports, the viewer, spans)."""
        return iter_event_views(self.reader)

    def _span_index(self) -> dict[int, Span]:
        """The spans by start seq, built once (shared: the queries copy what they hand out)."""
        if self._spans_by_start is None:
            self._spans_by_start = {s.start_seq: s for s in self.spans()}
        return self._spans_by_start

    def _forget_spans(self) -> None:
        """The recording grew (`follow`): build the span index again when it is next asked."""
        self._spans_by_start = None

    # --- the cursor ------------------------------------------------------------------------
    @property
    def position(self) -> int:
        """Index of the event `step_forward` yields next (``len`` when at the end)."""
        return self._position

    @property
    def current(self) -> Event | None:
        """The event at the cursor, or None at the end."""
        return self[self._position] if self._position < len(self) else None

    def _move(self, position: int) -> None:
        self._position = max(0, min(position, len(self)))

    def step_forward(self, steps: int = 1) -> Iterator[Event]:
        """Yield up to ``steps`` events from the cursor on; the cursor ends after the last."""
        for _ in range(max(0, steps)):
            if self._position >= len(self):
                return
            event = self[self._position]
            self._move(self._position + 1)
            yield event

    def step_backward(self, steps: int = 1) -> Iterator[Event]:
        """Yield up to ``steps`` events before the cursor, newest first.

        The cursor ends on the last event yielded.
        """
        for _ in range(max(0, steps)):
            if self._position <= 0:
                return
            self._move(self._position - 1)
            yield self[self._position]

    def jump_to_position(self, n: int) -> bool:
        """Put the cursor at position ``n``; False (and no move) unless 0 <= n < len."""
        if 0 <= n < len(self):
            self._move(n)
            return True
        return False

    def jump_to_event(self, seq: int) -> Event:
        """Put the cursor on the event with this seq and return it.

        Raises `EventNotFoundError` (and does not move) when there is none.
        """
        return self._jump(seq)

    def _jump(self, seq: int) -> Event:
        self._move(self.position_of(seq))
        event = self.current
        assert event is not None
        return event

    def reset(self) -> None:
        """Back to the first event."""
        self._move(0)

    @contextmanager
    def replay_from_event(self, seq: int) -> Iterator[Replayer]:
        """Jump to ``seq`` for the ``with`` block; the cursor is restored afterwards."""
        saved = self._position
        self._jump(seq)
        try:
            yield self
        finally:
            self._move(saved)

    # --- searching ---------------------------------------------------------------------------
    def find(self, kind: str | Collection[str] | None = None, node: str | None = None,
             where: Callable[[Event], bool] | None = None) -> list[Event]:
        """Every event matching all given filters (``node`` may be a glob)."""
        match = _queries.matcher(kind, node, where)
        return [e for e in self.iter_events() if match(e)]

    def next_match(self, kind: str | Collection[str] | None = None, node: str | None = None,
                   where: Callable[[Event], bool] | None = None) -> Event | None:
        """Move the cursor to the next matching event after it; None (no move) if none."""
        match = _queries.matcher(kind, node, where)
        for i, e in enumerate(self.iter_events(self._position + 1), start=self._position + 1):
            if match(e):
                self._move(i)
                return e
        return None

    def prev_match(self, kind: str | Collection[str] | None = None, node: str | None = None,
                   where: Callable[[Event], bool] | None = None) -> Event | None:
        """Move the cursor to the nearest matching event before it; None (no move) if none."""
        match = _queries.matcher(kind, node, where)
        for i in range(min(self._position, len(self)) - 1, -1, -1):
            e = self[i]
            if match(e):
                self._move(i)
                return e
        return None

    # --- state ----------------------------------------------------------------------------------
    def get_state_at_event(self, seq: int) -> Any:
        """The exact state after event ``seq`` — the caller's own copy.

        Between state events, the state of the latest one before; before the
        first, None. Recordings without state events fold ``node_complete``
        outputs into ``{node: outputs}``.
        """
        self.position_of(seq)  # raises for an unknown seq
        return self._state.state_at(seq)

    def state_unknown(self, seq: int) -> UnknownState | None:
        """Why the state after event ``seq`` is not known, or None when it is.

        The state is unknown after a snapshot the recorder truncated (over
        ``max_payload_bytes``) until the next keyframe — `get_state_at_event`
        then returns the recorded ``{"$truncated": …}`` stand-in, which is not
        the state — and, in a recovering read, after damage took events that
        may have changed it. ``str()`` of the answer is a sentence to show::

            if (why := r.state_unknown(seq)) is not None:
                print(why)   # state unknown: the snapshot at seq 12 was truncated (…)
        """
        self.position_of(seq)  # raises for an unknown seq
        return self._state.unknown(seq)

    def state_delta(self, seq: int) -> list[dict[str, Any]]:
        """What event ``seq`` changed in the state, as RFC 6902 operations (the caller's own).

        A state event's patch (for a keyframe: the change from the state
        before it); in a recording without state events, what a
        ``node_complete`` changed in the folded outputs; ``[]`` for any other
        event. Raises `StateUnknownError` when the state before or after it is
        not known (see `state_unknown`): a change from or to an unknown state
        is not known either.
        """
        delta = self._state.delta(self.get_event(seq))
        if isinstance(delta, UnknownState):
            raise StateUnknownError(self.path, seq, delta)
        return delta

    # --- questions (the stepper, the viewer and the command line show the answers) ------------
    @property
    def changing_kinds(self) -> frozenset[str]:
        """The kinds of the events after which the state can differ: ``state``, or
        ``node_complete`` in a recording without state events (outputs are folded)."""
        return self._state.changing_kinds

    def value_at(self, path: str | Sequence[Part], seq: int | None) -> Any:
        """The value at a state ``path`` (``cart.items[0]`` or its parts) after event ``seq``
        (None: before the first event) — the caller's own copy; `MISSING` where the path
        leads nowhere, `Unknown` where the recording truncated it
        (`storage.analysis.paths`). ValueError for text that is not a path."""
        if seq is not None:
            self.position_of(seq)  # raises for an unknown seq
        return self._state.value_at(seq, _queries.state_path(path))

    def value_change(self, path: str | Sequence[Part], seq: int) -> ValueChange | None:
        """How event ``seq`` changed the value at a state ``path`` (a watch: before and
        after), or None when it left it alone."""
        return _queries.value_change(self, _queries.state_path(path), seq)

    def last_change(self, path: str | Sequence[Part], *, at: int) -> ValueChange | None:
        """The last event at or before event ``at`` that changed the value at a state
        ``path`` (``why``), with the value before and after it; None when nothing did."""
        return _queries.last_change(self, _queries.state_path(path), at)

    def open_spans_at(self, seq: int) -> list[Span]:
        """The spans open at event ``seq`` (``where``): the workflow first, the innermost
        last; a start or end event belongs to its own span. Copies, the caller's own."""
        return _queries.open_spans_at(self, seq)

    def follow(self, *, poll: float = _queries.POLL_SECONDS) -> Iterator[list[Event]]:
        """The events so far, then each batch appended by the process still writing the
        recording, until its footer arrives (``replay --follow``); polls every ``poll``
        seconds. Break out of the loop to stop following."""
        return _queries.follow(self, poll=poll)

    # --- comparing ------------------------------------------------------------------------------
    def compare(self, other: Replayer | str | os.PathLike[str]) -> dict[str, Any]:
        """Compare with another recording, in the earlier-published dict shape (SPEC §9):
        ``metadata_diff``, ``node_diff`` and ``path_diff`` (see `_compat.compare_dict`).
        It is built on the §6 diff (timing not compared); `replayer.diff` gives more.
        """
        from ._compat import compare_dict  # noqa: PLC0415 (the compat module builds on this one)

        return compare_dict(self, other)

    def __repr__(self) -> str:
        return (f"<Replayer {self.header.workflow!r} {self.recording_id} "
                f"{plural(len(self), 'event')} at {self._position}>")

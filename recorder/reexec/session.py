"""One re-execution's decisions: for each ``@node`` call, serve, override, run live, or diverge.

`Session.plan` looks at a call once, before anything of it is recorded:
it binds and masks the inputs the way the recorder does (so they compare with
the recorded ones byte for byte), finds the call's `Place` and attempt, asks
the `Matcher`, and then decides, in this order:

1. an ``overrides`` entry for the node (``"node"``) or for the matched
   execution (``"node#n"``): serve that value;
2. a node named in ``live`` (a glob), or an execution that encloses a fork
   point or a live node's recorded execution (it must run for the calls inside
   it to happen at all): run it live;
3. past the fork point — at or after ``live_from``; after an overridden call,
   a call the override changed — run it live (the consequences of the fork);
4. a hit: serve the recorded output or error, when it can be served;
5. anything else is a divergence: raise, or (``on_divergence="live"``) run
   live and note it.

What the recorder then writes for the call is `replaying.ReplayingRecorder`'s
job; what the recording holds is `tape`'s.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from .._context import FRAME, current_lane
from .._slowpath import encode_value
from ..errors import RecorderError, ReplayDivergenceError
from .divergence import Divergence, DivergenceKind, describe, input_changes, nearest
from .matcher import Match, Matcher, Place, same_inputs
from .serving import Converter, Unservable, converter_for, placeholder_path, rebuild_error
from .tape import Recorded, Tape

if TYPE_CHECKING:
    from .._node import NodeSite
    from .._recorder import RecorderCore

__all__ = ["Plan", "Session"]

Action = Literal["serve", "override", "live"]
_decode = msgspec.json.Decoder().decode


class _End(msgspec.Struct):
    """The parts of a recorded node end event that serving needs (left as JSON bytes)."""

    outputs: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    error: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    stream: bool = False
    closed: bool = False


_end_data = msgspec.json.Decoder(_End)
_raw_items = msgspec.json.Decoder(list[msgspec.Raw])


class Plan:
    """What to do with one call, and everything needed to write it."""

    __slots__ = ("action", "attempt", "closed", "depth", "divergence", "error", "error_raw",
                 "inputs", "items_raw", "masked", "node", "node_type", "outputs_raw",
                 "parent", "place", "recorded", "value")

    def __init__(self, node: str, node_type: str | None, *, masked: Any, inputs: bytes,
                 parent: int | None, depth: int, attempt: int, place: Place) -> None:
        self.node = node
        self.node_type = node_type
        self.masked = masked
        self.inputs = inputs
        self.parent = parent
        self.depth = depth
        self.attempt = attempt
        self.place = place
        self.action: Action = "live"
        self.recorded: Recorded | None = None
        #: Served or overriding value (for a stream: the list of items).
        self.value: Any = None
        self.error: BaseException | None = None
        self.error_raw: bytes | None = None
        self.outputs_raw: bytes | None = None
        self.items_raw: list[bytes] | None = None
        self.closed = False
        #: A divergence run live (``on_divergence="live"``): noted once its seq is known.
        self.divergence: Divergence | None = None


class Session:
    """The state of one re-execution: the tape, the options, the places, what happened."""

    def __init__(self, tape: Tape, *, live: Iterable[str], on_divergence: str,
                 match_inputs: bool, live_from: int | None,
                 overrides: Mapping[str, Any] | None) -> None:
        self.tape = tape
        self.matcher = Matcher(tape, match_inputs=match_inputs)
        self.live = tuple(live)
        self.on_divergence = on_divergence
        self.live_from = live_from
        self._live_cache: dict[str, bool] = {}  # node id -> matches a `live` glob
        self.override_all: dict[str, Any] = {}
        self.override_at: dict[int, Any] = {}
        self._parse_overrides(overrides or {})
        forks = [*self.override_at, *(r.seq for n in self.override_all
                                      for r in tape.by_node.get(n, ()))]
        if live_from is not None:
            forks.append(live_from)
        #: The earliest recorded event from which the new run may differ on purpose.
        self.fork_seq: int | None = min(forks) if forks else None
        #: Recorded executions that enclose a fork point: they run live to reach it.
        self.containing: set[int] = set()
        for seq in forks:
            self.containing.update(r.seq for r in tape.executions if r.contains(seq))
        for r in tape.nodes():  # a live node called inside a served one would never run
            if self.is_live(r.node):
                p = r.parent
                while p is not None and p.kind != "workflow":
                    self.containing.add(p.seq)
                    p = p.parent
        self.forked = False
        self.places: dict[int, Place] = {}
        self.root = Place(tape.root, None, [])
        self.divergences: list[Divergence] = []
        self.notes: list[str] = []
        self.sources: Counter[str] = Counter()
        #: Start seqs of the recorded executions whose call ran live.
        self.ran_live: set[int] = set()
        self._converters: dict[tuple[NodeSite, bool], Converter] = {}

    # --- options ---------------------------------------------------------------------------
    def _parse_overrides(self, overrides: Mapping[str, Any]) -> None:
        by_node = self.tape.by_node
        for key, value in overrides.items():
            name, _, number = str(key).rpartition("#")
            if not name or not number.isdigit():
                name, number = str(key), ""
            if name not in by_node:
                close = difflib.get_close_matches(name, list(by_node), n=3)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else \
                    f"; its nodes are {', '.join(sorted(by_node)[:12])}"
                raise RecorderError(f"overrides: recording {self.tape.recording_id} has no "
                                    f"node {name!r}{hint}")
            if not number:
                self.override_all[name] = value
                continue
            n = int(number)
            if not 1 <= n <= len(by_node[name]):
                raise RecorderError(
                    f"overrides: {key!r} asks for execution {n} of {name!r}, but recording "
                    f"{self.tape.recording_id} has {len(by_node[name])} (counted in seq "
                    "order from 1, as `flowtape replay` lists them)")
            self.override_at[by_node[name][n - 1].seq] = value

    def is_live(self, node: str) -> bool:
        got = self._live_cache.get(node)
        if got is None:
            got = self._live_cache[node] = any(fnmatch.fnmatchcase(node, g) for g in self.live)
        return got

    # --- places ------------------------------------------------------------------------------
    def place_of(self, rec: RecorderCore) -> tuple[int | None, int, Place]:
        """(parent seq, depth, place) for a call made now in ``rec``'s run."""
        frame = FRAME.get()
        if frame is not None and frame.rec is rec:
            parent, depth = frame.seq, frame.depth
        else:
            parent, depth = rec._root, 0
        return parent, depth, (self.places.get(parent, self.root) if parent is not None
                               else self.root)

    def open_place(self, seq: int, outer: Place, node: str, recorded: Recorded | None) -> None:
        """A span of the new run opened at ``seq`` (a live node, a team, a member…)."""
        self.places[seq] = Place(recorded, current_lane(), [*outer.path, node])

    def open_span(self, place: Place, seq: int, kind: str, node: str) -> None:
        """A team, member or recursion span opened at ``seq`` in ``place``: matched
        leniently (never a divergence: nothing is served for it)."""
        m = self.matcher.match(place, (kind, node, 1), None, lane=current_lane())
        if m.recorded is not None:
            self.matcher.take(m.recorded, seq)
        self.places.setdefault(seq, Place(m.recorded, current_lane(), [*place.path, node]))

    # --- the decision ------------------------------------------------------------------------
    def plan(self, rec: RecorderCore, site: NodeSite, args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> Plan:
        """Decide what the call does (see the module docstring); raises
        `ReplayDivergenceError` for a divergence under ``on_divergence="raise"``."""
        node = site.node_id
        masked = rec._payload(site.bind(args, kwargs), "inputs")
        raw = encode_value(masked)
        parent, depth, place = self.place_of(rec)
        attempt = 1
        if rec._failures:
            attempt += rec._failures.get((parent, node, raw), 0)
        plan = Plan(node, site.node_type, masked=masked, inputs=raw, parent=parent, depth=depth,
                    attempt=attempt, place=place)
        m = self.matcher.match(place, ("node", node, attempt), raw, lane=current_lane())
        r = plan.recorded = m.recorded
        if m.kind == "hit" and r is not None and r.inputs is not None and r.inputs != raw \
                and b'"$repr"' in raw and same_inputs(r.inputs, raw):
            # Equal but for the text of $repr stand-ins (an object's address): written as
            # recorded, so the diff does not call an object's new address a change.
            plan.masked = msgspec.Raw(r.inputs)
        if node in self.override_all or (r is not None and r.seq in self.override_at):
            plan.action = "override"
            plan.value = self.override_at[r.seq] if r is not None and r.seq in \
                self.override_at else self.override_all[node]
            self.forked = True
            return plan
        if self.is_live(node) or (r is not None and r.seq in self.containing) \
                or self._past_fork(m, r):
            plan.action = "live"
            return plan
        if m.kind == "hit":
            assert r is not None
            try:
                self._prepare(plan, site, r)
                plan.action = "serve"
                return plan
            except Unservable as exc:
                return self._diverge(rec, plan, m, "unservable", str(exc))
        return self._diverge(rec, plan, m, m.kind, "")  # type: ignore[arg-type]

    def _past_fork(self, m: Match, r: Recorded | None) -> bool:
        if self.fork_seq is None:
            return False
        if self.live_from is not None and r is not None and r.seq >= self.live_from:
            self.forked = True
            return True
        if r is not None:
            if m.kind == "hit" or r.seq <= self.fork_seq:
                return False
            return self.forked  # changed by what was forked before it
        return self.forked

    def _prepare(self, plan: Plan, site: NodeSite, r: Recorded) -> None:
        """Get the recorded answer ready to serve; raises `Unservable`."""
        if r.end_kind is None:
            raise Unservable("it never ended in the recording (the run stopped while it was "
                             "running)")
        end = _end_data.decode(r.end_data) if r.end_data else _End()
        stream = site.stream is not None
        if end.stream != stream and r.end_kind == "node_complete":
            raise Unservable("it was recorded as a " + ("stream" if end.stream else "value")
                             + ", and the function now " + ("yields a stream" if stream
                                                            else "returns a value"))
        if end.error is not msgspec.UNSET:
            plan.error_raw = bytes(end.error)
            error = _decode(plan.error_raw)
            plan.error = rebuild_error(error if isinstance(error, dict) else {},
                                       node=plan.node, seq=r.seq,
                                       recording_id=self.tape.recording_id)
        elif r.end_kind == "node_error":
            plan.error_raw = b"{}"
            plan.error = rebuild_error({}, node=plan.node, seq=r.seq,
                                       recording_id=self.tape.recording_id)
        if end.outputs is msgspec.UNSET:
            if plan.error is not None and not stream:
                return
            if plan.error is None:
                raise Unservable("the recording holds no outputs for it (recorded with "
                                 "record_outputs=False)")
            plan.items_raw, plan.value = [], []
            return
        raw = bytes(end.outputs)
        if b'"$repr"' in raw or b'"$truncated"' in raw:
            found = placeholder_path(_decode(raw))
            if found is not None:
                raise Unservable(f"{found[0]} is {found[1]}")
        convert = self._converter(site, stream)
        if stream:
            plan.items_raw = [bytes(i) for i in _raw_items.decode(raw)]
            plan.value = [convert(i) for i in plan.items_raw]
            plan.closed = end.closed
        else:
            plan.outputs_raw = raw
            plan.value = convert(raw)

    def _converter(self, site: NodeSite, stream: bool) -> Converter:
        got = self._converters.get((site, stream))
        if got is None:
            got = self._converters[(site, stream)] = converter_for(site.fn, stream=stream)
            if got.note:
                self.notes.append(got.note)
        return got

    # --- divergences --------------------------------------------------------------------------
    def _diverge(self, rec: RecorderCore, plan: Plan, m: Match, kind: DivergenceKind,
                 reason: str) -> Plan:
        r = m.recorded
        place = plan.place
        if kind == "unexpected_call" and m.expected is not None and r is not None:
            reason = (f"called out of order: the recording's next call here is "
                      f"`{m.expected.node}` (seq {m.expected.seq}); this one comes after it "
                      f"(seq {r.seq})")
        elif kind == "unexpected_call" and place.recorded is None:
            reason = (f"`{place.path[-1]}` is not in the recording (it ran live), so no call "
                      "inside it can be served")
        d = Divergence(
            kind=kind, seq=rec._seq, recorded_seq=r.seq if r is not None else None,
            node=plan.node, path=list(place.path), occurrence=m.occurrence,
            attempt=plan.attempt, recorded_count=m.available if kind == "exhausted" else 0,
            input_changes=input_changes(r.inputs, plan.inputs)
            if kind == "inputs_changed" and r is not None else [],
            candidates=nearest(place.recorded, plan.node, attempt=plan.attempt,
                               occurrence=m.occurrence, inputs=plan.inputs,
                               same_node=self.tape.by_node.get(plan.node, []),
                               expected=m.expected),
            reason=reason, action="raised" if self.on_divergence == "raise" else "live")
        if self.on_divergence == "raise":
            d = self.note(d)
            raise ReplayDivergenceError(d)
        plan.action = "live"
        plan.divergence = d
        if kind in ("unexpected_call", "exhausted"):
            plan.recorded = None  # (an input change keeps its recorded subtree for the calls
            # inside it; an out-of-order call leaves the recorded one for the call it belongs to)
        return plan

    def note(self, d: Divergence, seq: int | None = None) -> Divergence:
        """Keep ``d`` for the report (with its seq in the new run, once known)."""
        if seq is not None:
            d = msgspec.structs.replace(d, seq=seq)
        d = msgspec.structs.replace(d, message=describe(d, self.tape.recording_id,
                                                        self.tape.header.workflow))
        self.divergences.append(d)
        return d

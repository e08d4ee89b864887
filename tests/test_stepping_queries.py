"""Where the debugger's moves land, answered by the Replayer without a terminal (SPEC §8).

The recording (`stepper_recordings.record_debugger`, 45 events; position = seq)::

     0 workflow_start debug
     1   state x=0                   6, 11, 16: state x=10, 20, 30 (after each page)
     2   node_start fetch  3 node_complete fetch  4 node_start tidy  5 node_complete tidy
     7-10, 12-15: pages 1 and 2, the same           (the loop: fetch, tidy, state; three times)
    17   node_start outer
    18     node_start middle
    19       node_start inner  20 node_complete inner
    21     node_complete middle
    22   node_complete outer
    23   node_start flaky  24 node_error flaky  25 node_start flaky (attempt 2)  26 complete
    27   team_start panel                            lanes alice, bob, carol:
    28-30  team_member_start alice, bob, carol
    31-32    research (alice)  33-34 research (bob)  35-36 research (carol)
    37-39  team_member_complete alice, bob, carol
    40   team_complete panel
    41   state x=40
    42   node_start publish  43 node_error publish
    44 workflow_complete debug
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from stepper_recordings import record_debugger

from replayer import Replayer

#: Each span's start and end seq.
SPANS = {0: 44, 2: 3, 4: 5, 7: 8, 9: 10, 12: 13, 14: 15, 17: 22, 18: 21, 19: 20, 23: 24,
         25: 26, 27: 40, 28: 37, 29: 38, 30: 39, 31: 32, 33: 34, 35: 36, 42: 43}


@pytest.fixture(scope="module")
def r(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replayer]:
    store: Path = tmp_path_factory.mktemp("debugger")
    with Replayer.open(record_debugger(store)) as replayer:
        assert [e.seq for e in replayer.iter_events()] == list(range(45))  # position = seq
        yield replayer


def test_the_recording_is_what_the_tests_assume(r: Replayer) -> None:
    """The spans, the retry's attempt and the lanes of the team's members."""
    assert {s.start_seq: s.end_seq for s in r.spans()} == SPANS
    assert r[25].attempt == 2 and r[25].node == "flaky"
    assert [r[i].lane for i in (28, 29, 30, 31, 33, 35)] == \
        ["alice", "bob", "carol", "alice", "bob", "carol"]


def test_frames_and_depth(r: Replayer) -> None:
    """The frames are the open spans, root first; a start or end belongs to its own span."""
    assert r.frames_at(0) == [0] and r.frames_at(44) == [0] and r.frames_at(1) == [0]
    assert r.frames_at(19) == r.frames_at(20) == [0, 17, 18, 19]  # nesting 3 deep
    assert r.frames_at(34) == [0, 27, 29, 33]
    assert [r.depth_of(r[i]) for i in (0, 1, 17, 19, 20, 34, 44)] == [0, 1, 1, 3, 3, 3, 0]


def test_span_end(r: Replayer) -> None:
    """The end of each span; an event that starts none has no end."""
    assert {start: r.span_end(start) for start in SPANS} == SPANS
    assert r.span_end(1) is None


def test_next_on_a_start_lands_on_its_end_and_reverse_next_comes_back(r: Replayer) -> None:
    """n on every start event lands on its end; rn from there returns to the same seq."""
    for start, end in SPANS.items():
        assert r.next_target(start) == end
        assert r.next_target(end, forward=False) == start


def test_next_stays_in_the_frame(r: Replayer) -> None:
    """n from an event inside a frame goes to the next event of that frame or an outer one,
    skipping other lanes' members; rn mirrors it."""
    assert r.next_target(1) == 2            # a child's start is an event of this frame
    assert r.next_target(20) == 21          # inner's end: the next of middle's frame
    assert r.next_target(32) == 37          # alice's research end: skips bob's and carol's
    assert r.next_target(37, forward=False) == 28  # from an end: back over the span
    assert r.next_target(28) == 37
    assert r.next_target(44) is None        # nothing after the workflow's end
    assert r.next_target(1, forward=False) == 0


def test_return_lands_on_the_innermost_end_and_reverse_return_on_its_start(r: Replayer) -> None:
    """r inside a node lands on that node's end, then the enclosing one's; rr mirrors it."""
    assert r.return_target(19) == 20        # on inner's start: inner ends at 20
    assert r.return_target(20) == 21        # on its end: middle's end
    assert r.return_target(20, forward=False) == 19
    assert r.return_target(21, forward=False) == 18
    assert r.return_target(1) == 44
    assert r.return_target(44) is None and r.return_target(0, forward=False) is None
    for start, end in SPANS.items():        # forward then backward: the same seq
        assert r.return_target(start) == end and r.return_target(end, forward=False) == start


def test_return_in_a_lane_skips_ends_of_other_lanes(r: Replayer) -> None:
    """Following alice, r from her member's last event goes to her member's end; past it,
    only MainThread's spans are open, so nothing ends in her lane."""
    assert r.return_target(32, lane="alice") == 37
    assert r.return_target(37, lane="alice") is None


def test_until_leaves_the_loop(r: Replayer) -> None:
    """unt from anywhere in the fetch/tidy loop lands on the first event after its last run;
    with a seq, the first event past it."""
    for inside in (2, 3, 4, 7, 10, 12):
        assert r.until_target(inside) == 16
    assert r.until_target(17) == 23         # not a loop: past outer, like n then s
    assert r.until_target(23) == 27         # out of the retry too
    assert r.until_target(2, 30) == 31
    assert r.until_target(28, 29, lane="alice") == 31
    assert r.until_target(44) is None


def test_step_in_a_lane_and_back(r: Replayer) -> None:
    """s skips other lanes' events; rs mirrors it; a count past the end stops at the last."""
    assert r.step_target(28, lane="alice") == 31
    assert r.step_target(31, forward=False, lane="alice") == 28
    assert r.step_target(28) == 29
    assert r.step_target(31, 10, lane="alice") == 37  # only 32 and 37 are left
    assert r.step_target(44) is None and r.step_target(0, forward=False) is None
    for p in range(44):
        q = r.step_target(p)
        assert q is not None and r.step_target(q, forward=False) == p


def test_search_smart_case_and_wrapping(r: Replayer) -> None:
    """/ and ?: node, kind or data; lower case matches either case; wraps with a flag."""
    found = r.search(0, "publish")
    assert found is not None and (found.position, found.wrapped) == (42, False)
    found = r.search(43, "fetch")
    assert found is not None and (found.position, found.wrapped) == (2, True)
    found = r.search(0, "runtimeerror")  # in the error's data; case-blind
    assert found is not None and found.position == 43
    assert r.search(0, "RUNTIMEERROR") is None  # a capital: case matters
    found = r.search(10, "tidy", forward=False)
    assert found is not None and (found.position, found.wrapped) == (9, False)
    found = r.search(2, "tidy", forward=False)
    assert found is not None and (found.position, found.wrapped) == (15, True)
    found = r.search(0, "research", lane="carol")
    assert found is not None and found.position == 35


def test_last_state_event_and_catalog(r: Replayer) -> None:
    """delta's state event at or before a seq; the lanes, nodes and kinds by name."""
    assert r.last_state_event(0) is None
    assert [getattr(r.last_state_event(s), "seq", None) for s in (1, 5, 15, 44)] == \
        [1, 1, 11, 41]
    catalog = r.catalog()
    assert catalog.lanes == ["MainThread", "alice", "bob", "carol"]
    assert catalog.nodes == ["alice", "bob", "carol", "debug", "fetch", "flaky", "inner",
                             "middle", "outer", "panel", "publish", "research", "tidy"]
    assert "team_member_start" in catalog.kinds and "node_error" in catalog.kinds

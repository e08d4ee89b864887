"""Debugger transcripts (SPEC §8) on a run with a loop, nesting 3 deep, a retry, a team of
three concurrent members and a failure: commands piped in, the exact screen out.

The recording is `stepper_recordings.record_debugger` (its events are listed in
tests/test_stepping_queries.py); the screen is rendered wide, times normalised, and each
line cut at 90 characters (`stepper_recordings.screen`). It has four lanes, so every event
line carries the lane column.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console
from stepper_recordings import expect, outer, record_debugger, screen

from recorder import record_workflow
from replayer import Replayer, Stepper


@pytest.fixture
def debug(store: Path) -> Iterator[Replayer]:
    with Replayer.open(record_debugger(store)) as r:
        yield r


def test_next_return_until_and_their_reverses(debug: Replayer) -> None:
    """n steps over a span from its start, r out to the innermost end, unt out of the loop (and
    the retry); rn, rr and rs mirror them exactly: forward then backward is the same seq."""
    assert screen(debug, cut=90, commands=[
        "j 2",      # fetch's start, in the loop
        "n",        # over fetch: its end
        "rn",       # back over it: the same start
        "unt",      # out of the fetch/tidy loop
        "j 19",     # inner's start, nesting 3 deep
        "r",        # to inner's end
        "rr",       # back to its start
        "r",
        "",         # again: middle's end
        "rr",       # back to middle's start
        "s 3",      # into spans: three events
        "rs 3",     # and back
        "j 23",     # flaky, attempt 1
        "unt",      # out of the retry
        "j 17",
        "n",        # over outer and all inside it
        "rn",
        "j 44",
        "n",        # nothing after the workflow's end
        "r",
        "s",
        "j 0",
        "rr",
        "rs",
        "rn",
        "unt 40",   # the first event past seq 40
        "unt 3",    # backwards is refused
        "unt x",
    ]) == expect("""
        debug <ID> · 45 events · completed · h for help, q to quit
        >    0 +T  MainThread  workflow_start debug
        (flowtape) j 2
        >    2 +T  MainThread  node_start fetch  inputs={"page":0}
        (flowtape) n
        >    3 +T  MainThread  node_complete fetch  (start 2)  D  outputs={"page":0,"rows":0}
        (flowtape) rn
        >    2 +T  MainThread  node_start fetch  inputs={"page":0}
        (flowtape) unt
        >   16 +T  MainThread  state  keyframe {"pages":3,"x":30}
        (flowtape) j 19
        >   19 +T  MainThread  node_start inner  inputs={"n":2}
        (flowtape) r
        >   20 +T  MainThread  node_complete inner  (start 19)  D  outputs={"y":14}
        (flowtape) rr
        >   19 +T  MainThread  node_start inner  inputs={"n":2}
        (flowtape) r
        >   20 +T  MainThread  node_complete inner  (start 19)  D  outputs={"y":14}
        (flowtape)
        >   21 +T  MainThread  node_complete middle  (start 18)  D  outputs={"y":14}
        (flowtape) rr
        >   18 +T  MainThread  node_start middle  inputs={"n":2}
        (flowtape) s 3
        >   21 +T  MainThread  node_complete middle  (start 18)  D  outputs={"y":14}
        (flowtape) rs 3
        >   18 +T  MainThread  node_start middle  inputs={"n":2}
        (flowtape) j 23
        >   23 +T  MainThread  node_start flaky  inputs={"key":"citations"}
        (flowtape) unt
        >   27 +T  MainThread  team_start panel  {"formation":"parallel","member_count":3,"members
        (flowtape) j 17
        >   17 +T  MainThread  node_start outer  inputs={"n":2}
        (flowtape) n
        >   22 +T  MainThread  node_complete outer  (start 17)  D  outputs={"y":14}
        (flowtape) rn
        >   17 +T  MainThread  node_start outer  inputs={"n":2}
        (flowtape) j 44
        >   44 +T  MainThread  workflow_complete debug  (start 0)  D
        (flowtape) n
        *** no later event in this frame (seq 44)
        (flowtape) r
        *** no open span ends after seq 44
        (flowtape) s
        *** already at the last event (seq 44)
        (flowtape) j 0
        >    0 +T  MainThread  workflow_start debug
        (flowtape) rr
        *** no open span starts before seq 0
        (flowtape) rs
        *** already at the first event (seq 0)
        (flowtape) rn
        *** no earlier event in this frame (seq 0)
        (flowtape) unt 40
        >   41 +T  MainThread  state  keyframe {"pages":3,"scores":{"alice":0.9,"bob":0.4,"carol":
        (flowtape) unt 3
        *** unt goes forward: SEQ must be at or after the cursor (seq 41)
        *** usage: unt(il) [SEQ]
        (flowtape) unt x
        *** 'x' is not an event seq
        *** usage: unt(il) [SEQ]
        """)


def test_conditional_breakpoints_tbreak_disable_enable(debug: Replayer) -> None:
    """c/rc stop only where a breakpoint's condition holds; tbreak fires once; disable silences;
    a condition that raises is false and the table shows its last error."""
    assert screen(debug, cut=90, commands=[
        'b research, data["outputs"]["score"] < 0.5',   # only bob's score is low
        "b flaky, attempt > 1",                         # the retry only
        "tbreak node_error",                            # once
        "b",                                            # the table
        "c",                                            # the temporary breakpoint: deleted
        "c",                                            # flaky's second attempt
        "c",                                            # its end
        "c",                                            # bob's research: 0.4
        "c",                                            # nothing else holds: the last event
        "rc",
        "b",                                            # hits; the starts of research raised
        "disable 1",
        "rc",                                           # research is silent now
        "enable 1",
        'condition 2 kind == "node_complete"',
        "j 0",
        "c",
        "condition 2",                                  # unconditional
        "rc",
        "cl 1 2",
        "b",
        "disable 7",
        "condition",
        "b flaky, attempt >",
        "tbreak",
    ]) == expect("""
        debug <ID> · 45 events · completed · h for help, q to quit
        >    0 +T  MainThread  workflow_start debug
        (flowtape) b research, data["outputs"]["score"] < 0.5
        Breakpoint 1 at node research, if data["outputs"]["score"] < 0.5
        (flowtape) b flaky, attempt > 1
        Breakpoint 2 at node flaky, if attempt > 1
        (flowtape) tbreak node_error
        Temporary breakpoint 3 at kind node_error
        (flowtape) b
        Num  Type       Enb  Hits  Where / condition
        1    node       yes  0     research
                                   if data["outputs"]["score"] < 0.5
        2    node       yes  0     flaky
                                   if attempt > 1
        3    temp kind  yes  0     node_error
        (flowtape) c
        breakpoint 3 (node_error) at seq 24
        Deleted temporary breakpoint 3.
        >   24 +T  MainThread  node_error flaky  (start 23)  D  TimeoutError: slow service
        (flowtape) c
        breakpoint 2 (flaky) at seq 25
        >   25 +T  MainThread  node_start flaky  attempt 2  inputs={"key":"citations"}
        (flowtape) c
        breakpoint 2 (flaky) at seq 26
        >   26 +T  MainThread  node_complete flaky  attempt 2  (start 25)  D  outputs=ok
        (flowtape) c
        breakpoint 1 (research) at seq 34
        >   34 +T  bob         node_complete research  (start 33)  D  outputs={"score":0.4}
        (flowtape) c
        No breakpoint or display change after seq 34; at the last event.
        >   44 +T  MainThread  workflow_complete debug  (start 0)  D
        (flowtape) rc
        breakpoint 1 (research) at seq 34
        >   34 +T  bob         node_complete research  (start 33)  D  outputs={"score":0.4}
        (flowtape) b
        Num  Type       Enb  Hits  Where / condition
        1    node       yes  2     research
                                   if data["outputs"]["score"] < 0.5
                                   last error: KeyError: 'outputs'
        2    node       yes  2     flaky
                                   if attempt > 1
        (flowtape) disable 1
        Disabled breakpoint 1 at research
        (flowtape) rc
        breakpoint 2 (flaky) at seq 26
        >   26 +T  MainThread  node_complete flaky  attempt 2  (start 25)  D  outputs=ok
        (flowtape) enable 1
        Enabled breakpoint 1 at research
        (flowtape) condition 2 kind == "node_complete"
        New condition for breakpoint 2: kind == "node_complete"
        (flowtape) j 0
        >    0 +T  MainThread  workflow_start debug
        (flowtape) c
        breakpoint 2 (flaky) at seq 26
        >   26 +T  MainThread  node_complete flaky  attempt 2  (start 25)  D  outputs=ok
        (flowtape) condition 2
        Breakpoint 2 is now unconditional.
        (flowtape) rc
        breakpoint 2 (flaky) at seq 25
        >   25 +T  MainThread  node_start flaky  attempt 2  inputs={"key":"citations"}
        (flowtape) cl 1 2
        Deleted breakpoint 1 at research
        Deleted breakpoint 2 at flaky
        (flowtape) b
        No breakpoints.
        (flowtape) disable 7
        *** no breakpoint 7; b lists them
        (flowtape) condition
        *** condition needs breakpoint numbers
        *** usage: condition N [CONDITION]
        (flowtape) b flaky, attempt >
        *** 'attempt >' is not a Python expression (invalid syntax)
        *** usage: b(reak) [NODE|KIND] [, CONDITION]
        (flowtape) tbreak
        *** tbreak needs a node name or event kind
        *** usage: tbreak NODE|KIND [, CONDITION]
        """)


def test_display_stops_continue_where_the_value_changes(debug: Replayer) -> None:
    """display shows a state value after every move; c and rc stop where it changes."""
    assert screen(debug, cut=90, commands=[
        "display x",
        "c",
        "c",
        "j 17",            # outer does not touch the state
        "c",               # x changes at seq 41
        "rc",
        "display pages",
        "display",         # both
        "undisplay x",
        "s",
        "undisplay",       # all
    ]) == expect("""
        debug <ID> · 45 events · completed · h for help, q to quit
        >    0 +T  MainThread  workflow_start debug
        (flowtape) display x
        display x = (not set)
        (flowtape) c
        display x changed at seq 1
        >    1 +T  MainThread  state  keyframe {"pages":0,"x":0}
          display x = 0  (was (not set))
        (flowtape) c
        display x changed at seq 6
        >    6 +T  MainThread  state  keyframe {"pages":1,"x":10}
          display x = 10  (was 0)
        (flowtape) j 17
        >   17 +T  MainThread  node_start outer  inputs={"n":2}
          display x = 30  (was 10)
        (flowtape) c
        display x changed at seq 41
        >   41 +T  MainThread  state  keyframe {"pages":3,"scores":{"alice":0.9,"bob":0.4,"carol":
          display x = 40  (was 30)
        (flowtape) rc
        display x changed at seq 16
        >   16 +T  MainThread  state  keyframe {"pages":3,"x":30}
          display x = 30  (was 40)
        (flowtape) display pages
        display pages = 3
        (flowtape) display
        display x = 30
        display pages = 3
        (flowtape) undisplay x
        Stopped displaying x
        (flowtape) s
        >   17 +T  MainThread  node_start outer  inputs={"n":2}
          display pages = 3
        (flowtape) undisplay
        Removed 1 display.
        """)


def test_frames_args_retval_and_p(debug: Replayer) -> None:
    """u/d select a frame; a and retval read its inputs and output; p reads the state, the
    event's data and the selected frame's inputs and outputs; pp pretty-prints."""
    assert screen(debug, cut=90, commands=[
        "j 20",               # inner's end
        "w",
        "a",
        "rv",
        "u",                  # middle
        "a",
        "retval",             # middle has not ended at seq 20
        "u 2",                # up to the workflow
        "w",
        "u",
        "d 9",                # down to the innermost
        "d",
        "p state.x",          # the state after seq 20
        "p x",                # a bare path is a state path
        "p data.outputs.y",   # the event's payload
        "p outputs.y",        # the selected frame's output
        "pp inputs",
        "p inputs.n",
        "p data.nope",
        "p state.nope",
        "p",
        "p data..x",
        "j 24",               # flaky's first attempt failed
        "rv",
        "j 34",               # bob's research, in a team
        "w",
        "u",
        "a",                  # a member's start
        "rv",
    ]) == expect("""
        debug <ID> · 45 events · completed · h for help, q to quit
        >    0 +T  MainThread  workflow_start debug
        (flowtape) j 20
        >   20 +T  MainThread  node_complete inner  (start 19)  D  outputs={"y":14}
        (flowtape) w
          workflow debug  (seq 0, lane MainThread)
            node outer  (seq 17, lane MainThread)
              node middle  (seq 18, lane MainThread)
        >       node inner  (seq 19, lane MainThread, ends here)
        (flowtape) a
        n = 2
        (flowtape) rv
        node inner ended at seq 20:
        outputs = {"y": 14}
        (flowtape) u
        >     node middle  (seq 18, lane MainThread)
        (flowtape) a
        n = 2
        (flowtape) retval
        node middle (seq 18) has not ended at seq 20 (it ends at seq 21).
        (flowtape) u 2
        > workflow debug  (seq 0, lane MainThread)
        (flowtape) w
        > workflow debug  (seq 0, lane MainThread)
            node outer  (seq 17, lane MainThread)
              node middle  (seq 18, lane MainThread)
                node inner  (seq 19, lane MainThread, ends here)
        (flowtape) u
        *** already at the outermost frame
        (flowtape) d 9
        >       node inner  (seq 19, lane MainThread, ends here)
        (flowtape) d
        *** already at the innermost frame
        (flowtape) p state.x
        state.x = 30
        (flowtape) p x
        state.x = 30
        (flowtape) p data.outputs.y
        data.outputs.y = 14
        (flowtape) p outputs.y
        outputs.y = 14
        (flowtape) pp inputs
        inputs =
        {
          "n": 2
        }
        (flowtape) p inputs.n
        inputs.n = 2
        (flowtape) p data.nope
        *** no data.nope here (seq 20)
        (flowtape) p state.nope
        *** no state.nope here (seq 20)
        (flowtape) p
        *** p needs a path: state.…, data.…, inputs.… or outputs.…
        *** usage: p PATH
        (flowtape) p data..x
        *** 'data..x' is not a path (write it like data.items[0])
        *** usage: p PATH
        (flowtape) j 24
        >   24 +T  MainThread  node_error flaky  (start 23)  D  TimeoutError: slow service
        (flowtape) rv
        node flaky ended at seq 24 with an error:
        TimeoutError: slow service
        (flowtape) j 34
        >   34 +T  bob         node_complete research  (start 33)  D  outputs={"score":0.4}
        (flowtape) w
          workflow debug  (seq 0, lane MainThread)
            team panel  (seq 27, lane MainThread)
              member bob  (seq 29, lane bob)
        >       node research  (seq 33, lane bob, ends here)
        (flowtape) u
        >     member bob  (seq 29, lane bob)
        (flowtape) a
        team = "panel"
        (flowtape) rv
        member bob (seq 29) has not ended at seq 34 (it ends at seq 38).
        """)


def test_lane_follows_one_member(debug: Replayer) -> None:
    """lane NAME makes every move skip the other lanes' events; - follows all again."""
    assert screen(debug, cut=90, commands=[
        "lane",
        "lane alice",
        "j 27",
        "s",            # alice's member start
        "s",            # her research, past bob's and carol's member starts
        "s",
        "s",            # her member's end
        "s",            # no more of her events
        "rs",
        "n",
        "c",            # already at the last of her events
        "/research",    # only hers
        "lane -",
        "s",
        "lane zed",
    ]) == expect("""
        debug <ID> · 45 events · completed · h for help, q to quit
        >    0 +T  MainThread  workflow_start debug
        (flowtape) lane
        Lanes: MainThread, alice, bob, carol; following all lanes.
        (flowtape) lane alice
        Following lane alice: moves skip the events of other lanes.
        (flowtape) j 27
        >   27 +T  MainThread  team_start panel  {"formation":"parallel","member_count":3,"members
        (flowtape) s
        >   28 +T  alice       team_member_start alice  {"team":"panel"}
        (flowtape) s
        >   31 +T  alice       node_start research  inputs={"who":"alice"}
        (flowtape) s
        >   32 +T  alice       node_complete research  (start 31)  D  outputs={"score":0.9}
        (flowtape) s
        >   37 +T  alice       team_member_complete alice  (start 28)  D
        (flowtape) s
        *** already at the last event in lane alice (seq 37)
        (flowtape) rs
        >   32 +T  alice       node_complete research  (start 31)  D  outputs={"score":0.9}
        (flowtape) n
        >   37 +T  alice       team_member_complete alice  (start 28)  D
        (flowtape) c
        *** already at the last event in lane alice (seq 37)
        (flowtape) /research
        (search wrapped around to the start)
        >   31 +T  alice       node_start research  inputs={"who":"alice"}
        (flowtape) lane -
        Following all lanes.
        (flowtape) s
        >   32 +T  alice       node_complete research  (start 31)  D  outputs={"score":0.9}
        (flowtape) lane zed
        *** no lane 'zed'; the lanes are MainThread, alice, bob, carol
        *** usage: lane [NAME|-]
        """)


def test_search_and_list(debug: Replayer) -> None:
    """/ and ? find text in node, kind or data (smart case, wrapping); l pages on; ll lists
    the innermost span."""
    assert screen(debug, cut=90, commands=[
        "/tidy",
        "",                # again
        "?fetch",
        "/RuntimeError",
        "/runtimeerror",   # either case
        "/TIDY",           # a capital: case matters
        "/publish",
        "/",               # the last search again
        "?",               # backwards
        "j 19",
        "ll",              # inner
        "u",
        "j 20",
        "l",
        "l",               # pages on
        "",
    ]) == expect("""
        debug <ID> · 45 events · completed · h for help, q to quit
        >    0 +T  MainThread  workflow_start debug
        (flowtape) /tidy
        >    4 +T  MainThread  node_start tidy  inputs={"page":0}
        (flowtape)
        >    5 +T  MainThread  node_complete tidy  (start 4)  D  outputs=0
        (flowtape) ?fetch
        >    3 +T  MainThread  node_complete fetch  (start 2)  D  outputs={"page":0,"rows":0}
        (flowtape) /RuntimeError
        >   43 +T  MainThread  node_error publish  (start 42)  D  RuntimeError: score 0.4 is too l
        (flowtape) /runtimeerror
        (search wrapped around to the start)
        >   43 +T  MainThread  node_error publish  (start 42)  D  RuntimeError: score 0.4 is too l
        (flowtape) /TIDY
        *** no event contains 'TIDY'
        (flowtape) /publish
        (search wrapped around to the start)
        >   42 +T  MainThread  node_start publish  inputs={"score":0.4}
        (flowtape) /
        >   43 +T  MainThread  node_error publish  (start 42)  D  RuntimeError: score 0.4 is too l
        (flowtape) ?
        >   42 +T  MainThread  node_start publish  inputs={"score":0.4}
        (flowtape) j 19
        >   19 +T  MainThread  node_start inner  inputs={"n":2}
        (flowtape) ll
        ->  19 +T  MainThread        node_start inner  inputs={"n":2}
            20 +T  MainThread        node_complete inner  (start 19)  D  outputs={"y":14}
        (flowtape) u
        >     node middle  (seq 18, lane MainThread)
        (flowtape) j 20
        >   20 +T  MainThread  node_complete inner  (start 19)  D  outputs={"y":14}
        (flowtape) l
            15 +T  MainThread    node_complete tidy  (start 14)  D  outputs=2
            16 +T  MainThread    state  keyframe {"pages":3,"x":30}
            17 +T  MainThread    node_start outer  inputs={"n":2}
            18 +T  MainThread      node_start middle  inputs={"n":2}
            19 +T  MainThread        node_start inner  inputs={"n":2}
        ->  20 +T  MainThread        node_complete inner  (start 19)  D  outputs={"y":14}
            21 +T  MainThread      node_complete middle  (start 18)  D  outputs={"y":14}
            22 +T  MainThread    node_complete outer  (start 17)  D  outputs={"y":14}
            23 +T  MainThread    node_start flaky  inputs={"key":"citations"}
            24 +T  MainThread    node_error flaky  (start 23)  D  TimeoutError: slow service
            25 +T  MainThread    node_start flaky  attempt 2  inputs={"key":"citations"}
        (flowtape) l
            26 +T  MainThread    node_complete flaky  attempt 2  (start 25)  D  outputs=ok
            27 +T  MainThread    team_start panel  {"formation":"parallel","member_count":3,"membe
            28 +T  alice           team_member_start alice  {"team":"panel"}
            29 +T  bob             team_member_start bob  {"team":"panel"}
            30 +T  carol           team_member_start carol  {"team":"panel"}
            31 +T  alice             node_start research  inputs={"who":"alice"}
            32 +T  alice             node_complete research  (start 31)  D  outputs={"score":0.9}
            33 +T  bob               node_start research  inputs={"who":"bob"}
            34 +T  bob               node_complete research  (start 33)  D  outputs={"score":0.4}
            35 +T  carol             node_start research  inputs={"who":"carol"}
            36 +T  carol             node_complete research  (start 35)  D  outputs={"score":0.7}
        (flowtape)
            37 +T  alice           team_member_complete alice  (start 28)  D
            38 +T  bob             team_member_complete bob  (start 29)  D
            39 +T  carol           team_member_complete carol  (start 30)  D
            40 +T  MainThread    team_complete panel  (start 27)  D  {"success":true}
            41 +T  MainThread    state  keyframe {"pages":3,"scores":{"alice":0.9,"bob":0.4,"carol
            42 +T  MainThread    node_start publish  inputs={"score":0.4}
            43 +T  MainThread    node_error publish  (start 42)  D  RuntimeError: score 0.4 is too
            44 +T  MainThread  workflow_complete debug  (start 0)  D
        """)


def test_state_delta_why_and_data(debug: Replayer) -> None:
    """state and delta at any event: the latest state event's change; why names the setter."""
    assert screen(debug, cut=90, commands=[
        "j 15",
        "state",
        "state x",
        "delta",
        "why x",
        "j 41",
        "delta",
        "data",
        "j 43",
        "why scores.bob",
    ]) == expect("""
        debug <ID> · 45 events · completed · h for help, q to quit
        >    0 +T  MainThread  workflow_start debug
        (flowtape) j 15
        >   15 +T  MainThread  node_complete tidy  (start 14)  D  outputs=2
        (flowtape) state
        state = {"x": 20, "pages": 2}
        (flowtape) state x
        x = 20
        (flowtape) delta
        seq 15 is not a state event; the latest one before it is:
            11 +T  MainThread  state  keyframe {"pages":2,"x":20}
        seq 11 (state) changed:
          x: 10 -> 20
          pages: 1 -> 2
        (flowtape) why x
        x = 20 was last set at seq 11 (was 10):
            11 +T  MainThread  state  keyframe {"pages":2,"x":20}
        j 11 takes you there.
        (flowtape) j 41
        >   41 +T  MainThread  state  keyframe {"pages":3,"scores":{"alice":0.9,"bob":0.4,"carol":
        (flowtape) delta
        seq 41 (state) changed:
          x: 30 -> 40
          scores: added {"alice": 0.9, "bob": 0.4, "carol": 0.7}
        (flowtape) data
        seq 41 is a state event: state shows the state after it, delta what it changed.
        (flowtape) j 43
        >   43 +T  MainThread  node_error publish  (start 42)  D  RuntimeError: score 0.4 is too l
        (flowtape) why scores.bob
        scores.bob = 0.4 was last set at seq 41 (was (not set)):
            41 +T  MainThread  state  keyframe {"pages":3,"scores":{"alice":0.9,"bob":0.4,"carol":
        j 41 takes you there.
        """)


def test_tab_completion_answers(debug: Replayer) -> None:
    """What Tab offers (readline asks `completions`): commands first, then node names and
    kinds after b, lanes after lane, state paths (with or without state.) after the path
    commands, data./inputs./outputs. heads after p."""
    stepper = Stepper(debug, Console(file=StringIO()), stdin=StringIO(""), interactive=False)
    assert stepper.completions("", "unt") == ["unt", "until"]
    assert stepper.completions("", "reverse-r") == ["reverse-return"]  # as typed: dashes
    assert stepper.completions("b ", "re") == ["recursion_enter", "recursion_exit", "research"]
    assert stepper.completions("tbreak ", "pub") == ["publish"]
    assert stepper.completions("b research, ", "da") == []  # a condition is not a name
    assert stepper.completions("lane ", "") == ["-", "MainThread", "alice", "bob", "carol"]
    debug.jump_to_event(41)
    assert stepper.completions("state ", "sc") == ["scores", "scores.alice", "scores.bob",
                                                   "scores.carol"]
    assert stepper.completions("why ", "state.p") == ["state.pages"]
    assert stepper.completions("p ", "") == ["data.", "inputs.", "outputs.", "pages",
                                             "scores", "scores.alice", "scores.bob",
                                             "scores.carol", "state.", "x"]
    assert stepper.completions("h ", "unw") == ["unwatch"]


def test_odd_keys_complete_to_paths_that_parse(store: Path) -> None:
    """A key with a dot or a space completes bracketed (§6), so the path it offers reads."""
    with record_workflow("odd", store=str(store)) as rec:
        rec.snapshot({"a.b": {"c d": 1}, "ok": 2})
    with Replayer.open(rec.path) as r:
        stepper = Stepper(r, Console(file=StringIO()), stdin=StringIO(""), interactive=False)
        r.jump_to_event(1)
        offered = stepper.completions("state ", "")
        assert offered == ['["a.b"]', '["a.b"]["c d"]', "ok"]
        assert all(r.value_at(path, 1) in ({"c d": 1}, 1, 2) for path in offered)


def test_spans_that_never_ended(store: Path, tmp_path: Path) -> None:
    """A run cut off inside three open nodes: n, r and retval say the span never ended."""
    path = tmp_path / "cut.jsonl.zst"
    with record_workflow("cut", path=str(path), flush_every=4):
        outer(1)  # 0 workflow_start, 1-3 the starts, 4-6 the ends, 7 workflow_complete
    with Replayer.open(path) as r:
        frame = r.reader.frames[0]
        assert [e.seq for e in r.reader.read_frame(0)] == [0, 1, 2, 3]
    cut = tmp_path / "cut-short.jsonl.zst"
    cut.write_bytes(path.read_bytes()[:frame.offset + frame.length])
    with Replayer.open(cut) as r:
        assert screen(r, ["j 2", "n", "r", "w", "rv", "u", "rv", "rr", "ll"]) == expect("""
            cut <ID> · 4 events · incomplete · h for help, q to quit
            >    0 +T  workflow_start cut
            (flowtape) j 2
            >    2 +T  node_start middle  inputs={"n":1}
            (flowtape) n
            *** the span that starts at seq 2 never ended
            (flowtape) r
            *** no open span ends after seq 2
            (flowtape) w
              workflow cut  (seq 0)
                node outer  (seq 1)
            >     node middle  (seq 2, starts here)
            (flowtape) rv
            node middle (seq 2) never ended.
            (flowtape) u
            >   node outer  (seq 1)
            (flowtape) rv
            node outer (seq 1) never ended.
            (flowtape) rr
            >    1 +T  node_start outer  inputs={"n":1}
            (flowtape) ll
            ->   1 +T    node_start outer  inputs={"n":1}
                 2 +T      node_start middle  inputs={"n":1}
                 3 +T        node_start inner  inputs={"n":1}
            """)

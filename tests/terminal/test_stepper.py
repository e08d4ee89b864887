"""Stepper transcripts: a commented command list and the exact screen it produces.

Like CPython's test_pdb, each test feeds commands to the stepper (here as
piped input, which the stepper echoes after its prompt) and compares the
whole screen, rendered by a fixed-width rich `Console`. Times and durations
differ from run to run, so `screen` replaces them with ``+T`` and ``D``, and
the recording id with ``<ID>``.

The recording (`shop`, 17 events)::

     0 workflow_start shop
     1   node_start load_cart          2   node_complete load_cart
     3   state (keyframe)              4   state (cart.items[1], total)
     5   team_start pricing
     6     team_member_start a
     7       node_start price          8       node_complete price
     9       team_message a -> b
    10     team_member_complete a
    11   team_complete pricing
    12   state (total: 0 -> 3)        13   checkpoint priced
    14   node_start checkout          15   node_error checkout
    16 workflow_complete shop
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console
from stepper_recordings import (
    big_list,
    expect,
    load_cart,
    price,
    record_shop,
    record_truncated,
    screen,
)

from recorder import record_workflow
from replayer import Replayer, Stepper
from storage.analysis.paths import parse_state_path


@pytest.fixture
def shop(store: Path) -> Iterator[Replayer]:
    with Replayer.open(record_shop(store)) as r:
        yield r


def test_moving_forward_and_back(shop: Replayer) -> None:
    """s/rs step by one or by a count, an empty line repeats, the ends are reported."""
    assert screen(shop, [
        "s",        # one forward
        "s 3",      # three forward
        "",         # the empty line repeats `s 3`
        "rs",       # one back
        "rs 100",   # back past the start stops at the first event
        "rs",       # ... and says so
        "s 100",    # forward past the end stops at the last event
        "step",     # ... and says so; `step` is `s`
        "reverse-step 2",   # `reverse-step` is `rs`
    ]) == expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        (flowtape) s
        >    1 +T  node_start load_cart  inputs={"user":"ann"}
        (flowtape) s 3
        >    4 +T  state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
        (flowtape)
        >    7 +T  node_start price  inputs={"item":"apple"}
        (flowtape) rs
        >    6 +T  team_member_start a  {"team":"pricing"}
        (flowtape) rs 100
        >    0 +T  workflow_start shop
        (flowtape) rs
        *** already at the first event (seq 0)
        (flowtape) s 100
        >   16 +T  workflow_complete shop  (start 0)  D
        (flowtape) step
        *** already at the last event (seq 16)
        (flowtape) reverse-step 2
        >   14 +T  node_start checkout  inputs={"cart":{"items":["apple","pear"]}}
        """)
    assert shop.position == 14  # the stepper moved the replayer's cursor, nothing else


def test_jump(shop: Replayer) -> None:
    """j goes to a seq (negative: from the end); bad seqs are reported, nothing moves."""
    assert screen(shop, [
        "j 10",     # to seq 10
        "j -1",     # the last event
        "jump 0",   # `jump` is `j`
        "j 17",     # no such seq
        "j x",      # not a number: the error and the usage
        "j",        # no argument
        "j -18",    # past the start
    ]) == expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        (flowtape) j 10
        >   10 +T  team_member_complete a  (start 6)  D
        (flowtape) j -1
        >   16 +T  workflow_complete shop  (start 0)  D
        (flowtape) jump 0
        >    0 +T  workflow_start shop
        (flowtape) j 17
        *** no event has seq 17 (seq 0..16)
        (flowtape) j x
        *** 'x' is not an event seq
        *** usage: j(ump) SEQ
        (flowtape) j
        *** jump needs an event seq
        *** usage: j(ump) SEQ
        (flowtape) j -18
        *** there are only 17 events
        *** usage: j(ump) SEQ
        """)
    assert shop.position == 0


def test_state_and_delta(shop: Replayer) -> None:
    """state shows the state or one value by path; delta what the latest state event changed."""
    assert screen(shop, [
        "state",                        # no state before the first snapshot
        "delta",                        # nor a state event
        "j 3",
        "state",                        # the whole state
        "j 4",
        "delta",                        # what seq 4 changed
        "state cart.items[1]",          # one value
        "state state.cart.items[-1]",   # with the leading `state.` and a negative index
        'state ["cart"]',               # a quoted key
        "state cart.nope",              # not in the state
        "state cart..items",            # not a path
        "j 12",
        "delta",                        # a patch: old -> new
        "j 13",
        "delta",                        # a checkpoint: the state event before it
    ]) == expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        (flowtape) state
        No state recorded yet at seq 0.
        (flowtape) delta
        No state event at or before seq 0.
        (flowtape) j 3
        >    3 +T  state  keyframe {"cart":{"items":["apple"]}}
        (flowtape) state
        state = {"cart": {"items": ["apple"]}}
        (flowtape) j 4
        >    4 +T  state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
        (flowtape) delta
        seq 4 (state) changed:
          cart.items[1]: added "pear"
          total: added 0
        (flowtape) state cart.items[1]
        cart.items[1] = "pear"
        (flowtape) state state.cart.items[-1]
        cart.items[-1] = "pear"
        (flowtape) state ["cart"]
        cart = {"items": ["apple", "pear"]}
        (flowtape) state cart.nope
        *** no cart.nope in the state at seq 4
        (flowtape) state cart..items
        *** 'cart..items' is not a state path (write it like cart.items[0])
        *** usage: state [PATH]
        (flowtape) j 12
        >   12 +T  state  changed total
        (flowtape) delta
        seq 12 (state) changed:
          total: 0 -> 3
        (flowtape) j 13
        >   13 +T  checkpoint  priced {"total":3}
        (flowtape) delta
        seq 13 is not a state event; the latest one before it is:
            12 +T  state  changed total
        seq 12 (state) changed:
          total: 0 -> 3
        """)


def test_breakpoints_continue_and_reverse_continue(shop: Replayer) -> None:
    """break by kind or node; c/rc stop there; cl removes; with none, c runs to the end."""
    assert screen(shop, [
        "break",                # none yet
        "break node_error",     # by kind
        "b price",              # by node; `b` is `break`
        "break pri?e",          # a node glob
        "break nobody",         # allowed, with a note
        "break",                # the table
        "c",                    # to price's start (two breakpoints match)
        "",                     # repeats c
        "c",                    # the node_error
        "c",                    # nothing after it: to the last event
        "c",                    # already there
        "rc",                   # back to the node_error
        "b",                    # the hits counted
        "cl 3",                 # clear by number
        "clear 2 4",            # several
        "cl 9",                 # no such breakpoint
        "cl price",             # not a number
        "reverse-continue",     # with only node_error left: back to the start
        "cl",                   # clear all
        "c",                    # no breakpoints: to the end
    ]) == expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        (flowtape) break
        No breakpoints.
        (flowtape) break node_error
        Breakpoint 1 at kind node_error
        (flowtape) b price
        Breakpoint 2 at node price
        (flowtape) break pri?e
        Breakpoint 3 at node pri?e
        (flowtape) break nobody
        Breakpoint 4 at node nobody (no event in this recording matches it)
        (flowtape) break
        Num  Type       Enb  Hits  Where / condition
        1    kind       yes  0     node_error
        2    node       yes  0     price
        3    node       yes  0     pri?e
        4    node       yes  0     nobody
        (flowtape) c
        breakpoint 2 (price); breakpoint 3 (pri?e) at seq 7
        >    7 +T  node_start price  inputs={"item":"apple"}
        (flowtape)
        breakpoint 2 (price); breakpoint 3 (pri?e) at seq 8
        >    8 +T  node_complete price  (start 7)  D  outputs=3
        (flowtape) c
        breakpoint 1 (node_error) at seq 15
        >   15 +T  node_error checkout  (start 14)  D  ValueError: card declined
        (flowtape) c
        No breakpoint or display change after seq 15; at the last event.
        >   16 +T  workflow_complete shop  (start 0)  D
        (flowtape) c
        *** already at the last event (seq 16)
        (flowtape) rc
        breakpoint 1 (node_error) at seq 15
        >   15 +T  node_error checkout  (start 14)  D  ValueError: card declined
        (flowtape) b
        Num  Type       Enb  Hits  Where / condition
        1    kind       yes  2     node_error
        2    node       yes  2     price
        3    node       yes  2     pri?e
        4    node       yes  0     nobody
        (flowtape) cl 3
        Deleted breakpoint 3 at pri?e
        (flowtape) clear 2 4
        Deleted breakpoint 2 at price
        Deleted breakpoint 4 at nobody
        (flowtape) cl 9
        *** no breakpoint 9; b lists them
        (flowtape) cl price
        *** 'price' is not a breakpoint number
        (flowtape) reverse-continue
        No breakpoint or display change before seq 15; at the first event.
        >    0 +T  workflow_start shop
        (flowtape) cl
        Deleted 1 breakpoint.
        (flowtape) c
        No breakpoint set after seq 0; at the last event.
        >   16 +T  workflow_complete shop  (start 0)  D
        """)


def test_watch_and_why(shop: Replayer) -> None:
    """display shows a value after every move and c stops where it changes; why finds who set it."""
    assert screen(shop, [
        "display total",        # not set yet
        "display",              # the list
        "s",                    # the display follows every move
        "c",                    # to where total is first set
        "c",                    # to where it changes again
        "why total",            # who set it
        "why cart.items",       # set earlier
        "rc",                   # back to the previous change
        "undisplay total",
        "undisplay total",      # not displayed any more
        "watch state.cart",     # `watch` is `display`; `state.` prefix, listed without it
        "unwatch",              # `unwatch` is `undisplay`: all
        "j 1",
        "why total",            # nothing set it yet
        "why",                  # needs a path
    ]) == expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        (flowtape) display total
        display total = (not set)
        (flowtape) display
        display total = (not set)
        (flowtape) s
        >    1 +T  node_start load_cart  inputs={"user":"ann"}
          display total = (not set)
        (flowtape) c
        display total changed at seq 4
        >    4 +T  state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
          display total = 0  (was (not set))
        (flowtape) c
        display total changed at seq 12
        >   12 +T  state  changed total
          display total = 3  (was 0)
        (flowtape) why total
        total = 3 was last set at seq 12 (was 0):
            12 +T  state  changed total
        j 12 takes you there.
        (flowtape) why cart.items
        cart.items = ["apple", "pear"] was last set at seq 4 (was ["apple"]):
             4 +T  state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
        j 4 takes you there.
        (flowtape) rc
        display total changed at seq 4
        >    4 +T  state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
          display total = 0  (was 3)
        (flowtape) undisplay total
        Stopped displaying total
        (flowtape) undisplay total
        *** total is not displayed; display lists them
        *** usage: undisplay [PATH]
        (flowtape) watch state.cart
        display cart = {"items": ["apple", "pear"]}
        (flowtape) unwatch
        Removed 1 display.
        (flowtape) j 1
        >    1 +T  node_start load_cart  inputs={"user":"ann"}
        (flowtape) why total
        total is not in the state at seq 1: nothing before the cursor set it.
        (flowtape) why
        *** why needs a state path, like cart.items[0]
        *** usage: why PATH
        """)


def test_where_and_list(shop: Replayer) -> None:
    """w shows the open spans, root first; l lists events around the cursor, marked."""
    assert screen(shop, [
        "j 9",      # a message inside member a of team pricing
        "w",
        "j 7",      # a node start opens its own span
        "where",
        "j 15",     # an error closes it
        "w",
        "j 0",
        "w",        # the workflow's own start
        "break price",
        "j 8",
        "l",        # -> marks the cursor, B the breakpoint's events
        "l 0",      # around seq 0 (the window stays 11 events long)
        "l x",
    ]) == expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        (flowtape) j 9
        >    9 +T  team_message pricing  a → b: apple is 3
        (flowtape) w
          workflow shop  (seq 0)
            team pricing  (seq 5)
        >     member a  (seq 6)
        (flowtape) j 7
        >    7 +T  node_start price  inputs={"item":"apple"}
        (flowtape) where
          workflow shop  (seq 0)
            team pricing  (seq 5)
              member a  (seq 6)
        >       node price  (seq 7, starts here)
        (flowtape) j 15
        >   15 +T  node_error checkout  (start 14)  D  ValueError: card declined
        (flowtape) w
          workflow shop  (seq 0)
        >   node checkout  (seq 14, fails here)
        (flowtape) j 0
        >    0 +T  workflow_start shop
        (flowtape) w
        > workflow shop  (seq 0, starts here)
        (flowtape) break price
        Breakpoint 1 at node price
        (flowtape) j 8
        >    8 +T  node_complete price  (start 7)  D  outputs=3
        (flowtape) l
             3 +T    state  keyframe {"cart":{"items":["apple"]}}
             4 +T    state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
             5 +T    team_start pricing  {"formation":"pair","member_count":2,"members":["a","b"]}
             6 +T      team_member_start a  {"team":"pricing"}
        B    7 +T        node_start price  inputs={"item":"apple"}
        B->  8 +T        node_complete price  (start 7)  D  outputs=3
             9 +T        team_message pricing  a → b: apple is 3
            10 +T      team_member_complete a  (start 6)  D
            11 +T    team_complete pricing  (start 5)  D  {"success":true}
            12 +T    state  changed total
            13 +T    checkpoint  priced {"total":3}
        (flowtape) l 0
             0 +T  workflow_start shop
             1 +T    node_start load_cart  inputs={"user":"ann"}
             2 +T    node_complete load_cart  (start 1)  D  outputs={"items":["apple"]}
             3 +T    state  keyframe {"cart":{"items":["apple"]}}
             4 +T    state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
             5 +T    team_start pricing  {"formation":"pair","member_count":2,"members":["a","b"]}
             6 +T      team_member_start a  {"team":"pricing"}
        B    7 +T        node_start price  inputs={"item":"apple"}
        B->  8 +T        node_complete price  (start 7)  D  outputs=3
             9 +T        team_message pricing  a → b: apple is 3
            10 +T      team_member_complete a  (start 6)  D
        (flowtape) l x
        *** 'x' is not an event seq
        *** usage: l(ist) [SEQ]
        """)


def test_search(shop: Replayer) -> None:
    """/ and ? move to the next / previous event whose node, kind or data (or state) holds
    the text, smart case, wrapping around with a note."""
    assert screen(shop, [
        "/pear",            # in a state snapshot
        "",                 # again: the next one, in a node's inputs
        "j 0",
        "/checkpoint",      # a kind
        "/checkout",        # a node
        "/pear",            # nothing after the cursor: wraps to the first
        "?pear",            # backwards: wraps to the last
        "?",                # the last text again, backwards
        "/PEAR",            # a capital: case matters, nothing matches
        "/Pear",
        "/ ",               # repeats the last search (/Pear): nothing
        "?apple",
    ]) == expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        (flowtape) /pear
        >    4 +T  state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
        (flowtape)
        >   14 +T  node_start checkout  inputs={"cart":{"items":["apple","pear"]}}
        (flowtape) j 0
        >    0 +T  workflow_start shop
        (flowtape) /checkpoint
        >   13 +T  checkpoint  priced {"total":3}
        (flowtape) /checkout
        >   14 +T  node_start checkout  inputs={"cart":{"items":["apple","pear"]}}
        (flowtape) /pear
        (search wrapped around to the start)
        >    4 +T  state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
        (flowtape) ?pear
        (search wrapped around to the end)
        >   14 +T  node_start checkout  inputs={"cart":{"items":["apple","pear"]}}
        (flowtape) ?
        >    4 +T  state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
        (flowtape) /PEAR
        *** no event contains 'PEAR'
        (flowtape) /Pear
        *** no event contains 'Pear'
        (flowtape) /
        *** no event contains 'Pear'
        (flowtape) ?apple
        >    3 +T  state  keyframe {"cart":{"items":["apple"]}}
        """)


def test_data(shop: Replayer) -> None:
    """data prints the whole payload; an error's traceback comes as text after it."""
    text = screen(shop, [
        "j 2",
        "data",     # a node's outputs
        "j 3",
        "data",     # a state event has no data: says where to look
        "j 11",
        "data",
        "j 15",
        "data",     # an error
    ])
    assert text.startswith(expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        (flowtape) j 2
        >    2 +T  node_complete load_cart  (start 1)  D  outputs={"items":["apple"]}
        (flowtape) data
        {
          "outputs": {
            "items": [
              "apple"
            ]
          }
        }
        (flowtape) j 3
        >    3 +T  state  keyframe {"cart":{"items":["apple"]}}
        (flowtape) data
        seq 3 is a state event: state shows the state after it, delta what it changed.
        (flowtape) j 11
        >   11 +T  team_complete pricing  (start 5)  D  {"success":true}
        (flowtape) data
        {
          "success": true
        }
        (flowtape) j 15
        >   15 +T  node_error checkout  (start 14)  D  ValueError: card declined
        (flowtape) data
        {
          "error": {
            "type": "ValueError",
        """))
    tail = text.split('"type": "ValueError",', 1)[1]
    assert '"message": "card declined"' in tail
    assert '"traceback"' not in tail  # printed as text instead, below the JSON
    assert "Traceback (most recent call last):" in tail
    assert tail.rstrip().endswith("ValueError: card declined")


def test_help(shop: Replayer) -> None:
    """h lists every command with its usage; h CMD shows one; aliases resolve."""
    text = screen(shop, ["h", "h n", "help reverse-continue", "h nope"])
    listing = text.split("(flowtape) h\n", 1)[1].split("(flowtape) h n\n", 1)[0]
    usages = ["b(reak) [NODE|KIND] [, CONDITION]", "tbreak NODE|KIND [, CONDITION]",
              "cl(ear) [N …]", "disable N …", "enable N …", "condition N [CONDITION]",
              "s(tep) [count]", "rs | reverse-step [count]", "n(ext) [count]",
              "rn | reverse-next [count]", "r(eturn)", "rr | reverse-return", "unt(il) [SEQ]",
              "j(ump) SEQ", "c(ontinue) | cont", "rc | reverse-continue", "/TEXT", "?TEXT",
              "lane [NAME|-]", "display [PATH] | watch [PATH]", "undisplay [PATH]", "w(here)",
              "u(p) [count]", "d(own) [count]", "a(rgs)", "retval | rv", "p PATH", "pp PATH",
              "state [PATH]", "delta", "data", "l(ist) [SEQ]", "ll | longlist", "why PATH",
              "h(elp) [COMMAND]", "q(uit)"]
    lines = listing.splitlines()[1:-1]
    # A usage too long for its column has its summary on the next line, under the others.
    assert [line.split("  ")[1].strip() for line in lines if line[2] != " "] == usages
    assert all(len(line) <= 100 for line in lines)
    assert text.split("(flowtape) h n\n", 1)[1] == expect("""
        n(ext) [count]
            Go forward to the next event of the current frame.
            On a span's start event, step over the whole span to its end event.
        (flowtape) help reverse-continue
        rc | reverse-continue
            Go back to the previous breakpoint hit or displayed change.
        (flowtape) h nope
        *** no command 'nope'; type h for the list
        """)


def test_mistakes_print_and_the_loop_goes_on(shop: Replayer) -> None:
    """Unknown commands and bad arguments print an error (and the usage); nothing raises."""
    assert screen(shop, [
        "frobnicate",       # unknown
        "n 0",              # counts start at 1
        "n -2",
        "rs two",           # not a count
        "break a b",        # one target only
        "b x, 1 +",         # not an expression
        "undisplay nope",
        "display a[",       # not a path
        "s",                # the loop still works
    ]) == expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        (flowtape) frobnicate
        *** unknown command 'frobnicate'; type h for the list of commands
        (flowtape) n 0
        *** the count must be at least 1, not 0
        *** usage: n(ext) [count]
        (flowtape) n -2
        *** the count must be at least 1, not -2
        *** usage: n(ext) [count]
        (flowtape) rs two
        *** 'two' is not a count
        *** usage: rs | reverse-step [count]
        (flowtape) break a b
        *** break takes one node name (a glob) or event kind, then optionally , CONDITION
        *** usage: b(reak) [NODE|KIND] [, CONDITION]
        (flowtape) b x, 1 +
        *** '1 +' is not a Python expression (invalid syntax)
        *** usage: b(reak) [NODE|KIND] [, CONDITION]
        (flowtape) undisplay nope
        *** nope is not displayed; display lists them
        *** usage: undisplay [PATH]
        (flowtape) display a[
        *** 'a[' is not a state path (write it like cart.items[0])
        *** usage: display [PATH] | watch [PATH]
        (flowtape) s
        >    1 +T  node_start load_cart  inputs={"user":"ann"}
        """)


def test_an_unknown_empty_line_does_nothing(shop: Replayer) -> None:
    """An empty line before any command repeats nothing; after an unknown one, repeats it."""
    assert screen(shop, ["", "zzz", ""]) == expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        (flowtape)
        (flowtape) zzz
        *** unknown command 'zzz'; type h for the list of commands
        (flowtape)
        *** unknown command 'zzz'; type h for the list of commands
        """)


def test_quit_stops_reading(shop: Replayer) -> None:
    """q ends the session with 0; lines after it are not read."""
    text = screen(shop, ["s", "q", "s"])
    assert text.endswith("(flowtape) q\n")
    assert shop.position == 1


def test_end_of_input_ends_the_session(shop: Replayer) -> None:
    """At the end of piped input the loop returns 0 without a traceback or a prompt."""
    assert screen(shop, []) == expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        """)


def test_cmdqueue_runs_first(shop: Replayer) -> None:
    """Commands put on cmdqueue run before input is read, echoed like typed ones."""
    out = StringIO()
    stepper = Stepper(shop, Console(file=out, width=100, color_system=None),
                      stdin=StringIO("n\n"), interactive=False)
    stepper.cmdqueue.extend(["break checkout", "c"])
    assert stepper.cmdloop() == 0
    lines = [line for line in out.getvalue().splitlines() if line.startswith("(flowtape)")]
    assert lines == ["(flowtape) break checkout", "(flowtape) c", "(flowtape) n"]
    assert shop.position == 15


def test_breakpoints_belong_to_the_stepper(shop: Replayer, store: Path) -> None:
    """Two steppers do not share breakpoints, displays or lanes."""
    one = Stepper(shop, Console(file=StringIO()), stdin=StringIO(""), interactive=False)
    two = Stepper(shop, Console(file=StringIO()), stdin=StringIO(""), interactive=False)
    one.onecmd("break price")
    one.onecmd("display total")
    one.onecmd("lane MainThread")
    assert [b.where for b in one.breakpoints] == ["price"] and list(one.displays) == ["total"]
    assert not two.breakpoints and two.displays == {} and two.lane is None
    assert one.lane == "MainThread"


def test_recording_without_state_events(store: Path) -> None:
    """Without state events, state shows node outputs folded by node, delta their change."""
    with record_workflow("plain", store=store) as rec:
        price("kiwi")
        load_cart("bo")
    with Replayer.open(rec.path) as r:
        assert screen(r, ["j 2", "state", "delta", "display load_cart", "c",
                          "why price"]) == expect("""
            plain <ID> · 6 events · completed · h for help, q to quit
            >    0 +T  workflow_start plain
            (flowtape) j 2
            >    2 +T  node_complete price  (start 1)  D  outputs=3
            (flowtape) state
            state = {"price": 3}
            (flowtape) delta
            seq 2 (node_complete) changed:
              price: added 3
            (flowtape) display load_cart
            display load_cart = (not set)
            (flowtape) c
            display load_cart changed at seq 4
            >    4 +T  node_complete load_cart  (start 3)  D  outputs={"items":["apple"]}
              display load_cart = {"items": ["apple"]}  (was (not set))
            (flowtape) why price
            price = 3 was last set at seq 2 (was (not set)):
                 2 +T  node_complete price  (start 1)  D  outputs=3
            j 2 takes you there.
            """)


def test_recording_with_no_events(store: Path, tmp_path: Path) -> None:
    """A crashed file with only its header: every move says there are no events."""
    path = record_shop(store)
    with Replayer.open(path) as full:
        header_bytes = full.reader.frames[0].offset  # the header frame comes first
    cut = tmp_path / "header-only.jsonl.zst"
    cut.write_bytes(Path(path).read_bytes()[:header_bytes])
    with Replayer.open(cut) as r:
        assert len(r) == 0
        assert screen(r, ["s", "rs", "n", "r", "unt", "j 0", "c", "state", "delta", "w",
                          "u", "a", "rv", "p x", "/x", "lane", "l", "ll", "break price",
                          "display total", "h q", "q"]) == expect("""
            shop <ID> · 0 events · incomplete · h for help, q to quit
            The recording has no events.
            (flowtape) s
            *** the recording has no events
            (flowtape) rs
            *** the recording has no events
            (flowtape) n
            *** the recording has no events
            (flowtape) r
            *** the recording has no events
            (flowtape) unt
            *** the recording has no events
            (flowtape) j 0
            *** the recording has no events
            (flowtape) c
            *** the recording has no events
            (flowtape) state
            *** the recording has no events
            (flowtape) delta
            *** the recording has no events
            (flowtape) w
            *** the recording has no events
            (flowtape) u
            *** the recording has no events
            (flowtape) a
            *** the recording has no events
            (flowtape) rv
            *** the recording has no events
            (flowtape) p x
            *** the recording has no events
            (flowtape) /x
            *** the recording has no events
            (flowtape) lane
            Lanes: (none); following all lanes.
            (flowtape) l
            *** the recording has no events
            (flowtape) ll
            *** the recording has no events
            (flowtape) break price
            Breakpoint 1 at node price (no event in this recording matches it)
            (flowtape) display total
            display total = (not set)
            (flowtape) h q
            q(uit)
                Leave the stepper.
            (flowtape) q
            """)


@pytest.mark.parametrize(("text", "parts"), [
    ("cart", ["cart"]),
    ("state.cart.items[0]", ["cart", "items", 0]),
    ("cart.items[-1].name", ["cart", "items", -1, "name"]),
    ('state["a.b"][2]', ["a.b", 2]),
    ("state", []),
    ("stateful.x", ["stateful", "x"]),
])
def test_state_paths(text: str, parts: list) -> None:
    """§6 paths parse with or without the leading `state.`."""
    assert parse_state_path(text) == parts


@pytest.mark.parametrize("text", ["a..b", ".a", "a[", "a[x]", "a]", "[0]b"])
def test_bad_state_paths(text: str) -> None:
    """Text that is not a path is a ValueError naming it."""
    with pytest.raises(ValueError, match="not a state path"):
        parse_state_path(text)


def test_truncated_state_is_unknown(store: Path) -> None:
    """A truncated state is unknown to state, delta, display, c and why — never a `$truncated`
    key."""
    with Replayer.open(record_truncated(store)) as r:
        assert screen(r, [
            "j 1",
            "display total",
            "s",            # into the truncated state: the display becomes unknown
            "state",        # the whole state
            "state total",  # a value inside it
            "delta",        # what seq 2 changed: all of it, to something unknown
            "s",
            "why total",    # who made it unknown
            "delta",        # at a checkpoint: seq 2's change again
            "c",            # known again at seq 4
            "delta",        # what seq 4 changed cannot be told from an unknown state
            "why total",    # set at seq 4, or earlier: the state before is unknown
            "rc",           # back to where it became unknown
        ]) == expect("""
            big <ID> · 6 events · completed · h for help, q to quit
            >    0 +T  workflow_start big
            (flowtape) j 1
            >    1 +T  state  keyframe {"blob":"x","total":1}
            (flowtape) display total
            display total = 1
            (flowtape) s
            >    2 +T  state  keyframe unknown: truncated, was 521 bytes
              display total = (unknown: state truncated, was 521 bytes)  (was 1)
            (flowtape) state
            state = (unknown: state truncated, was 521 bytes)
            (flowtape) state total
            total = (unknown: state truncated, was 521 bytes)
            (flowtape) delta
            seq 2 (state) changed the state to one the recording does not hold:
              state: (unknown: state truncated, was 521 bytes)
            (flowtape) s
            >    3 +T  checkpoint  mid
              display total = (unknown: state truncated, was 521 bytes)
            (flowtape) why total
            total is unknown at seq 3: the state was truncated at seq 2 (was 521 bytes):
                 2 +T  state  keyframe unknown: truncated, was 521 bytes
            j 2 takes you there.
            (flowtape) delta
            seq 3 is not a state event; the latest one before it is:
                 2 +T  state  keyframe unknown: truncated, was 521 bytes
            seq 2 (state) changed the state to one the recording does not hold:
              state: (unknown: state truncated, was 521 bytes)
            (flowtape) c
            display total is known again at seq 4
            >    4 +T  state  keyframe {"blob":"y","total":3}
              display total = 3  (was (unknown: state truncated, was 521 bytes))
            (flowtape) delta
            seq 4 (state) set the state; the state before it is unknown (truncated, was 521 bytes):
              state = {"total": 3, "blob": "y"}
            (flowtape) why total
            total = 3 was set at seq 4 or earlier: the state before it is unknown (truncated, \
was 521 bytes):
                 4 +T  state  keyframe {"blob":"y","total":3}
            j 4 takes you there.
            (flowtape) rc
            display total became unknown at seq 2
            >    2 +T  state  keyframe unknown: truncated, was 521 bytes
              display total = (unknown: state truncated, was 521 bytes)  (was 3)
            """).replace("\\\n", "")


def test_truncated_output_is_unknown_without_state_events(store: Path) -> None:
    """Folded node outputs: a truncated output is unknown at its path and below it."""
    with record_workflow("fold", store=store, max_payload_bytes=200) as rec:
        price("kiwi")
        load_cart("x" * 300)  # the inputs are truncated; the outputs are small
        big_list(300)         # outputs over the limit
    with Replayer.open(rec.path) as r:
        assert screen(r, ["j -2", "delta", "state big_list[0]", "state price",
                          "why big_list"]) == expect("""
            fold <ID> · 8 events · completed · h for help, q to quit
            >    0 +T  workflow_start fold
            (flowtape) j -2
            >    6 +T  node_complete big_list  (start 5)  D  outputs=unknown: truncated, was 1091…
            (flowtape) delta
            seq 6 (node_complete) changed:
              big_list: added (unknown: big_list truncated, was 1091 bytes)
            (flowtape) state big_list[0]
            big_list[0] = (unknown: big_list truncated, was 1091 bytes)
            (flowtape) state price
            price = 3
            (flowtape) why big_list
            big_list is unknown at seq 6: it was truncated at seq 6 (was 1091 bytes):
                 6 +T  node_complete big_list  (start 5)  D  outputs=unknown: truncated, was 1091…
            j 6 takes you there.
            """)

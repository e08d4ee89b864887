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

import re
import textwrap
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console
from stepper_recordings import big_list, load_cart, price, record_shop, record_truncated

from recorder import record_workflow
from replayer import Replayer, Stepper
from storage.analysis.paths import parse_state_path


@pytest.fixture
def shop(store: Path) -> Iterator[Replayer]:
    with Replayer.open(record_shop(store)) as r:
        yield r


_OFFSET = re.compile(r" *\+(\d+(\.\d+)?(ns|µs|ms|s)|\d+m\d\ds|\d+h\d\dm\d\ds)(?=  )")
_DURATION = re.compile(r"(?<=  )\d+(\.\d+)?(ns|µs|ms|s)(?=  |$)", re.MULTILINE)


def screen(r: Replayer, commands: list[str], *, width: int = 100,
           stepper: Stepper | None = None) -> str:
    """Run ``commands`` through a stepper on ``r``; the screen with times normalised."""
    out = StringIO()
    console = Console(file=out, width=width, color_system=None)
    stdin = StringIO("".join(c + "\n" for c in commands))
    if stepper is None:
        stepper = Stepper(r, console, stdin=stdin, interactive=False)
    else:
        stepper.console, stepper.stdin = console, stdin
    assert stepper.cmdloop() == 0
    text = _OFFSET.sub(" +T", out.getvalue())
    text = _DURATION.sub("D", text)
    return "\n".join(line.rstrip() for line in text.replace(r.recording_id, "<ID>")
                     .splitlines()) + "\n"


def expect(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def test_moving_forward_and_back(shop: Replayer) -> None:
    """n/b step by one or by a count, an empty line repeats, the ends are reported."""
    assert screen(shop, [
        "n",        # one forward
        "n 3",      # three forward
        "",         # the empty line repeats `n 3`
        "b",        # one back
        "b 100",    # back past the start stops at the first event
        "b",        # ... and says so
        "n 100",    # forward past the end stops at the last event
        "next",     # ... and says so; `next` is `n`
        "back 2",   # `back` is `b`
    ]) == expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        (flowtape) n
        >    1 +T  node_start load_cart  inputs={"user":"ann"}
        (flowtape) n 3
        >    4 +T  state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
        (flowtape)
        >    7 +T  node_start price  inputs={"item":"apple"}
        (flowtape) b
        >    6 +T  team_member_start a  {"team":"pricing"}
        (flowtape) b 100
        >    0 +T  workflow_start shop
        (flowtape) b
        *** already at the first event (seq 0)
        (flowtape) n 100
        >   16 +T  workflow_complete shop  D
        (flowtape) next
        *** already at the last event (seq 16)
        (flowtape) back 2
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
        >   10 +T  team_member_complete a  D
        (flowtape) j -1
        >   16 +T  workflow_complete shop  D
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
    """s shows the state or one value by path; d what the event at the cursor changed."""
    assert screen(shop, [
        "s",                        # no state before the first snapshot
        "j 3",
        "s",                        # the whole state
        "j 4",
        "d",                        # what seq 4 changed
        "s cart.items[1]",          # one value
        "s state.cart.items[-1]",   # with the leading `state.` and a negative index
        'state ["cart"]',           # a quoted key; `state` is `s`
        "s cart.nope",              # not in the state
        "s cart..items",            # not a path
        "j 12",
        "d",                        # a patch: old -> new
        "j 13",
        "d",                        # a checkpoint changes nothing
    ]) == expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        (flowtape) s
        No state recorded yet at seq 0.
        (flowtape) j 3
        >    3 +T  state  keyframe {"cart":{"items":["apple"]}}
        (flowtape) s
        state = {"cart": {"items": ["apple"]}}
        (flowtape) j 4
        >    4 +T  state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
        (flowtape) d
        seq 4 (state) changed:
          cart.items[1]: added "pear"
          total: added 0
        (flowtape) s cart.items[1]
        cart.items[1] = "pear"
        (flowtape) s state.cart.items[-1]
        cart.items[-1] = "pear"
        (flowtape) state ["cart"]
        cart = {"items": ["apple", "pear"]}
        (flowtape) s cart.nope
        *** no cart.nope in the state at seq 4
        (flowtape) s cart..items
        *** 'cart..items' is not a state path (write it like cart.items[0])
        *** usage: s(tate) [PATH]
        (flowtape) j 12
        >   12 +T  state  changed total
        (flowtape) d
        seq 12 (state) changed:
          total: 0 -> 3
        (flowtape) j 13
        >   13 +T  checkpoint  priced {"total":3}
        (flowtape) d
        seq 13 (checkpoint) did not change the state.
        """)


def test_breakpoints_continue_and_reverse_continue(shop: Replayer) -> None:
    """break by kind or node; c/rc stop there; cl removes; with none, c runs to the end."""
    assert screen(shop, [
        "break",                # none yet
        "break node_error",     # by kind
        "break price",          # by node
        "break pri?e",          # a node glob
        "break price",          # twice is refused
        "break nobody",         # allowed, with a note
        "break",                # the list
        "c",                    # to price's start (two breakpoints match)
        "",                     # repeats c
        "c",                    # the node_error
        "c",                    # nothing after it: to the last event
        "c",                    # already there
        "rc",                   # back to the node_error
        "cl 3",                 # clear by number
        "clear price",          # clear by what it stops at
        "cl 9",                 # no such breakpoint
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
        (flowtape) break price
        Breakpoint 2 at node price
        (flowtape) break pri?e
        Breakpoint 3 at node pri?e
        (flowtape) break price
        *** there is already a breakpoint at price
        (flowtape) break nobody
        Breakpoint 4 at node nobody (no event in this recording matches it)
        (flowtape) break
        Num  Type  Stops at
        1    kind  node_error
        2    node  price
        3    node  pri?e
        4    node  nobody
        (flowtape) c
        breakpoint 2 (price); breakpoint 3 (pri?e) at seq 7
        >    7 +T  node_start price  inputs={"item":"apple"}
        (flowtape)
        breakpoint 2 (price); breakpoint 3 (pri?e) at seq 8
        >    8 +T  node_complete price  D  outputs=3
        (flowtape) c
        breakpoint 1 (node_error) at seq 15
        >   15 +T  node_error checkout  D  ValueError: card declined
        (flowtape) c
        No breakpoint or watch change after seq 15; at the last event.
        >   16 +T  workflow_complete shop  D
        (flowtape) c
        *** already at the last event (seq 16)
        (flowtape) rc
        breakpoint 1 (node_error) at seq 15
        >   15 +T  node_error checkout  D  ValueError: card declined
        (flowtape) cl 3
        Deleted breakpoint 3 at pri?e
        (flowtape) clear price
        Deleted breakpoint 2 at price
        (flowtape) cl 9
        *** no breakpoint '9'; `break` lists them
        *** usage: cl(ear) [N|NODE|KIND]
        (flowtape) reverse-continue
        No breakpoint or watch change before seq 15; at the first event.
        >    0 +T  workflow_start shop
        (flowtape) cl
        Deleted 2 breakpoints.
        (flowtape) c
        No breakpoint set after seq 0; at the last event.
        >   16 +T  workflow_complete shop  D
        """)


def test_watch_and_why(shop: Replayer) -> None:
    """watch shows a value after every move and c stops where it changes; why finds the setter."""
    assert screen(shop, [
        "watch total",          # not set yet
        "watch",                # the list
        "n",                    # the watch follows every move
        "c",                    # to where total is first set
        "c",                    # to where it changes again
        "why total",            # who set it
        "why cart.items",       # set earlier
        "rc",                   # back to the previous change
        "unwatch total",
        "unwatch total",        # not watched any more
        "watch state.cart",     # `state.` prefix; listed without it
        "unwatch",              # all
        "j 1",
        "why total",            # nothing set it yet
        "why",                  # needs a path
    ]) == expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        (flowtape) watch total
        Watching total = (not set)
        (flowtape) watch
        watch total = (not set)
        (flowtape) n
        >    1 +T  node_start load_cart  inputs={"user":"ann"}
          watch total = (not set)
        (flowtape) c
        watch total changed at seq 4
        >    4 +T  state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
          watch total = 0  (was (not set))
        (flowtape) c
        watch total changed at seq 12
        >   12 +T  state  changed total
          watch total = 3  (was 0)
        (flowtape) why total
        total = 3 was last set at seq 12 (was 0):
            12 +T  state  changed total
        j 12 takes you there.
        (flowtape) why cart.items
        cart.items = ["apple", "pear"] was last set at seq 4 (was ["apple"]):
             4 +T  state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
        j 4 takes you there.
        (flowtape) rc
        watch total changed at seq 4
        >    4 +T  state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
          watch total = 0  (was 3)
        (flowtape) unwatch total
        Stopped watching total
        (flowtape) unwatch total
        *** total is not watched; `watch` lists the watches
        *** usage: unwatch [PATH]
        (flowtape) watch state.cart
        Watching cart = {"items": ["apple", "pear"]}
        (flowtape) unwatch
        Removed 1 watch.
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
        >   15 +T  node_error checkout  D  ValueError: card declined
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
        >    8 +T  node_complete price  D  outputs=3
        (flowtape) l
             3 +T    state  keyframe {"cart":{"items":["apple"]}}
             4 +T    state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
             5 +T    team_start pricing  {"formation":"pair","member_count":2,"members":["a","b"]}
             6 +T      team_member_start a  {"team":"pricing"}
        B    7 +T        node_start price  inputs={"item":"apple"}
        B->  8 +T        node_complete price  D  outputs=3
             9 +T        team_message pricing  a → b: apple is 3
            10 +T      team_member_complete a  D
            11 +T    team_complete pricing  D  {"success":true}
            12 +T    state  changed total
            13 +T    checkpoint  priced {"total":3}
        (flowtape) l 0
             0 +T  workflow_start shop
             1 +T    node_start load_cart  inputs={"user":"ann"}
             2 +T    node_complete load_cart  D  outputs={"items":["apple"]}
             3 +T    state  keyframe {"cart":{"items":["apple"]}}
             4 +T    state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
             5 +T    team_start pricing  {"formation":"pair","member_count":2,"members":["a","b"]}
             6 +T      team_member_start a  {"team":"pricing"}
        B    7 +T        node_start price  inputs={"item":"apple"}
        B->  8 +T        node_complete price  D  outputs=3
             9 +T        team_message pricing  a → b: apple is 3
            10 +T      team_member_complete a  D
        (flowtape) l x
        *** 'x' is not an event seq
        *** usage: l(ist) [SEQ]
        """)


def test_find(shop: Replayer) -> None:
    """find moves to the next event whose node, kind or data (or state) holds the text."""
    assert screen(shop, [
        "find pear",        # in a state snapshot
        "",                 # again: the next one, in a node's inputs
        "j 0",
        "find checkpoint",  # a kind
        "find checkout",    # a node
        "find pear",        # nothing after the cursor
        "find",
    ]) == expect("""
        shop <ID> · 17 events · completed · h for help, q to quit
        >    0 +T  workflow_start shop
        (flowtape) find pear
        >    4 +T  state  keyframe {"cart":{"items":["apple","pear"]},"total":0}
        (flowtape)
        >   14 +T  node_start checkout  inputs={"cart":{"items":["apple","pear"]}}
        (flowtape) j 0
        >    0 +T  workflow_start shop
        (flowtape) find checkpoint
        >   13 +T  checkpoint  priced {"total":3}
        (flowtape) find checkout
        >   14 +T  node_start checkout  inputs={"cart":{"items":["apple","pear"]}}
        (flowtape) find pear
        *** no event after seq 14 contains 'pear'
        (flowtape) find
        *** find needs the text to look for
        *** usage: find TEXT
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
        >    2 +T  node_complete load_cart  D  outputs={"items":["apple"]}
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
        seq 3 is a state event: s shows the state after it, d what it changed.
        (flowtape) j 11
        >   11 +T  team_complete pricing  D  {"success":true}
        (flowtape) data
        {
          "success": true
        }
        (flowtape) j 15
        >   15 +T  node_error checkout  D  ValueError: card declined
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
    usages = ["n(ext) [count]", "b(ack) [count]", "j(ump) SEQ", "c(ontinue)",
              "rc | reverse-continue", "find TEXT", "break [NODE|KIND]", "cl(ear) [N|NODE|KIND]",
              "watch [PATH]", "unwatch [PATH]", "s(tate) [PATH]", "d(elta)", "data", "w(here)",
              "l(ist) [SEQ]", "why PATH", "h(elp) [COMMAND]", "q(uit)"]
    assert [line.split("  ")[1].strip() for line in listing.splitlines()[1:-1]] == usages
    assert text.split("(flowtape) h n\n", 1)[1] == expect("""
        n(ext) [count]
            Step forward count events (default 1).
        (flowtape) help reverse-continue
        rc | reverse-continue
            Go back to the previous breakpoint or watched change.
        (flowtape) h nope
        *** no command 'nope'; type h for the list
        """)


def test_mistakes_print_and_the_loop_goes_on(shop: Replayer) -> None:
    """Unknown commands and bad arguments print an error (and the usage); nothing raises."""
    assert screen(shop, [
        "frobnicate",       # unknown
        "n 0",              # counts start at 1
        "n -2",
        "b two",
        "break a b",        # one target only
        "unwatch nope",
        "watch a[",         # not a path
        "n",                # the loop still works
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
        (flowtape) b two
        *** 'two' is not a count
        *** usage: b(ack) [count]
        (flowtape) break a b
        *** break takes one node name or event kind
        *** usage: break [NODE|KIND]
        (flowtape) unwatch nope
        *** nope is not watched; `watch` lists the watches
        *** usage: unwatch [PATH]
        (flowtape) watch a[
        *** 'a[' is not a state path (write it like cart.items[0])
        *** usage: watch [PATH]
        (flowtape) n
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
    text = screen(shop, ["n", "q", "n"])
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
    """Two steppers do not share breakpoints or watches."""
    one = Stepper(shop, Console(file=StringIO()), stdin=StringIO(""), interactive=False)
    two = Stepper(shop, Console(file=StringIO()), stdin=StringIO(""), interactive=False)
    one.onecmd("break price")
    one.onecmd("watch total")
    assert [b.what for b in one.breakpoints] == ["price"] and list(one.watches) == ["total"]
    assert two.breakpoints == [] and two.watches == {}


def test_recording_without_state_events(store: Path) -> None:
    """Without state events, s shows node outputs folded by node, and d their change."""
    with record_workflow("plain", store=store) as rec:
        price("kiwi")
        load_cart("bo")
    with Replayer.open(rec.path) as r:
        assert screen(r, ["j 2", "s", "d", "watch load_cart", "c", "why price"]) == expect("""
            plain <ID> · 6 events · completed · h for help, q to quit
            >    0 +T  workflow_start plain
            (flowtape) j 2
            >    2 +T  node_complete price  D  outputs=3
            (flowtape) s
            state = {"price": 3}
            (flowtape) d
            seq 2 (node_complete) changed:
              price: added 3
            (flowtape) watch load_cart
            Watching load_cart = (not set)
            (flowtape) c
            watch load_cart changed at seq 4
            >    4 +T  node_complete load_cart  D  outputs={"items":["apple"]}
              watch load_cart = {"items": ["apple"]}  (was (not set))
            (flowtape) why price
            price = 3 was last set at seq 2 (was (not set)):
                 2 +T  node_complete price  D  outputs=3
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
        assert screen(r, ["n", "b", "j 0", "c", "s", "w", "l", "break price", "watch total",
                          "h q", "q"]) == expect("""
            shop <ID> · 0 events · incomplete · h for help, q to quit
            The recording has no events.
            (flowtape) n
            *** the recording has no events
            (flowtape) b
            *** the recording has no events
            (flowtape) j 0
            *** the recording has no events
            (flowtape) c
            *** the recording has no events
            (flowtape) s
            *** the recording has no events
            (flowtape) w
            *** the recording has no events
            (flowtape) l
            *** the recording has no events
            (flowtape) break price
            Breakpoint 1 at node price (no event in this recording matches it)
            (flowtape) watch total
            Watching total = (not set)
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
    """A truncated state is unknown to s, d, watch, c and why — never a `$truncated` key."""
    with Replayer.open(record_truncated(store)) as r:
        assert screen(r, [
            "j 1",
            "watch total",
            "n",            # into the truncated state: the watch becomes unknown
            "s",            # the whole state
            "s total",      # a value inside it
            "d",            # what seq 2 changed: all of it, to something unknown
            "n",
            "why total",    # who made it unknown
            "d",            # a checkpoint inside the unknown stretch changes nothing
            "c",            # known again at seq 4
            "d",            # what seq 4 changed cannot be told from an unknown state
            "why total",    # set at seq 4, or earlier: the state before is unknown
            "rc",           # back to where it became unknown
        ]) == expect("""
            big <ID> · 6 events · completed · h for help, q to quit
            >    0 +T  workflow_start big
            (flowtape) j 1
            >    1 +T  state  keyframe {"blob":"x","total":1}
            (flowtape) watch total
            Watching total = 1
            (flowtape) n
            >    2 +T  state  keyframe unknown: truncated, was 521 bytes
              watch total = (unknown: state truncated, was 521 bytes)  (was 1)
            (flowtape) s
            state = (unknown: state truncated, was 521 bytes)
            (flowtape) s total
            total = (unknown: state truncated, was 521 bytes)
            (flowtape) d
            seq 2 (state) changed the state to one the recording does not hold:
              state: (unknown: state truncated, was 521 bytes)
            (flowtape) n
            >    3 +T  checkpoint  mid
              watch total = (unknown: state truncated, was 521 bytes)
            (flowtape) why total
            total is unknown at seq 3: the state was truncated at seq 2 (was 521 bytes):
                 2 +T  state  keyframe unknown: truncated, was 521 bytes
            j 2 takes you there.
            (flowtape) d
            seq 3 (checkpoint) did not change the state.
            (flowtape) c
            watch total is known again at seq 4
            >    4 +T  state  keyframe {"blob":"y","total":3}
              watch total = 3  (was (unknown: state truncated, was 521 bytes))
            (flowtape) d
            seq 4 (state) set the state; the state before it is unknown (truncated, was 521 bytes):
              state = {"total": 3, "blob": "y"}
            (flowtape) why total
            total = 3 was set at seq 4 or earlier: the state before it is unknown (truncated, \
was 521 bytes):
                 4 +T  state  keyframe {"blob":"y","total":3}
            j 4 takes you there.
            (flowtape) rc
            watch total became unknown at seq 2
            >    2 +T  state  keyframe unknown: truncated, was 521 bytes
              watch total = (unknown: state truncated, was 521 bytes)  (was 3)
            """).replace("\\\n", "")


def test_truncated_output_is_unknown_without_state_events(store: Path) -> None:
    """Folded node outputs: a truncated output is unknown at its path and below it."""
    with record_workflow("fold", store=store, max_payload_bytes=200) as rec:
        price("kiwi")
        load_cart("x" * 300)  # the inputs are truncated; the outputs are small
        big_list(300)         # outputs over the limit
    with Replayer.open(rec.path) as r:
        assert screen(r, ["j -2", "d", "s big_list[0]", "s price", "why big_list"]) == expect("""
            fold <ID> · 8 events · completed · h for help, q to quit
            >    0 +T  workflow_start fold
            (flowtape) j -2
            >    6 +T  node_complete big_list  D  outputs=unknown: truncated, was 1091 bytes
            (flowtape) d
            seq 6 (node_complete) changed:
              big_list: added (unknown: big_list truncated, was 1091 bytes)
            (flowtape) s big_list[0]
            big_list[0] = (unknown: big_list truncated, was 1091 bytes)
            (flowtape) s price
            price = 3
            (flowtape) why big_list
            big_list is unknown at seq 6: it was truncated at seq 6 (was 1091 bytes):
                 6 +T  node_complete big_list  D  outputs=unknown: truncated, was 1091 bytes
            j 6 takes you there.
            """)

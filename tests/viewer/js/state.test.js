// state.js and format.js: patches, value diffs, the state after each event, why; paths.

import { test, eq, throws } from "./harness.js";
import { MISSING, StateBook, applyPatch, diffValues, lookup } from "../../../replayer/viewer/static/js/state.js";
import { fmtNs, formatPath, parsePath, printable } from "../../../replayer/viewer/static/js/format.js";

test("applyPatch applies every RFC 6902 op and leaves its input alone", () => {
  const doc = { a: { b: [1, 2] }, c: "x" };
  const out = applyPatch(doc, [
    { op: "add", path: "/a/b/-", value: 3 }, { op: "add", path: "/a/b/0", value: 0 },
    { op: "replace", path: "/c", value: "y" }, { op: "remove", path: "/a/b/1" },
    { op: "copy", from: "/c", path: "/d" }, { op: "move", from: "/d", path: "/e~1f" },
    { op: "test", path: "/c", value: "y" },
  ]);
  eq(out, { a: { b: [0, 2, 3] }, c: "y", "e/f": "y" });
  eq(doc, { a: { b: [1, 2] }, c: "x" }, "the input");
  throws(() => applyPatch(doc, [{ op: "test", path: "/c", value: "z" }]), /test failed/);
  throws(() => applyPatch(doc, [{ op: "replace", path: "/no/such", value: 1 }]), /leads nowhere/);
  eq(applyPatch(doc, [{ op: "replace", path: "", value: 7 }]), 7, "the whole document");
});

test("diffValues lists changed, added and removed paths", () => {
  const changes = diffValues({ a: 1, b: [1, 2], c: { d: true } }, { a: 2, b: [1], c: { d: true }, e: null });
  eq(changes.map((c) => [formatPath(c.parts), c.a === MISSING ? "-" : c.a, c.b === MISSING ? "-" : c.b]),
    [["a", 1, 2], ["b[1]", 2, "-"], ["e", "-", null]]);
  eq(diffValues({ x: [1] }, { x: [1] }), []);
});

test("lookup follows keys and indices, negative from the end, MISSING elsewhere", () => {
  const v = { cart: { items: [{ sku: "a" }, { sku: "b" }] } };
  eq(lookup(v, ["cart", "items", -1, "sku"]), "b");
  eq(lookup(v, ["cart", "nope"]), MISSING);
  eq(lookup(null, ["x"]), MISSING);
});

const STATES = [
  { seq: 0, kind: "workflow_start" },
  { seq: 1, kind: "state", state: { n: 1, tags: [] } },
  { seq: 2, kind: "node_start", node: "f" },
  { seq: 3, kind: "state", patch: [{ op: "replace", path: "/n", value: 2 }] },
  { seq: 4, kind: "state", patch: [{ op: "add", path: "/tags/-", value: "t" }] },
  { seq: 5, kind: "state", state: { n: 5, tags: ["t"] } },
  { seq: 6, kind: "state", patch: [] },
];

test("StateBook gives the state after any event, forwards and backwards", () => {
  const book = new StateBook(STATES, null, true);
  eq(book.at(0), null, "before the first state");
  eq(book.at(2), { n: 1, tags: [] });
  eq(book.at(4), { n: 2, tags: ["t"] });
  eq(book.at(6), { n: 5, tags: ["t"] });
  eq(book.at(3), { n: 2, tags: [] }, "back again");
  const kept = book.at(3);
  book.at(4);
  eq(kept, { n: 2, tags: [] }, "a state handed out never changes");
});

test("StateBook.why names the event that last set a value", () => {
  const book = new StateBook(STATES, null, true);
  eq(book.why(6, ["n"]), 5);
  eq(book.why(4, ["n"]), 3);
  eq(book.why(6, ["tags"]), 4, "a keyframe repeating a value does not set it");
  eq(book.why(0, ["n"]), -1);
});

test("StateBook folds node outputs when a run has no state events, from a base", () => {
  const events = [
    { seq: 10, kind: "node_complete", node: "a", data: { outputs: 1 } },
    { seq: 11, kind: "node_complete", node: "b", data: { outputs: 2 } },
    { seq: 12, kind: "node_complete", node: "a", data: { outputs: 3 } },
  ];
  const book = new StateBook(events, { z: 0 }, false);
  eq(book.at(1), { z: 0, a: 1, b: 2 });
  eq(book.at(2), { z: 0, a: 3, b: 2 });
  eq(book.why(2, ["a"]), 2);
  eq(book.why(2, ["z"]), -1);
});

test("paths print and parse the SPEC §6 way", () => {
  const parts = ["cart", "items", 0, "odd.key", "$ok"];
  eq(formatPath(parts), 'cart.items[0]["odd.key"].$ok');
  eq(parsePath('state.cart.items[0]["odd.key"].$ok'), parts);
  eq(parsePath("state"), []);
  throws(() => parsePath("a..b"), /not a state path/);
});

test("durations and control characters read like the terminal's", () => {
  eq([fmtNs(512), fmtNs(1500), fmtNs(2_500_000), fmtNs(3_210_000_000), fmtNs(125e9)],
    ["512 ns", "1.5 µs", "2.5 ms", "3.21 s", "2m05s"]);
  eq(printable("a\u001b[31mb\tc\u0007"), "a\\x1b[31mb\tc\\x07", "tabs stay; escapes show");
});

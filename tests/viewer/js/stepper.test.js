// stepper.js over a MemorySource: every SPEC §8 move, breakpoints and search; decode.js
// reading the json export's layout and gzip data blocks; the search matcher.

import { test, eq } from "./harness.js";
import { MemorySource, Spans, matcher } from "../../../replayer/viewer/static/js/recording.js";
import { Navigator } from "../../../replayer/viewer/static/js/stepper.js";
import { partJSON, partText, readDocument } from "../../../replayer/viewer/static/js/decode.js";

// workflow wf { a { state }  loop  loop  b { c ! } }
const EVENTS = [
  { seq: 0, ts: 0, kind: "workflow_start", node: "wf" },
  { seq: 1, ts: 10, kind: "node_start", node: "a", parent: 0 },
  { seq: 2, ts: 20, kind: "state", parent: 1, state: { x: 1 } },
  { seq: 3, ts: 30, kind: "node_complete", node: "a", span: 1, parent: 0 },
  { seq: 4, ts: 40, kind: "node_start", node: "loop", parent: 0 },
  { seq: 5, ts: 50, kind: "node_complete", node: "loop", span: 4, parent: 0 },
  { seq: 6, ts: 60, kind: "node_start", node: "loop", parent: 0 },
  { seq: 7, ts: 70, kind: "node_complete", node: "loop", span: 6, parent: 0 },
  { seq: 8, ts: 80, kind: "node_start", node: "b", parent: 0 },
  { seq: 9, ts: 90, kind: "node_start", node: "c", parent: 8 },
  { seq: 10, ts: 100, kind: "node_error", node: "c", span: 9, parent: 8, data: { error: { type: "E" } } },
  { seq: 11, ts: 110, kind: "node_complete", node: "b", span: 8, parent: 0 },
  { seq: 12, ts: 120, kind: "workflow_complete", node: "wf", span: 0 },
];
const OUTLINE = {
  kinds: ["workflow", "node"], nodes: ["wf", "a", "loop", "b", "c"], lanes: ["main"],
  statuses: ["completed", "failed"], messages: [], first_error: 10, last_ts: 120,
  spans: [[0, 12, 0, 120, 0, 0, 0, -1, 1, 0, 0], [1, 3, 10, 30, 1, 1, 0, 0, 1, 0, 0],
    [4, 5, 40, 50, 1, 2, 0, 0, 1, 0, 0], [6, 7, 60, 70, 1, 2, 0, 0, 2, 0, 0],
    [8, 11, 80, 110, 1, 3, 0, 0, 1, 0, 0], [9, 10, 90, 100, 1, 4, 1, 8, 1, 0, 0]],
};

function nav() {
  const doc = { header: { workflow: "wf" }, footer: null, summary: { status: "completed" }, events: EVENTS };
  return new Navigator(new MemorySource(doc, null), new Spans(OUTLINE));
}

async function moves(n, script) {
  const out = [];
  for (const [from, command] of script) out.push((await n.run(command, from)).pos);
  return out;
}

test("s and rs step by events, with counts, and stop at the ends", async () => {
  const n = nav();
  eq(await moves(n, [[0, "s"], [0, "s 3"], [5, "rs 2"], [12, "step 4"]]), [1, 3, 3, 12]);
  eq((await n.run("rs", 0)).error, "already at the first event");
  eq((await n.run("s", 12)).error, "already at the last event");
});

test("n steps over a span from its start, else to the next event of the frame", async () => {
  eq(await moves(nav(), [[1, "n"], [2, "n"], [3, "n"], [8, "n"], [9, "next"]]), [3, 3, 4, 11, 10]);
});

test("rn steps back over a span from its end, else to the frame's previous event", async () => {
  eq(await moves(nav(), [[3, "rn"], [4, "rn"], [11, "rn"], [9, "reverse-next"]]), [1, 3, 8, 8]);
});

test("r goes to the end of the innermost span, rr to its start", async () => {
  eq(await moves(nav(), [[2, "r"], [9, "r"], [4, "r"], [10, "rr"], [9, "rr"], [2, "rr"]]),
    [3, 10, 5, 9, 8, 1]);
});

test("unt leaves a loop over one node; unt SEQ goes past SEQ", async () => {
  eq(await moves(nav(), [[5, "unt"], [4, "until"], [2, "unt 9"]]), [8, 8, 10]);
});

test("c and rc stop at breakpoints on nodes (globs) and kinds; b again removes one", async () => {
  const n = nav();
  eq((await n.run("c", 0)).note, "No breakpoint set; at the last event.");
  eq((await n.run("b c*", 0)).note, "Breakpoint 1 at node c*");
  eq(await moves(n, [[0, "c"], [12, "rc"]]), [9, 10]);
  eq((await n.run("b node_error", 0)).note, "Breakpoint 2 at kind node_error");
  eq((await n.run("b c*", 0)).note, "Deleted breakpoint 1");
  const hit = await n.run("c", 0);
  eq([hit.pos, hit.note], [10, "breakpoint 2 at seq 10"]);
  eq(n.isBreak(EVENTS[10]), true);
  eq((await n.run("cl", 0)).note, "Deleted breakpoint 2");
});

test("j jumps to a seq, negative from the end; a missing seq is an error", async () => {
  const n = nav();
  eq(await moves(n, [[0, "j 7"], [0, "jump -1"]]), [7, 12]);
  eq((await n.run("j 99", 3)).error, "no event has seq 99 here");
  eq((await n.run("frobnicate", 3)).error, 'unknown command "frobnicate"; h lists the keys');
});

test("/ and ? search node, kind and data with smart case, wrapping with a note", async () => {
  const n = nav();
  eq(await moves(n, [[0, "/loop"], [4, "/"], [12, "?LOOP"], [12, "?loop"]]), [4, 5, 12, 7]);
  const wrapped = await n.run("/loop", 7);
  eq([wrapped.pos, wrapped.note], [4, "search wrapped to the start"]);
  eq((await n.run("/zzz", 0)).error, 'no event contains "zzz"');
  eq(await moves(n, [[0, '/"type":"E"']]), [10]);
});

test("matcher specs: text, breakpoints, frames", () => {
  eq(EVENTS.filter(matcher({ parents: [8] })).map((e) => e.seq), [9, 10]);
  eq(EVENTS.filter(matcher({ parents: [-1] })).map((e) => e.seq), [0, 12]);
  eq(EVENTS.filter(matcher({ breaks: [{ node: "?" }] })).map((e) => e.seq), [1, 3, 8, 9, 10, 11]);
});

test("readDocument reads the json export's layout, lines split anywhere", async () => {
  const text = '{"header":{"workflow":"w"},\n"events":[\n{"seq":0},\n{"seq":1}\n],\n"footer":null,\n"summary":{"status":"completed"}}\n';
  for (const cut of [1, 7, 30, 41]) {
    const pieces = [text.slice(0, cut), text.slice(cut)];
    const stream = new ReadableStream({ start(c) { pieces.forEach((p) => c.enqueue(p)); c.close(); } });
    const events = [];
    const doc = await readDocument(stream, (batch) => events.push(...batch));
    eq([doc.header.workflow, doc.events, doc.summary.status, events.map((e) => e.seq)],
      ["w", [], "completed", [0, 1]], `cut at ${cut}`);
  }
});

test("data blocks inflate in order, and leave the page once read", async () => {
  const json = JSON.stringify({ many: Array.from({ length: 3000 }, (_, i) => i) });
  const gz = new Uint8Array(await new Response(new Blob([json]).stream()
    .pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
  const box = document.createElement("div");
  for (let i = 0; i < gz.length; i += 300) {
    const block = document.createElement("script");
    block.type = "application/x-flowtape-gzip";
    block.dataset.part = "t";
    block.textContent = btoa(String.fromCharCode(...gz.subarray(i, i + 300)));
    box.append(block);
  }
  eq((await partJSON("t", box)).many.length, 3000);
  eq(box.children.length, 0);
  let error = "";
  try { partText("missing", box); } catch (err) { error = err.message; }
  eq(error, "this page carries no missing data");
});

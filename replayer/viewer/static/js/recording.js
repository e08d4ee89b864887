// A recording as the page holds it: its spans (from the outline the engine computed,
// replayer/viewer/_outline.py) and its events through a source — all in memory for a
// report (MemorySource), fetched in pages from `flowtape serve` (remote.js).
//
// A source answers: count, get(pos) (undefined until loaded), load(pos, n), posOf(seq),
// find(spec, from, dir), state(pos) -> {state, before}, why(pos, parts) -> pos.

import { StateBook } from "./state.js";

export const START_KINDS = new Set(["workflow_start", "node_start", "team_start",
  "team_member_start", "recursion_enter"]);
export const END_KINDS = new Set(["workflow_complete", "workflow_error", "node_complete",
  "node_error", "team_complete", "team_member_complete", "recursion_exit"]);

export class Spans {
  constructor(outline) {
    const { kinds, nodes, lanes, statuses } = outline;
    this.lastTs = outline.last_ts;
    this.lanes = lanes;
    this.list = outline.spans.map((r) => ({
      start: r[0], end: r[1], t0: r[2], t1: r[3] < 0 ? null : r[3], kind: kinds[r[4]],
      node: nodes[r[5]], status: statuses[r[6]], parent: r[7], attempt: r[8], lane: lanes[r[9]],
      depth: r[10], children: [],
    }));
    this.byStart = new Map(this.list.map((s) => [s.start, s]));
    this.roots = [];
    for (const s of this.list) {
      const up = this.byStart.get(s.parent);
      (up ? up.children : this.roots).push(s);
    }
    this.messages = outline.messages.map(([seq, ts, from, to]) => ({ seq, ts, from, to }));
  }

  get(start) {
    return start === null || start === undefined ? undefined : this.byStart.get(start);
  }

  // The span an event belongs to as a frame: its own for a start, else the enclosing one.
  frameOf(e) {
    return this.get(START_KINDS.has(e.kind) ? e.seq : e.parent);
  }

  // The spans open at event `e`, the root first (the stepper's `where`).
  chain(e) {
    const out = [];
    let s = this.get(START_KINDS.has(e.kind) ? e.seq : END_KINDS.has(e.kind) ? e.span : e.parent);
    while (s && out.length <= this.list.length) {
      out.push(s);
      s = this.get(s.parent);
    }
    return out.reverse();
  }

  end(s) {
    return s.t1 === null ? Math.max(this.lastTs, s.t0) : s.t1;
  }
}

function globRegExp(glob) {
  const body = glob.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body.replace(/\[!/g, "[^")}$`);
}

// An event predicate for a search spec, shared by MemorySource and the tests:
//   {text}: node, kind or payload contains text (smart case);
//   {breaks: [{kind} | {node: glob}]}: any breakpoint matches;
//   {parents: [seq, -1 for none], notNode}: the event sits directly in one of those spans.
export function matcher(spec) {
  if (spec.text !== undefined) {
    const fold = spec.text === spec.text.toLowerCase();
    const needle = spec.text;
    const has = (s) => s !== undefined && s !== null
      && (fold ? String(s).toLowerCase() : String(s)).includes(needle);
    return (e) => has(e.kind) || has(e.node)
      || [e.data, e.state, e.patch].some((v) => v !== undefined && has(JSON.stringify(v)));
  }
  if (spec.breaks) {
    const tests = spec.breaks.map((b) => b.kind !== undefined ? (e) => e.kind === b.kind
      : ((re) => (e) => e.node !== undefined && re.test(e.node))(globRegExp(b.node)));
    return (e) => tests.some((t) => t(e));
  }
  const parents = new Set(spec.parents);
  return (e) => parents.has(e.parent ?? -1) && (spec.notNode === undefined || e.node !== spec.notNode);
}

export class MemorySource {
  // `doc` is the json export's document; `window` (capped reports) says which events it holds.
  constructor(doc, window) {
    this.header = doc.header;
    this.footer = doc.footer;
    this.summary = doc.summary;
    this.events = doc.events;
    this.window = window || null;
    this.count = this.events.length;
    const first = this.count ? this.events[0].seq : 0;
    this.dense = this.count === 0 || this.events[this.count - 1].seq - first === this.count - 1;
    const hasStates = this.events.some((e) => e.kind === "state")
      || (window ? (this.footer?.counts?.states || 0) > 0 : false);
    this.book = new StateBook(this.events, window ? window.state_before : null, hasStates);
    this.live = false;
  }

  get(pos) { return this.events[pos]; }

  async load() {}

  posOf(seq) {
    if (!this.count) return -1;
    if (this.dense) {
      const p = seq - this.events[0].seq;
      return p >= 0 && p < this.count ? p : -1;
    }
    let lo = 0, hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[mid].seq < seq) lo = mid + 1; else hi = mid;
    }
    return lo < this.count && this.events[lo].seq === seq ? lo : -1;
  }

  // The first position after `from` (dir 1) or before it (dir -1) that matches; -1 if none.
  async find(spec, from, dir) {
    const match = matcher(spec);
    for (let p = from + dir; p >= 0 && p < this.count; p += dir) if (match(this.events[p])) return p;
    return -1;
  }

  async state(pos) {
    return { state: this.book.at(pos), before: pos > 0 ? this.book.at(pos - 1) : this.book.base };
  }

  async why(pos, parts) {
    return this.book.why(pos, parts);
  }
}

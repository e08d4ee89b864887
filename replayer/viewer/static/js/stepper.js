// The stepper's commands (SPEC §8) over a source and its spans: where each one moves the
// cursor. The frames are the spans open at the cursor, innermost last. Every command
// returns {pos, note?, error?, why?}; nothing here draws.

import { START_KINDS, END_KINDS, matcher } from "./recording.js";
import { parsePath } from "./format.js";

export const EVENT_KINDS = ["workflow_start", "workflow_complete", "workflow_error", "node_start",
  "node_complete", "node_error", "team_start", "team_complete", "team_member_start",
  "team_member_complete", "team_message", "recursion_enter", "recursion_exit", "state",
  "checkpoint", "custom"];

const ALIASES = {
  step: "s", next: "n", return: "r", until: "unt", cont: "c", continue: "c", jump: "j",
  "reverse-step": "rs", "reverse-next": "rn", "reverse-return": "rr", "reverse-continue": "rc",
  break: "b", clear: "cl",
};

function count(arg) {
  if (!arg) return 1;
  const n = Number(arg);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${JSON.stringify(arg)} is not a count`);
  return n;
}

export class Navigator {
  constructor(source, spans) {
    this.source = source;
    this.spans = spans;
    this.breakpoints = [];
    this.nextBreak = 1;
    this.lastSearch = null;
  }

  posOfSeq(seq) { return this.source.posOf(seq); }

  last() { return this.source.count - 1; }

  async event(pos) {
    await this.source.load(pos, 1);
    return this.source.get(pos);
  }

  // Run one command line at position `pos`.
  async run(line, pos) {
    const text = line.trim();
    if (text.startsWith("/") || text.startsWith("?")) {
      return this.search(text.slice(1) || this.lastSearch, pos, text[0] === "/" ? 1 : -1);
    }
    const [word, ...rest] = text.split(/\s+/);
    const cmd = ALIASES[word] || word;
    const arg = rest.join(" ");
    const e = await this.event(pos);
    if (!e && !["b", "cl"].includes(cmd)) return { pos, error: "the recording has no events here" };
    switch (cmd) {
      case "s": return this.to(pos, Math.min(pos + count(arg), this.last()), "last");
      case "rs": return this.to(pos, Math.max(pos - count(arg), 0), "first");
      case "n": return this.next(e, pos);
      case "rn": return this.reverseNext(e, pos);
      case "r": return this.ret(e, pos);
      case "rr": return this.reverseReturn(e, pos);
      case "unt": return this.until(e, pos, arg);
      case "c": return this.cont(pos, 1);
      case "rc": return this.cont(pos, -1);
      case "j": return this.jump(arg, pos);
      case "b": return this.addBreak(arg || e.node, pos);
      case "cl": return this.clearBreak(arg, pos);
      case "why": return { pos, why: parsePath(arg) };
      default: return { pos, error: `unknown command ${JSON.stringify(word)}; h lists the keys` };
    }
  }

  to(pos, target, end) {
    if (target === pos) return { pos, error: `already at the ${end} event` };
    return { pos: target };
  }

  spanPos(seq, fallback) {
    const p = seq >= 0 ? this.posOfSeq(seq) : -1;
    return p >= 0 ? p : fallback;
  }

  // n: over a span from its start, else to the next event of the current frame.
  async next(e, pos) {
    if (START_KINDS.has(e.kind)) {
      const s = this.spans.get(e.seq);
      return this.to(pos, s ? this.spanPos(s.end, this.last()) : pos + 1, "last");
    }
    const frame = this.spans.get(e.parent);
    const found = await this.source.find({ parents: [e.parent ?? -1] }, pos, 1);
    const end = frame && frame.end >= 0 ? this.spanPos(frame.end, -1) : -1;
    const target = [found, end].filter((p) => p > pos).reduce((a, b) => Math.min(a, b), Infinity);
    return this.to(pos, target === Infinity ? this.last() : target, "last");
  }

  // rn: back over a span from its end, else to the previous event of the current frame.
  async reverseNext(e, pos) {
    if (END_KINDS.has(e.kind) && e.span !== undefined) return this.to(pos, this.spanPos(e.span, 0), "first");
    const frame = this.spans.get(e.parent);
    const found = await this.source.find({ parents: [e.parent ?? -1] }, pos, -1);
    const start = frame ? this.spanPos(frame.start, -1) : -1;
    return this.to(pos, Math.max(found, start, 0), "first");
  }

  // r: to the end event of the innermost open span.
  async ret(e, pos) {
    const frame = this.spans.frameOf(e);
    if (!frame) return { pos, error: "no span is open here" };
    if (frame.end < 0) {
      const note = `${frame.node} never ended in this recording`;
      if (pos === this.last()) return { pos, error: note };
      return { pos: this.last(), note: `${note}; at the last event` };
    }
    const target = this.spanPos(frame.end, this.last());
    if (target <= pos) return { pos, error: `already at the end of ${frame.node}` };
    return { pos: target };
  }

  // rr: to the start event of the innermost span (from a start: of the enclosing one).
  async reverseReturn(e, pos) {
    const frame = this.spans.get(END_KINDS.has(e.kind) ? e.span : e.parent);
    if (!frame) return { pos, error: "no span encloses this event" };
    return this.to(pos, this.spanPos(frame.start, 0), "first");
  }

  // unt SEQ: to the first event past SEQ. unt: to the next event at the same or a
  // shallower frame that is about another node — out of a loop over one node.
  async until(e, pos, arg) {
    if (arg) {
      const seq = Number(arg);
      if (!Number.isInteger(seq)) throw new Error(`${JSON.stringify(arg)} is not an event seq`);
      let p = this.posOfSeq(seq);
      if (p < 0) return { pos, error: `no event has seq ${seq} here` };
      p = Math.max(p + 1, pos + 1);
      return p > this.last() ? { pos, error: "no event after it" } : { pos: p };
    }
    const parents = [-1];
    for (let s = this.spans.get(e.parent); s; s = this.spans.get(s.parent)) parents.push(s.start);
    const found = await this.source.find({ parents, notNode: e.node }, pos, 1);
    return found < 0 ? this.to(pos, this.last(), "last") : { pos: found };
  }

  async cont(pos, dir) {
    const edge = dir > 0 ? this.last() : 0;
    const end = dir > 0 ? "last" : "first";
    if (pos === edge) return { pos, error: `already at the ${end} event` };
    if (!this.breakpoints.length) return { pos: edge, note: `No breakpoint set; at the ${end} event.` };
    const found = await this.source.find({ breaks: this.breakpoints.map((b) => b.spec) }, pos, dir);
    if (found < 0) {
      return { pos: edge, note: `No breakpoint ${dir > 0 ? "after" : "before"} here; at the ${end} event.` };
    }
    const e = await this.event(found);
    const hit = this.breakpoints.filter((b) => b.test(e));
    return { pos: found, note: `breakpoint ${hit.map((b) => b.n).join(", ")} at seq ${e.seq}` };
  }

  async jump(arg, pos) {
    const seq = Number(arg);
    if (!arg || !Number.isInteger(seq)) return { pos, error: "j needs an event seq" };
    const p = seq < 0 ? this.source.count + seq : this.posOfSeq(seq);
    if (p < 0 || p > this.last()) return { pos, error: `no event has seq ${seq} here` };
    return { pos: p };
  }

  async search(text, pos, dir) {
    if (!text) return { pos, error: "search needs the text to look for" };
    this.lastSearch = text;
    let found = await this.source.find({ text }, pos, dir);
    let note;
    if (found < 0) {
      found = await this.source.find({ text }, dir > 0 ? -1 : this.source.count, dir);
      note = `search wrapped to the ${dir > 0 ? "start" : "end"}`;
    }
    if (found < 0 || (found === pos && note)) {
      return { pos, error: `no event contains ${JSON.stringify(text)}` };
    }
    return { pos: found, note };
  }

  addBreak(what, pos) {
    if (!what) return { pos, error: "b needs a node (glob) or an event kind" };
    const existing = this.breakpoints.find((b) => b.what === what);
    if (existing) return this.clearBreak(String(existing.n), pos);
    const byKind = EVENT_KINDS.includes(what);
    const spec = byKind ? { kind: what } : { node: what };
    const b = { n: this.nextBreak++, what, byKind, spec, test: matcher({ breaks: [spec] }) };
    this.breakpoints.push(b);
    return { pos, note: `Breakpoint ${b.n} at ${b.byKind ? "kind" : "node"} ${what}` };
  }

  clearBreak(arg, pos) {
    const gone = arg ? this.breakpoints.filter((b) => String(b.n) === arg || b.what === arg)
      : this.breakpoints.slice();
    if (!gone.length) return { pos, error: `no breakpoint ${JSON.stringify(arg)}` };
    this.breakpoints = this.breakpoints.filter((b) => !gone.includes(b));
    const numbers = gone.map((b) => b.n).join(", ");
    return { pos, note: `Deleted breakpoint${gone.length === 1 ? "" : "s"} ${numbers}` };
  }

  isBreak(e) {
    return this.breakpoints.some((b) => b.test(e));
  }
}

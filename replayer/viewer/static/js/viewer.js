// The recording viewer: header, timeline, tree, event list and inspector around one
// cursor, driven by the stepper's keys (SPEC §8) and by `#seq=N` in the address.
// The same viewer serves a report (a MemorySource) and `flowtape serve` (RemoteSource).

import { clear, el, fill } from "./dom.js";
import { fmtNs, plural, printable } from "./format.js";
import { EventList } from "./events.js";
import { Inspector } from "./inspector.js";
import { Navigator } from "./stepper.js";
import { Timeline } from "./timeline.js";
import { Tree } from "./tree.js";

// Keys and what they run; Shift gives the reverse form (pdb's keys, gdb's reverse ones).
export const KEYS = {
  s: "s", n: "n", r: "r", u: "unt", c: "c", S: "rs", N: "rn", R: "rr", C: "rc", b: "b",
  ArrowDown: "s", ArrowUp: "rs", ArrowRight: "n", ArrowLeft: "rn",
};
// Keys that open the command line with something typed already.
const PROMPTS = { j: "j ", "/": "/", "?": "?", ":": "" };

export const HELP = [
  ["s / ↓", "step: the next event (into spans)"], ["S / ↑", "rs: the previous event"],
  ["n / →", "next: over a span from its start, else the next event of this frame"],
  ["N / ←", "rn: the same, backwards"], ["r", "return: to the end of the innermost span"],
  ["R", "rr: to the start of the innermost span"],
  ["u", "until: the next event at this level or above about another node (out of a loop)"],
  ["c / C", "continue / rc: to the next / previous breakpoint"],
  ["b", "breakpoint on the node at the cursor (again: remove it)"],
  ["j", "jump: type a seq"], ["/ and ?", "search forward / backward (node, kind, data)"],
  [":", "any stepper command: s 5, unt 120, b fetch_*, b node_error, cl, why cart.total"],
  ["Home / End", "first / last event"], ["+ - 0", "zoom the timeline in / out / to fit"],
  ["g", "collapse idle gaps in the timeline"], ["click a state key", "why: the event that set it"],
  ["h", "this help (Esc closes it)"],
];

export class Viewer {
  constructor(root, { source, spans, firstError = null, window = null }) {
    this.source = source;
    this.spans = spans;
    this.window = window;
    this.nav = new Navigator(source, spans);
    this.pos = 0;
    this.wanted = new Set();
    this.build(root);
    this.timeline = new Timeline(this.parts.timeline, this);
    this.tree = new Tree(this.parts.tree, this);
    this.events = new EventList(this.parts.events, this);
    this.inspector = new Inspector(this.parts.inspector, this);
    document.addEventListener("keydown", (ev) => this.key(ev));
    addEventListener("hashchange", () => this.fromHash());
    this.events.draw();
    this.opened = null;
    if (!this.fromHash()) {
      const at = firstError === null ? 0 : source.posOf(firstError);
      this.opened = this.go(Math.max(0, at), { hash: false });
      if (firstError !== null) this.say(`Opened at the first error (seq ${firstError}).`);
    }
  }

  build(root) {
    const { header: h, summary: s } = this.source;
    document.title = `${h.workflow} · flowtape`;
    const p = this.parts = {
      timeline: el("div", { class: "pane timeline-pane" }),
      tree: el("div", { class: "pane tree", tabindex: -1 }),
      events: el("div", { class: "pane events", tabindex: -1 }),
      inspector: el("div", { class: "pane inspector" }),
      status: el("div", { class: "statusline", role: "status" }),
      prompt: el("input", {
        class: "prompt", type: "text", spellcheck: "false", autocomplete: "off", "aria-label": "command",
      }),
      help: el("div", { class: "help hidden" }, el("h2", {}, "Keys"),
        el("table", {}, ...HELP.map(([k, d]) => el("tr", {}, el("th", {}, k), el("td", {}, d))))),
      count: el("span", { class: "count" }),
      badge: el("span", { class: `badge status-${s.status}` }, s.status),
    };
    p.prompt.addEventListener("keydown", (ev) => this.promptKey(ev));
    const button = (label, title, fn) => el("button", { title, on: { click: fn } }, label);
    fill(root, ...[
      el("header", { class: "top" },
        el("h1", {}, printable(h.workflow)), p.badge,
        el("span", { class: "rid" }, h.recording_id), p.count,
        el("span", { class: "dur" }, fmtNs(s.duration_ns)),
        el("span", { class: "tools" },
          button("−", "zoom out (-)", () => this.timeline.zoom(0.8)),
          button("+", "zoom in (+)", () => this.timeline.zoom(1.25)),
          button("fit", "fit the run (0)", () => this.timeline.fit()),
          button("gaps", "collapse idle gaps (g)", () => this.toggleGaps()),
          button("keys", "keys (h)", () => this.toggleHelp()))),
      this.notice(),
      p.timeline,
      el("div", { class: "panes" }, p.tree, p.events, p.inspector),
      el("footer", {}, p.prompt, p.status), p.help]);
    this.updateCount();
  }

  notice() {
    const w = this.window;
    if (!w) return null;
    const last = w.first + w.count - 1;
    const n = (x) => x.toLocaleString("en");
    return el("p", { class: "notice" },
      `This file holds events ${n(w.first)}–${n(last)} of ${plural(w.total, "event")}: `,
      `${plural(w.first, "event")} before and ${plural(w.total - last - 1, "event")} after `,
      "were left out (every span is kept). Export with a higher max_events, or open it with ",
      "`flowtape serve`, to see them all.");
  }

  updateCount() {
    const s = this.source;
    const total = plural(s.window ? s.window.total : s.count, "event");
    this.parts.count.textContent = s.live ? `${total} · recording…` : total;
    document.body.dataset.events = s.count;
    this.parts.badge.textContent = s.summary.status;
    this.parts.badge.setAttribute("class", `badge status-${s.summary.status}`);
  }

  // The spans arrived (serve reads them after the first page of events is shown).
  setSpans(spans, firstError = null) {
    performance.mark("flowtape:spans");
    this.spans = this.nav.spans = spans;
    this.timeline = new Timeline(clear(this.parts.timeline), this);
    this.tree = new Tree(clear(this.parts.tree), this);
    const at = firstError === null ? -1 : this.source.posOf(firstError);
    if (at >= 0 && !this.moved) {
      this.go(at, { hash: false });
      this.say(`Opened at the first error (seq ${firstError}).`);
    } else {
      this.go(this.pos, { hash: false });
      if (!this.moved) this.say("");
    }
  }

  current() { return this.source.get(this.pos); }

  say(text, error = false) {
    this.parts.status.textContent = text;
    this.parts.status.classList.toggle("error", error);
  }

  // Rows a remote source has not sent yet: ask once, draw the list again when they come.
  want(i) {
    const page = Math.floor(i / 200) * 200;
    if (this.wanted.has(page)) return;
    this.wanted.add(page);
    this.source.load(page, 200).then(() => { this.wanted.delete(page); this.events.list.draw(); },
      (err) => this.say(String(err.message || err), true));
  }

  fromHash() {
    const m = /^#seq=(-?\d+)$/.exec(location.hash);
    if (!m) return false;
    const p = this.source.posOf(Number(m[1]));
    if (p < 0) {
      this.say(`seq ${m[1]} is not in this file`, true);
      return false;
    }
    this.moved = true;
    this.opened = this.go(p, { hash: false });
    return true;
  }

  goSeq(seq) {
    const p = this.source.posOf(seq);
    if (p < 0) this.say(`seq ${seq} is not in this file (it was left out)`, true);
    else this.go(p);
  }

  async go(pos, { hash = true } = {}) {
    this.pos = Math.max(0, Math.min(pos, this.source.count - 1));
    if (hash) this.moved = true;
    const ticket = this.ticket = {};
    await this.source.load(this.pos, 1);
    const e = this.current();
    if (ticket !== this.ticket) return;
    if (e && hash) history.replaceState(null, "", `#seq=${e.seq}`);
    this.events.reveal(this.pos);
    const frames = e ? this.spans.chain(e) : [];
    this.tree.select(frames.at(-1));
    if (e) this.timeline.follow(e.ts); else this.timeline.draw();
    const { state, before } = e ? await this.source.state(this.pos) : {};
    if (ticket !== this.ticket) return;
    this.inspector.show({ event: e, pos: this.pos, frames, state, before, window: this.window });
    document.body.dataset.seq = e ? e.seq : "";
    if (!this.shown) {  // for benchmarks/viewer_bench.py: when the page first answers keys
      this.shown = true;
      performance.mark("flowtape:interactive");
    }
  }

  async command(line) {
    try {
      const r = await this.nav.run(line, this.pos);
      if (r.error) this.say(r.error, true);
      else this.say(r.note || "");
      if (r.why) await this.why(r.why);
      else if (r.pos !== this.pos) await this.go(r.pos);
      else this.events.list.draw();
    } catch (err) {
      this.say(String(err.message || err), true);
    }
  }

  async why(parts) {
    const at = await this.source.why(this.pos, parts);
    if (at < 0) { this.inspector.showWhy(parts, null, null); return; }
    await this.source.load(at, 1);
    this.inspector.showWhy(parts, at, this.source.get(at));
  }

  toggleGaps() {
    this.say(this.timeline.toggleGaps() ? "Idle gaps collapsed (g shows them again)." : "Idle gaps shown.");
  }

  toggleHelp(show) {
    this.parts.help.classList.toggle("hidden", show === undefined ? undefined : !show);
  }

  openPrompt(text) {
    const p = this.parts.prompt;
    p.value = text;
    p.classList.add("open");
    p.focus();
  }

  promptKey(ev) {
    ev.stopPropagation();
    if (ev.key === "Escape") { this.parts.prompt.classList.remove("open"); this.parts.prompt.blur(); }
    if (ev.key !== "Enter") return;
    const line = this.parts.prompt.value;
    this.parts.prompt.classList.remove("open");
    this.parts.prompt.blur();
    if (line.trim()) this.command(line);
  }

  key(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.target === this.parts.prompt) return;
    const k = ev.key;
    const last = this.source.count - 1;
    const moves = {
      Home: () => this.go(0), End: () => this.go(last),
      PageDown: () => this.go(this.pos + this.events.list.visible()),
      PageUp: () => this.go(this.pos - this.events.list.visible()),
      "+": () => this.timeline.zoom(1.25), "=": () => this.timeline.zoom(1.25),
      "-": () => this.timeline.zoom(0.8), 0: () => this.timeline.fit(), g: () => this.toggleGaps(),
      h: () => this.toggleHelp(), Escape: () => this.toggleHelp(false),
    };
    if (k in PROMPTS) this.openPrompt(PROMPTS[k]);
    else if (k in KEYS) this.command(KEYS[k]);
    else if (k in moves) moves[k]();
    else return;
    ev.preventDefault();
  }
}

// The timeline: one band per lane (thread or asyncio task), spans as bars coloured by
// status, nested spans one row lower, retries labelled with their attempt, team messages
// as arrows from the sender's bar to the receiver's. Zoom with the wheel or + / -, pan
// by dragging, Shift+wheel or a sideways swipe, 0 fits; g collapses idle gaps (stretches
// where nothing starts or ends).
// Only what is in view is drawn, and bars thinner than a pixel merge into one, so the
// number of SVG elements follows the screen, not the recording.

import { svg, el, clear } from "./dom.js";
import { fmtNs } from "./format.js";

const ROW = 20, GUTTER = 140, RIGHT = 8, AXIS = 22, MIN_BAR = 2, MAX_ARROWS = 4000;
const RANK = { completed: 1, running: 2, incomplete: 2, cancelled: 3, timed_out: 3, failed: 4 };

export class Timeline {
  constructor(root, app) {
    this.app = app;
    this.spans = app.spans;
    this.collapse = false;
    this.axis = svg("svg", { class: "tl-axis" });
    this.svg = svg("svg", { class: "timeline" });
    this.box = el("div", { class: "tl-scroll" }, this.svg);
    root.append(this.axis, this.box);
    this.layout();
    this.gaps = this.findGaps();
    this.fit();
    this.svg.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      // Shift+wheel pans, and so does a sideways swipe (a trackpad's, a tilting wheel's).
      const sideways = Math.abs(ev.deltaX) > Math.abs(ev.deltaY);
      if (ev.shiftKey || sideways) this.pan(sideways ? ev.deltaX : ev.deltaY);
      else this.zoom(ev.deltaY < 0 ? 1.25 : 0.8, ev.clientX - this.svg.getBoundingClientRect().left);
    }, { passive: false });
    this.svg.addEventListener("pointerdown", (ev) => this.drag(ev));
    this.box.addEventListener("scroll", () => this.draw());
    new ResizeObserver(() => this.draw()).observe(root);
  }

  // Rows: per lane, a span goes one row below its parent (same lane), or lower while
  // that row is busy, so bars in a row never overlap and stay sorted by time.
  layout() {
    const lanes = new Map(), rowOf = new Map();
    for (const s of this.spans.list) {
      let lane = lanes.get(s.lane);
      if (!lane) lanes.set(s.lane, lane = { name: s.lane, rows: [], ends: [] });
      const up = rowOf.get(s.parent);
      let r = up && up.lane === lane ? up.r + 1 : 0;
      while (r < lane.rows.length && lane.ends[r] > s.t0) r++;
      if (r === lane.rows.length) { lane.rows.push([]); lane.ends.push(-Infinity); }
      lane.rows[r].push(s);
      lane.ends[r] = Math.max(lane.ends[r], this.spans.end(s));
      rowOf.set(s.start, { lane, r });
    }
    this.rows = [];
    this.rowIndex = new Map();
    for (const lane of lanes.values()) {
      lane.rows.forEach((list, r) => {
        for (const s of list) this.rowIndex.set(s.start, this.rows.length);
        this.rows.push({ label: r === 0 ? lane.name || "(main)" : "", list, first: r === 0 });
      });
    }
    this.total = Math.max(1, this.spans.lastTs);
    for (const s of this.spans.list) this.total = Math.max(this.total, this.spans.end(s));
  }

  // Stretches longer than 4% of the run in which no span starts or ends and no message is sent.
  findGaps() {
    const points = new Float64Array(this.spans.list.length * 2 + this.spans.messages.length + 2);
    let k = 0;
    for (const s of this.spans.list) { points[k++] = s.t0; points[k++] = this.spans.end(s); }
    for (const m of this.spans.messages) points[k++] = m.ts;
    points[k++] = 0;
    points[k++] = this.total;
    points.sort();
    const gaps = [], min = this.total * 0.04;
    for (let i = 1; i < points.length; i++) {
      if (points[i] - points[i - 1] > min) gaps.push({ a: points[i - 1], b: points[i] });
    }
    return gaps;
  }

  // Real time -> drawn time (collapsed gaps keep 1% of the run each), and back.
  shown(t) {
    if (!this.collapse) return t;
    const keep = this.total * 0.01;
    let removed = 0;
    for (const g of this.gaps) {
      if (t >= g.b) removed += g.b - g.a - keep;
      else if (t > g.a) removed += (t - g.a) * (1 - keep / (g.b - g.a));
      else break;
    }
    return t - removed;
  }

  real(d) {
    if (!this.collapse) return d;
    let lo = 0, hi = this.total;
    for (let i = 0; i < 50; i++) {
      const mid = (lo + hi) / 2;
      if (this.shown(mid) < d) lo = mid; else hi = mid;
    }
    return hi;
  }

  // Read once per draw: reading layout between DOM writes would force a reflow each time.
  width() { return Math.max(200, this.box.clientWidth); }

  // Pixels the shown time range spans: x, the axis, zoom and pan all scale by it, so a
  // drag moves the bars as far as the pointer and a zoom keeps the moment under it.
  plot(w = this.width()) { return w - GUTTER - RIGHT; }

  x(t) {
    return GUTTER + (this.shown(t) - this.v0) / (this.v1 - this.v0) * this.plot(this.w);
  }

  fit() {
    this.v0 = 0;
    this.v1 = Math.max(1, this.shown(this.total));
    this.draw();
  }

  toggleGaps() {
    this.collapse = !this.collapse;
    this.fit();
    return this.collapse;
  }

  zoom(factor, px = GUTTER + this.plot() / 2) {
    const span = this.v1 - this.v0;
    const at = this.v0 + Math.max(0, px - GUTTER) / this.plot() * span;
    const next = Math.max(span / factor, 1000);
    this.v0 = at - (at - this.v0) / span * next;
    this.v1 = this.v0 + next;
    this.draw();
  }

  pan(px) {
    const d = px / this.plot() * (this.v1 - this.v0);
    this.v0 += d;
    this.v1 += d;
    this.draw();
  }

  drag(ev) {
    const start = ev.clientX;
    const bar = ev.target.closest("[data-start]");
    let last = start;
    this.svg.setPointerCapture(ev.pointerId);
    const move = (e) => { this.pan(last - e.clientX); last = e.clientX; };
    const up = (e) => {
      this.svg.removeEventListener("pointermove", move);
      this.svg.removeEventListener("pointerup", up);
      if (Math.abs(e.clientX - start) < 3 && bar) this.app.goSeq(Number(bar.dataset.start));
    };
    this.svg.addEventListener("pointermove", move);
    this.svg.addEventListener("pointerup", up);
  }

  // Centre the cursor's moment when it is out of view.
  follow(ts) {
    const d = this.shown(ts);
    if (d < this.v0 || d > this.v1) {
      const half = (this.v1 - this.v0) / 2;
      this.v0 = d - half;
      this.v1 = d + half;
    }
    this.draw();
  }

  drawAxis(w) {
    clear(this.axis);
    this.axis.setAttribute("width", w);
    this.axis.setAttribute("height", AXIS);
    const ticks = Math.max(2, Math.floor((w - GUTTER) / 110));
    for (let i = 0; i <= ticks; i++) {
      const x = GUTTER + i * this.plot(w) / ticks;
      const t = this.real(this.v0 + i * (this.v1 - this.v0) / ticks);
      this.axis.append(svg("line", { class: "tick", x1: x, x2: x, y1: AXIS - 6, y2: AXIS }),
        svg("text", { x: x + 2, y: AXIS - 8, class: "tick-label" }, fmtNs(Math.round(t))));
    }
  }

  draw() {
    if (!this.rows) return;
    const w = this.w = this.width(), h = this.rows.length * ROW;
    this.drawAxis(w);
    const root = this.svg;
    clear(root);
    root.setAttribute("width", w);
    root.setAttribute("height", h);
    root.append(svg("defs", {}, svg("marker", {
      id: "ft-arrow", viewBox: "0 0 6 6", refX: 6, refY: 3, markerWidth: 6, markerHeight: 6,
      orient: "auto-start-reverse",
    }, svg("path", { d: "M0,0 L6,3 L0,6 z", class: "arrow-head" }))));
    const top = Math.max(0, Math.floor(this.box.scrollTop / ROW) - 1);
    const seen = this.box.scrollTop + this.box.clientHeight;
    const bottom = Math.min(this.rows.length, Math.ceil(seen / ROW) + 1);
    const r0 = this.real(this.v0), r1 = this.real(this.v1);
    const cursor = this.app.current();
    const inner = cursor ? this.spans.chain(cursor).at(-1) : null;
    if (this.collapse) this.drawGaps(root, r0, r1, h);
    for (let i = top; i < bottom; i++) this.drawRow(root, i, r0, r1, inner);
    this.drawMessages(root, r0, r1, top, bottom);
    if (cursor) {
      const x = this.x(cursor.ts);
      root.append(svg("line", { class: "cursor", x1: x, x2: x, y1: 0, y2: h }));
    }
  }

  drawGaps(root, r0, r1, h) {
    for (const g of this.gaps) {
      if (g.b < r0 || g.a > r1) continue;
      const x0 = this.x(g.a), x1 = this.x(g.b);
      root.append(svg("rect", { class: "gap", x: x0, y: 0, width: Math.max(1, x1 - x0), height: h },
        svg("title", {}, `idle ${fmtNs(g.b - g.a)} (collapsed)`)));
    }
  }

  drawRow(root, i, r0, r1, inner) {
    const { label, list, first } = this.rows[i];
    const y = i * ROW;
    if (first) root.append(svg("line", { class: "lane-rule", x1: 0, x2: this.w, y1: y, y2: y }));
    if (label) root.append(svg("text", { class: "lane", x: 4, y: y + 14 }, label.slice(0, 20)));
    let lo = 0, hi = list.length;  // first span ending at or after r0 (a row's ends are sorted)
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.spans.end(list[mid]) < r0) lo = mid + 1; else hi = mid;
    }
    let merged = null;
    for (let k = lo; k < list.length && list[k].t0 <= r1; k++) {
      const s = list[k];
      const x0 = Math.max(GUTTER, this.x(s.t0));
      const x1 = Math.max(x0 + MIN_BAR, Math.min(this.w, this.x(this.spans.end(s))));
      if (merged && x0 < merged.x1 + 1 && x1 - x0 < 3) {  // under a pixel: one bar for many
        merged.x1 = Math.max(merged.x1, x1);
        merged.n += 1;
        if (RANK[s.status] > RANK[merged.status]) merged.status = s.status;
        continue;
      }
      if (merged && merged.n > 1) this.sizeMerged(merged);
      merged = this.bar(root, s, x0, x1, y, s === inner);
    }
    if (merged && merged.n > 1) this.sizeMerged(merged);
  }

  bar(root, s, x0, x1, y, current) {
    const name = s.attempt > 1 ? `${s.node} #${s.attempt}` : s.node;
    const dur = s.t1 === null ? "still running" : fmtNs(s.t1 - s.t0);
    const rect = svg("rect", {
      class: ["bar", `kind-${s.kind}`, `status-${s.status}`, s.attempt > 1 ? "retry" : "",
        current ? "current" : ""].join(" ").trim(),
      x: x0, y: y + 3, width: x1 - x0, height: ROW - 6, rx: 2, data: { start: s.start },
    }, svg("title", {}, `${name} · ${s.kind} · ${s.status} · ${dur}`));
    root.append(rect);
    const chars = Math.floor((x1 - x0 - 6) / 6.5);
    if (chars >= 3) {
      root.append(svg("text", { class: "bar-label", x: x0 + 3, y: y + 14, data: { start: s.start } },
        name.length <= chars ? name : name.slice(0, chars - 1) + "…"));
    }
    return { rect, x1, n: 1, status: s.status, x0 };
  }

  sizeMerged(m) {
    m.rect.setAttribute("width", m.x1 - m.x0);
    m.rect.setAttribute("class", `bar merged status-${m.status}`);
    m.rect.dataset.count = m.n;
    m.rect.firstChild.textContent = `${m.n} spans (zoom in to see each)`;
  }

  drawMessages(root, r0, r1, top, bottom) {
    let drawn = 0;
    for (const m of this.spans.messages) {
      if (m.ts < r0 || m.ts > r1) continue;
      const a = this.rowIndex.get(m.from), b = this.rowIndex.get(m.to);
      if (a === undefined || b === undefined || a === b) continue;
      if (Math.max(a, b) < top || Math.min(a, b) > bottom) continue;
      const x = this.x(m.ts);
      const down = b > a ? 1 : -1;
      root.append(svg("line", {
        class: "msg", x1: x, x2: x + 6, y1: a * ROW + ROW / 2 + down * 4, y2: b * ROW + ROW / 2 - down * 4,
        "marker-end": "url(#ft-arrow)", data: { seq: m.seq },
      }));
      if (++drawn >= MAX_ARROWS) break;
    }
  }
}

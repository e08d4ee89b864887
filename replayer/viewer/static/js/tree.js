// The nesting tree: workflow, teams (drawn as groups of their members), members, nodes and
// recursion levels, each with status, attempt and duration. Only expanded spans are
// listed and only the rows on screen are drawn, so 400 000 spans cost what 40 do.

import { el } from "./dom.js";
import { fmtNs } from "./format.js";
import { VirtualList } from "./vlist.js";

const OPEN_LEVELS = 2;  // spans this shallow start expanded

export class Tree {
  constructor(root, app) {
    this.app = app;
    this.open = new Set();
    this.current = null;
    const visit = (s, level) => {
      if (level < OPEN_LEVELS && s.children.length) this.open.add(s.start);
      if (level + 1 < OPEN_LEVELS) for (const c of s.children) visit(c, level + 1);
    };
    for (const r of app.spans.roots) visit(r, 0);
    this.list = new VirtualList(root, { render: (i) => this.row(i) });
    this.flatten();
  }

  flatten() {
    const rows = [];
    const walk = (s, level) => {
      rows.push({ s, level });
      if (this.open.has(s.start)) for (const c of s.children) walk(c, level + 1);
    };
    for (const r of this.app.spans.roots) walk(r, 0);
    this.rows = rows;
    this.list.setCount(rows.length);
  }

  toggle(s) {
    if (this.open.has(s.start)) this.open.delete(s.start); else this.open.add(s.start);
    this.flatten();
  }

  row(i) {
    const { s, level } = this.rows[i];
    const has = s.children.length > 0;
    const duration = s.t1 === null ? "running" : fmtNs(s.t1 - s.t0);
    return el("div", {
      class: `row span kind-${s.kind} status-${s.status}${s === this.current ? " current" : ""}`,
      data: { start: s.start },
      on: { click: () => this.app.goSeq(s.start) },
    },
    el("span", { class: "indent" }, "  ".repeat(Math.min(level, 16))),
    el("span", {
      class: has ? "toggle" : "toggle none",
      on: { click: (ev) => { ev.stopPropagation(); if (has) this.toggle(s); } },
    }, has ? (this.open.has(s.start) ? "▾" : "▸") : "·"),
    el("span", { class: "badge" }, s.kind === "team" ? "team" : s.kind[0]),
    el("span", { class: "node" }, s.node),
    s.attempt > 1 ? el("span", { class: "attempt" }, `attempt ${s.attempt}`) : null,
    el("span", { class: "dur" }, duration),
    has && !this.open.has(s.start) ? el("span", { class: "count" }, `(${s.children.length})`) : null);
  }

  // Mark the innermost span at the cursor, opening its ancestors and scrolling to it.
  select(span) {
    this.current = span || null;
    if (span) {
      let changed = false;
      for (let p = this.app.spans.get(span.parent); p; p = this.app.spans.get(p.parent)) {
        if (!this.open.has(p.start)) { this.open.add(p.start); changed = true; }
      }
      if (changed) this.flatten();
      const i = this.rows.findIndex((r) => r.s === span);
      if (i >= 0) this.list.reveal(i);
    }
    this.list.draw();
  }
}

// The event list: one row per event (seq, nesting, kind, node, what it says), the cursor
// row marked, breakpoints flagged; windowed by VirtualList. Rows of a remote source that
// have not arrived yet show as "…" and are drawn again when they do.

import { el } from "./dom.js";
import { fmtNs, preview } from "./format.js";
import { END_KINDS } from "./recording.js";
import { VirtualList } from "./vlist.js";

export function errorLine(error) {
  if (!error || typeof error !== "object") return error === undefined ? "" : preview(error);
  return error.message ? `${error.type || "error"}: ${error.message}` : String(error.type || "error");
}

// What an event says, in one short line.
export function describe(e) {
  const d = e.data && typeof e.data === "object" ? e.data : {};
  switch (e.kind) {
    case "node_start": return "inputs" in d ? preview(d.inputs) : "";
    case "node_complete": case "workflow_complete": case "team_complete":
      return d.success === false ? "did not succeed" : "outputs" in d ? preview(d.outputs) : "";
    case "node_error": case "workflow_error": return errorLine(d.error);
    case "team_message": return `${d.from} → ${d.to}: ${preview(d.message, 60)}`;
    case "team_start": return `${d.formation || "team"} of ${d.member_count ?? "?"}`;
    case "team_member_start": return d.role ? `${d.role} in ${d.team}` : d.team || "";
    case "recursion_enter": return `${d.operation || ""} (depth ${e.depth || 0})`;
    case "state": return e.state !== undefined && e.state !== null ? "snapshot"
      : `patch: ${(e.patch || []).length} op${(e.patch || []).length === 1 ? "" : "s"}`;
    case "checkpoint": case "custom":
      return `${d.name ?? ""}${"value" in d ? " " + preview(d.value, 60) : ""}`;
    default: return e.data === undefined ? "" : preview(e.data);
  }
}

export class EventList {
  // `app` gives source, spans, nav, pos and go(pos).
  constructor(root, app) {
    this.app = app;
    this.list = new VirtualList(root, { render: (i) => this.row(i) });
  }

  row(i) {
    const { source, spans, nav } = this.app;
    const e = source.get(i);
    if (!e) {
      this.app.want(i);
      return el("div", { class: "row pending" }, "…");
    }
    const depth = Math.max(0, spans.chain(e).length - 1);
    let duration = "";
    if (END_KINDS.has(e.kind)) {
      const s = spans.get(e.span);
      if (s && s.t1 !== null) duration = fmtNs(s.t1 - s.t0);
    }
    const failed = e.kind.endsWith("_error");
    return el("div", {
      class: `row kind-${e.kind}${i === this.app.pos ? " cursor" : ""}${failed ? " failed" : ""}`,
      data: { pos: i, seq: e.seq },
      on: { click: () => this.app.go(i) },
    },
    el("span", { class: "mark" }, nav.isBreak(e) ? "●" : "", i === this.app.pos ? "▶" : ""),
    el("span", { class: "seq" }, e.seq),
    el("span", { class: "indent" }, "  ".repeat(Math.min(depth, 12))),
    el("span", { class: "kind" }, e.kind),
    el("span", { class: "node" }, e.node ?? ""),
    e.attempt > 1 ? el("span", { class: "attempt" }, `#${e.attempt}`) : null,
    el("span", { class: "dur" }, duration),
    el("span", { class: "detail" }, describe(e)));
  }

  draw() {
    this.list.setCount(this.app.source.count);
  }

  reveal(pos) {
    this.list.reveal(pos);
    this.list.draw();
  }
}

// Two recordings side by side under `flowtape serve`, from the §6 diff the server runs
// (`replayer.diff(a, b).to_dict()`): the verdict, the first divergence, the aligned steps
// (A left, B right, value changes highlighted), state, timing and run-level differences.

import { el, fill, link } from "./dom.js";
import { fmtNs, preview, printable } from "./format.js";
import { api } from "./remote.js";

function value(side, v, present) {
  return el("span", { class: side }, present ? preview(v, 160) : "(absent)");
}

function change(c) {
  return el("li", { class: "change" }, el("code", {}, printable(c.path)), ": ",
    value("was", c.a, "a" in c), " → ", value("now", c.b, "b" in c));
}

function sideCell(id, seq, node) {
  if (seq === null || seq === undefined) return el("td", { class: "missing" }, "—");
  return el("td", {}, link(`/r/${encodeURIComponent(id)}#seq=${seq}`, {}, printable(node)), el("span", { class: "seq" }, ` seq ${seq}`));
}

export async function comparePage(root) {
  const q = new URLSearchParams(location.search);
  const a = q.get("a") || "", b = q.get("b") || "";
  const body = await api("/api/compare", { a, b });
  const d = body.diff;
  const [ra, rb] = [body.a, body.b];
  document.title = `${ra.workflow} · compare · flowtape`;
  const verdict = d.regression ? `regression: ${body.reasons.join("; ")}` : d.identical ? "identical" : "different, no regression";
  const onlyDiff = el("input", { type: "checkbox", on: { change: () => rows.classList.toggle("only-diff", onlyDiff.checked) } });
  onlyDiff.checked = true;
  const rows = el("tbody", { class: "only-diff" }, ...d.steps.map((s) => el("tr", { class: `op-${s.op}`, data: { node: s.node } },
    el("td", { class: "op" }, s.op.replaceAll("_", " ")),
    sideCell(ra.recording_id, s.a, s.node), sideCell(rb.recording_id, s.b, s.node),
    el("td", {}, s.changes.length ? el("ul", { class: "changes" }, ...s.changes.map(change)) : ""))));
  const fd = d.first_divergence;
  const list = (title, items, fn) => items.length
    ? el("section", {}, el("h2", {}, title), el("ul", { class: "changes" }, ...items.map(fn))) : null;
  fill(root, 
    el("header", { class: "top" }, link("/", {}, "recordings"), el("h1", {}, "compare")),
    el("table", { class: "pair" }, el("tr", {}, el("th", {}, "A"), el("td", {}, link(`/r/${encodeURIComponent(ra.recording_id)}`, {}, ra.recording_id), ` ${printable(ra.workflow)} · ${ra.status}`)),
      el("tr", {}, el("th", {}, "B"), el("td", {}, link(`/r/${encodeURIComponent(rb.recording_id)}`, {}, rb.recording_id), ` ${printable(rb.workflow)} · ${rb.status}`))),
    el("p", { class: `verdict ${d.regression ? "bad" : "good"}` }, verdict),
    fd ? el("p", { class: "divergence" }, `First divergence at step ${fd.position}: A ${fd.a ? `${printable(fd.a.node)} (seq ${fd.a.seq})` : "—"}, B ${fd.b ? `${printable(fd.b.node)} (seq ${fd.b.seq})` : "—"}`) : null,
    el("label", { class: "toggle" }, onlyDiff, " only the steps that differ"),
    el("table", { class: "steps" }, el("thead", {}, el("tr", {}, el("th", {}, "step"), el("th", {}, "A"), el("th", {}, "B"), el("th", {}, "changes"))), rows),
    list("State at the end", d.state_changes.at_end, change),
    list("Slower", d.timing_regressions, (t) => el("li", {}, `${printable(t.node)}: ${fmtNs(t.a_ns)} → ${fmtNs(t.b_ns)} (×${t.ratio.toFixed(2)})`)),
    list("Run", Object.entries(d.metadata).filter(([, v]) => JSON.stringify(v.a) !== JSON.stringify(v.b)),
      ([k, v]) => el("li", {}, `${k}: `, ...(k === "duration_ns"
        ? [el("span", { class: "was" }, fmtNs(v.a)), " → ", el("span", { class: "now" }, fmtNs(v.b))]
        : [value("was", v.a, true), " → ", value("now", v.b, true)]))));
  return { diff: d };
}

// Two recordings side by side under `flowtape serve`, from the §6 diff the server runs
// (`replayer.diff(a, b).to_dict()`): the verdict, the first divergence, the aligned steps
// (A left, B right, value changes highlighted), state, timing and run-level differences.

import { el, fill, link } from "./dom.js";
import { fmtNs, preview, printable } from "./format.js";
import { api } from "./remote.js";

function side(cls, text) {
  return el("span", { class: cls }, text);
}

// `path: old → new`; a side the value is absent from says so.
function change(c) {
  return el("li", { class: "change" }, el("code", {}, printable(c.path)), ": ",
    side("was", "a" in c ? preview(c.a, 160) : "(absent)"), " → ",
    side("now", "b" in c ? preview(c.b, 160) : "(absent)"));
}

function recordingLink(id, seq) {
  const anchor = seq === undefined ? "" : `#seq=${seq}`;
  return link(`/r/${encodeURIComponent(id)}${anchor}`, {}, seq === undefined ? id : `seq ${seq}`);
}

function stepCell(id, seq, node) {
  if (seq === null || seq === undefined) return el("td", { class: "missing" }, "—");
  return el("td", {}, el("span", { class: "node" }, printable(node)), " ", recordingLink(id, seq));
}

function who(label, r) {
  return el("tr", {}, el("th", {}, label),
    el("td", {}, recordingLink(r.recording_id), ` ${printable(r.workflow)} · ${r.status}`));
}

function sideOf(d) {
  return d ? `${printable(d.node)} (seq ${d.seq})` : "—";
}

function section(title, items, show) {
  if (!items.length) return null;
  return el("section", {}, el("h2", {}, title), el("ul", { class: "changes" }, ...items.map(show)));
}

function runChange([key, v]) {
  const show = key === "duration_ns" ? fmtNs : (x) => preview(x, 60);
  return el("li", {}, `${key}: `, side("was", show(v.a)), " → ", side("now", show(v.b)));
}

export async function comparePage(root) {
  const q = new URLSearchParams(location.search);
  const body = await api("/api/compare", { a: q.get("a") || "", b: q.get("b") || "" });
  const { diff: d, a, b } = body;
  document.title = `${a.workflow} · compare · flowtape`;
  const verdict = d.regression ? `regression: ${body.reasons.join("; ")}`
    : d.identical ? "identical" : "different, no regression";
  const rows = el("tbody", { class: "only-diff" }, ...d.steps.map((s) =>
    el("tr", { class: `op-${s.op}`, data: { node: s.node } },
      el("td", { class: "op" }, s.op.replaceAll("_", " ")),
      stepCell(a.recording_id, s.a, s.node), stepCell(b.recording_id, s.b, s.node),
      el("td", {}, s.changes.length ? el("ul", { class: "changes" }, ...s.changes.map(change)) : ""))));
  const onlyDiff = el("input", { type: "checkbox" });
  onlyDiff.checked = true;
  onlyDiff.addEventListener("change", () => rows.classList.toggle("only-diff", onlyDiff.checked));
  const fd = d.first_divergence;
  const changedRun = Object.entries(d.metadata).filter(([, v]) => JSON.stringify(v.a) !== JSON.stringify(v.b));
  const header = el("tr", {}, ...["step", "A", "B", "changes"].map((h) => el("th", {}, h)));
  fill(root,
    el("header", { class: "top" }, link("/", {}, "recordings"), el("h1", {}, "compare")),
    el("table", { class: "pair" }, who("A", a), who("B", b)),
    el("p", { class: `verdict ${d.regression ? "bad" : "good"}` }, verdict),
    fd ? el("p", { class: "divergence" }, `First divergence at step ${fd.position}: `,
      `A ${sideOf(fd.a)}, B ${sideOf(fd.b)}`) : null,
    el("label", { class: "toggle" }, onlyDiff, " only the steps that differ"),
    el("table", { class: "steps" }, el("thead", {}, header), rows),
    section("State at the end", d.state_changes.at_end, change),
    section("Slower", d.timing_regressions, (t) => el("li", {},
      `${printable(t.node)}: ${fmtNs(t.a_ns)} → ${fmtNs(t.b_ns)} (x${t.ratio.toFixed(2)})`)),
    section("Run", changedRun, runChange));
  return { diff: d };
}

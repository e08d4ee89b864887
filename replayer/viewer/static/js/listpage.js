// The store's recordings under `flowtape serve`, with the query filters of SPEC §7 (the
// options of `flowtape list`). The filters live in the address (?workflow=…&status=…),
// so a filtered list is a link; two ticked rows open the compare page.

import { el, fill, link } from "./dom.js";
import { fmtNs, plural, printable } from "./format.js";
import { api } from "./remote.js";

const STATUSES = ["", "completed", "failed", "timed_out", "cancelled", "incomplete", "running"];
const FIELDS = [
  ["workflow", "workflow", "text"], ["status", "status", STATUSES], ["tags", "tags (a,b)", "text"],
  ["any_tag", "any tag", "checkbox"], ["error_type", "error type", "text"],
  ["since", "since", "datetime-local"], ["until", "until", "datetime-local"],
  ["min_duration", "min s", "number"], ["max_duration", "max s", "number"],
  ["sort_by", "sort by",
    ["started_at", "duration_ns", "event_count", "node_count", "size", "workflow", "status"]],
  ["sort_order", "order", ["desc", "asc"]], ["limit", "limit", "number"],
];

const COLUMNS = ["", "id", "workflow", "status", "started", "duration", "events", "nodes", "size",
  "tags", "error"];

function field([name, label, type], query) {
  const value = query.get(name) || "";
  let input;
  if (Array.isArray(type)) {
    input = el("select", { name }, ...type.map((o) => el("option", { value: o }, o || "any")));
    input.value = value || type[0];
  } else {
    input = el("input", { name, type, value: type === "checkbox" ? "1" : value });
    if (type === "checkbox") input.checked = value === "1";
  }
  return el("label", {}, label, input);
}

function fmtSize(n) {
  if (n < 1024) return `${n} B`;
  return n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}

export async function listPage(root) {
  const query = new URLSearchParams(location.search);
  const fields = FIELDS.map((f) => field(f, query));
  const table = el("tbody");
  const status = el("p", { class: "statusline", role: "status" });
  const picked = new Set();
  const compare = el("button", { disabled: true, on: { click: () => {
    const [a, b] = [...picked];
    location.assign(`/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
  } } }, "compare the two ticked");

  const params = () => {
    const p = new URLSearchParams();
    for (const f of fields) {
      const input = f.lastChild;
      const tick = input.type === "checkbox";
      if (tick ? input.checked : input.value) p.set(input.name, tick ? "1" : input.value);
    }
    for (const [k, v] of [["sort_by", "started_at"], ["sort_order", "desc"]]) if (p.get(k) === v) p.delete(k);
    return p;
  };

  const row = (r) => {
    const tick = el("input", { type: "checkbox", "aria-label": `pick ${r.recording_id}`, on: { change: () => {
      if (tick.checked) picked.add(r.recording_id); else picked.delete(r.recording_id);
      compare.disabled = picked.size !== 2;
    } } });
    return el("tr", { class: `status-${r.status}`, data: { id: r.recording_id } },
      el("td", {}, tick),
      el("td", { class: "rid" }, link(`/r/${encodeURIComponent(r.recording_id)}`, {}, r.recording_id)),
      el("td", { class: "workflow" }, printable(r.workflow)),
      el("td", { class: "status" }, el("span", { class: `badge status-${r.status}` }, r.status)),
      el("td", {}, new Date(r.started_at).toLocaleString()),
      el("td", { class: "num" }, ["incomplete", "running"].includes(r.status) ? "-" : fmtNs(r.duration_ns)),
      el("td", { class: "num" }, r.event_count), el("td", { class: "num" }, r.node_count),
      el("td", { class: "num" }, fmtSize(r.size)), el("td", {}, printable(r.tags.join(", "))),
      el("td", {}, r.error_type ? printable(r.error_type) : ""));
  };

  const load = async () => {
    const p = params();
    history.replaceState(null, "", p.toString() ? `?${p}` : location.pathname);
    status.textContent = "Loading…";
    try {
      const body = await api("/api/list", Object.fromEntries(p));
      fill(table, ...body.recordings.map(row));
      const more = body.recordings.length === body.limit
        ? ` (the first ${body.limit}: raise the limit for more)` : "";
      status.textContent = `${plural(body.recordings.length, "recording")} in ${body.store}${more}`;
      status.classList.remove("error");
    } catch (err) {
      status.textContent = String(err.message || err);
      status.classList.add("error");
    }
    document.body.dataset.loaded = String(Date.now());
  };

  const apply = el("button", { on: { click: load } }, "filter");
  for (const f of fields) f.addEventListener("keydown", (ev) => { if (ev.key === "Enter") load(); });
  fill(root, 
    el("header", { class: "top" }, el("h1", {}, "flowtape recordings")),
    el("div", { class: "filters" }, ...fields, apply, compare),
    status,
    el("table", { class: "recordings" }, el("thead", {}, el("tr", {}, ...COLUMNS.map((h) => el("th", {}, h)))),
      table));
  await load();
  return { load };
}

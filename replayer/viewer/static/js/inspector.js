// The inspector: the event at the cursor — where it sits, its data, its error with the
// traceback, the state after it, and what changed since the state before it. A click
// on a key of the state asks `why`: the event that last set that value.

import { el, clear } from "./dom.js";
import { fmtNs, formatPath, preview, printable } from "./format.js";
import { MISSING, diffValues } from "./state.js";
import { errorLine } from "./events.js";

const MAX_CHILDREN = 200, MAX_TEXT = 2000, OPEN_DEPTH = 2;

function leaf(value) {
  if (typeof value === "string") {
    const text = JSON.stringify(printable(value));
    if (text.length <= MAX_TEXT) return el("span", { class: "v-str" }, text);
    const span = el("span", { class: "v-str" }, text.slice(0, MAX_TEXT) + "…");
    const more = el("button", { class: "more" },
      `show ${(text.length - MAX_TEXT).toLocaleString("en")} more characters`);
    more.addEventListener("click", () => { span.textContent = text; more.remove(); });
    return el("span", {}, span, more);
  }
  return el("span", { class: `v-${value === null ? "null" : typeof value}` }, JSON.stringify(value));
}

// A placeholder the recorder left for a value it could not keep as it was (docs/format.md).
function placeholder(value) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    if ("$repr" in value) {
      return el("span", { class: "v-placeholder" },
        `${value.$type || "object"} ${preview(value.$repr, 200)} (not JSON; recorded as its repr)`);
    }
    if ("$truncated" in value) {
      return el("span", { class: "v-placeholder" },
        `truncated: ${value.$truncated} bytes, starting ${preview(value.$preview || "", 120)}`);
    }
  }
  return null;
}

// A JSON value as a tree of <details>; `onKey(parts)` makes keys and plain values clickable.
export function jsonTree(value, { onKey, parts = [], depth = 0 } = {}) {
  const special = placeholder(value);
  if (special) return special;
  if (value === null || typeof value !== "object") {
    const shown = leaf(value);
    if (onKey && parts.length) {
      shown.classList.add("why");
      shown.title = `why ${formatPath(parts)}: the event that set it`;
      shown.addEventListener("click", (ev) => { if (ev.target.tagName !== "BUTTON") onKey(parts); });
    }
    return shown;
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  if (!entries.length) return el("span", { class: "v-empty" }, Array.isArray(value) ? "[]" : "{}");
  const body = el("div", { class: "j-body" });
  const add = (from) => {
    for (const [k, v] of entries.slice(from, from + MAX_CHILDREN)) {
      const path = [...parts, k];
      const key = el(onKey ? "button" : "span", {
        class: onKey ? "j-key why" : "j-key",
        title: onKey ? `why ${formatPath(path)}: the event that set it` : undefined,
        on: onKey ? { click: () => onKey(path) } : undefined,
      }, Array.isArray(value) ? `[${k}]` : printable(k));
      const shown = jsonTree(v, { onKey, parts: path, depth: depth + 1 });
      body.append(el("div", { class: "j-row" }, key, ": ", shown));
    }
    if (from + MAX_CHILDREN < entries.length) {
      const more = el("button", { class: "more" }, `${entries.length - from - MAX_CHILDREN} more`);
      more.addEventListener("click", () => { more.remove(); add(from + MAX_CHILDREN); });
      body.append(more);
    }
  };
  add(0);
  const summary = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  const box = el("details", { class: "j-node" }, el("summary", {}, summary), body);
  box.open = depth < OPEN_DEPTH;
  return box;
}

function section(title, ...content) {
  return el("section", { class: "insp" }, el("h3", {}, title), ...content);
}

function shown(v) {
  return v === MISSING ? "(not set)" : preview(v, 120);
}

export class Inspector {
  constructor(root, app) {
    this.root = root;
    this.app = app;
  }

  // `info`: {event, pos, frames, state, before, window} — state/before as the source gave.
  show(info) {
    const { event: e } = info;
    clear(this.root);
    if (!e) {
      this.root.append(el("p", { class: "empty" }, "No event here."));
      return;
    }
    this.root.append(section("Event", this.facts(e, info.frames)));
    const data = e.data && typeof e.data === "object" ? e.data : null;
    const error = data && data.error;
    const traceback = error && typeof error.traceback === "string" ? error.traceback : null;
    if (error) {
      this.root.append(section("Error", el("p", { class: "error-line" }, errorLine(error)),
        ...(error.causes || []).map((c) => el("p", { class: "cause" }, "caused by ", errorLine(c))),
        traceback ? el("pre", { class: "traceback" }, printable(traceback)) : null));
    }
    if (e.data !== undefined) {  // the traceback is shown above, as text
      const rest = traceback ? { ...data, error: { ...error, traceback: "(above)" } } : e.data;
      this.root.append(section("Data", jsonTree(rest)));
    }
    if (e.patch) this.root.append(section("Patch", jsonTree(e.patch)));
    this.showState(info);
  }

  facts(e, frames) {
    const span = this.app.spans.get(e.span);
    const took = span && (span.t1 === null ? "still running" : fmtNs(span.t1 - span.t0));
    const rows = [["seq", e.seq], ["kind", e.kind], ["node", e.node], ["lane", e.lane],
      ["attempt", e.attempt > 1 ? e.attempt : undefined], ["at", fmtNs(e.ts)],
      ["span", span ? `${span.status}, ${took} (starts at seq ${e.span})` : undefined],
      ["in", frames.length ? frames.map((f) => f.node + (f.attempt > 1 ? ` #${f.attempt}` : ""))
        .join(" › ") : undefined]];
    return el("dl", { class: "facts" }, ...rows.filter(([, v]) => v !== undefined && v !== null)
      .flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))]));
  }

  showState({ event: e, state, before, window }) {
    if (state === null || state === undefined) {
      this.root.append(section("State after", el("p", { class: "empty" },
        window && window.first > 0 ? "No state is known here." : "No state recorded yet.")));
      return;
    }
    const first = before === null || before === undefined;
    const changes = first ? [] : diffValues(before, state);
    const list = el("ul", { class: "changes" });
    if (first) list.append(el("li", {}, "the first state"));
    else if (!changes.length) {
      list.append(el("li", { class: "empty" }, `seq ${e.seq} did not change the state`));
    }
    const add = (from) => {  // a screenful at a time, the rest behind a button
      for (const c of changes.slice(from, from + MAX_CHILDREN)) {
        const path = el("button", { class: "j-key why", on: { click: () => this.app.why(c.parts) } },
          formatPath(c.parts) || "state");
        list.append(el("li", {}, path, ": ", el("span", { class: "was" }, shown(c.a)), " → ",
          el("span", { class: "now" }, shown(c.b))));
      }
      if (from + MAX_CHILDREN >= changes.length) return;
      const more = el("li", {}, el("button", {
        class: "more", on: { click: () => { more.remove(); add(from + MAX_CHILDREN); } },
      }, `${changes.length - from - MAX_CHILDREN} more`));
      list.append(more);
    };
    add(0);
    this.root.append(section("Changed", list),
      section("State after", jsonTree(state, { onKey: (parts) => this.app.why(parts) })));
  }

  // The answer to `why PATH`, shown above the rest.
  showWhy(parts, setAt, event) {
    const old = this.root.querySelector(".why-answer");
    if (old) old.remove();
    const path = formatPath(parts) || "state";
    const body = setAt === null
      ? el("p", {}, `${path} has not changed since before the first event here.`)
      : el("p", {}, `${path} was last set at seq ${event.seq} `,
        `(${event.kind}${event.node ? " " + event.node : ""}). `,
        el("button", { class: "go", on: { click: () => this.app.go(setAt) } }, `go to seq ${event.seq}`));
    this.root.prepend(el("section", { class: "insp why-answer" }, el("h3", {}, `why ${path}`), body));
  }
}

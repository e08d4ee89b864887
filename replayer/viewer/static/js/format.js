// Words and numbers as the terminal tools write them: durations, previews, state paths.

export function fmtNs(ns) {
  if (ns === null || ns === undefined || ns < 0) return "-";
  if (ns < 1e3) return `${ns} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(1)} ms`;
  if (ns < 60e9) return `${(ns / 1e9).toFixed(2)} s`;
  const s = Math.round(ns / 1e9);
  return s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
    : `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
}

// Control characters shown visibly (ESC as \x1b), as replayer._terminal.printable does.
export function printable(text) {
  return String(text).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"));
}

// A value as one short line: strings as themselves, the rest as compact JSON.
export function preview(value, limit = 80) {
  let text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined) text = String(value);
  text = printable(text.replace(/\s+/g, " "));
  return text.length <= limit ? text : text.slice(0, limit - 1) + "…";
}

const PLAIN_KEY = /^[A-Za-z0-9_$-]+$/;

// ["cart", "items", 0] -> cart.items[0] (SPEC §6 value paths; odd keys JSON-quoted)
export function formatPath(parts) {
  let out = "";
  for (const p of parts) {
    if (typeof p === "number") out += `[${p}]`;
    else if (PLAIN_KEY.test(p)) out += (out ? "." : "") + p;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}

const TOKEN = /\[(-?\d+)\]|\[("(?:[^"\\]|\\.)*")\]|(\.)?([^.[\]]+)/y;

// The reverse of formatPath; a leading "state." is optional. Throws on text that is no path.
export function parsePath(text) {
  let t = text.trim();
  if (t === "state") return [];
  if (t.startsWith("state.") || t.startsWith("state[")) t = t.slice(5).replace(/^\./, "");
  const parts = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < t.length) {
    const m = TOKEN.exec(t);
    if (!m || (m[4] !== undefined && parts.length && !m[3]) || (m[3] && !parts.length)) {
      throw new Error(`${JSON.stringify(text)} is not a state path (write it like cart.items[0])`);
    }
    parts.push(m[1] !== undefined ? Number(m[1]) : m[2] !== undefined ? JSON.parse(m[2]) : m[4]);
  }
  return parts;
}

export function plural(n, word) {
  return `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;
}

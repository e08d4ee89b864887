// State after any event, from keyframes and RFC 6902 patches (docs/format.md §State), as
// storage.StateTracker computes it; the change between two states as SPEC §6 paths; and
// `why`, the event that last set a value. Patches are applied without mutating: every
// state handed out stays as it was, so the page can keep any of them.

export const MISSING = Symbol("missing");

function unescape(token) {
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

export function pointerParts(pointer) {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new Error(`bad JSON pointer ${JSON.stringify(pointer)}`);
  return pointer.slice(1).split("/").map(unescape);
}

export function lookup(value, parts) {
  for (const p of parts) {
    if (Array.isArray(value)) {
      const i = Number(p);
      if (!Number.isInteger(i)) return MISSING;
      const k = i < 0 ? value.length + i : i;
      if (k < 0 || k >= value.length) return MISSING;
      value = value[k];
    } else if (value !== null && typeof value === "object" && Object.hasOwn(value, p)) {
      value = value[p];
    } else {
      return MISSING;
    }
  }
  return value;
}

// A copy of `doc` with `fn(container, key)` applied at the end of `parts` (ancestors copied).
function update(doc, parts, fn) {
  if (!parts.length) return fn(null, null);
  const [head, ...rest] = parts;
  const copy = Array.isArray(doc) ? doc.slice() : { ...doc };
  if (rest.length) {
    const key = Array.isArray(doc) ? Number(head) : head;
    if (doc === null || typeof doc !== "object" || !(key in doc)) {
      throw new Error(`patch path leads nowhere at ${JSON.stringify(head)}`);
    }
    copy[key] = update(doc[key], rest, fn);
    return copy;
  }
  return fn(copy, head);
}

function add(doc, parts, value) {
  return update(doc, parts, (c, key) => {
    if (c === null) return value;
    if (Array.isArray(c)) c.splice(key === "-" ? c.length : Number(key), 0, value);
    else c[key] = value;
    return c;
  });
}

function remove(doc, parts) {
  return update(doc, parts, (c, key) => {
    if (Array.isArray(c)) c.splice(Number(key), 1);
    else delete c[key];
    return c;
  });
}

function replace(doc, parts, value) {
  return update(doc, parts, (c, key) => {
    if (c === null) return value;
    c[Array.isArray(c) ? Number(key) : key] = value;
    return c;
  });
}

export function applyPatch(doc, ops) {
  for (const op of ops) {
    const parts = pointerParts(op.path);
    switch (op.op) {
      case "add": doc = add(doc, parts, op.value); break;
      case "remove": doc = remove(doc, parts); break;
      case "replace": doc = replace(doc, parts, op.value); break;
      case "move": {
        const from = pointerParts(op.from);
        const value = lookup(doc, from);
        doc = add(remove(doc, from), parts, value);
        break;
      }
      case "copy": doc = add(doc, parts, lookup(doc, pointerParts(op.from))); break;
      case "test":
        if (!equal(lookup(doc, parts), op.value)) throw new Error(`patch test failed at ${op.path}`);
        break;
      default: throw new Error(`unknown patch op ${JSON.stringify(op.op)}`);
    }
  }
  return doc;
}

export function equal(a, b) {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
}

// The differences between two values as [{parts, a, b}] (MISSING where a side has none).
export function diffValues(a, b, parts = [], out = []) {
  if (equal(a, b)) return out;
  const objects = a !== null && b !== null && typeof a === "object" && typeof b === "object"
    && Array.isArray(a) === Array.isArray(b);
  if (!objects) {
    out.push({ parts, a, b });
    return out;
  }
  if (Array.isArray(a)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      diffValues(i < a.length ? a[i] : MISSING, i < b.length ? b[i] : MISSING, [...parts, i], out);
    }
  } else {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      diffValues(Object.hasOwn(a, k) ? a[k] : MISSING, Object.hasOwn(b, k) ? b[k] : MISSING,
        [...parts, k], out);
    }
  }
  return out;
}

// State after each event of an in-memory list of events. `base` is the state before the
// first of them (a capped report's window starts mid-run). Without state events the
// state folds node_complete outputs into {node: outputs}, as the engine does.
export class StateBook {
  constructor(events, base, hasStateEvents) {
    this.events = events;
    this.base = base === undefined ? null : base;
    this.folding = !hasStateEvents;
    this.changing = [];  // positions of the events after which the state can differ
    events.forEach((e, i) => {
      if (this.folding ? e.kind === "node_complete" && e.data && "outputs" in e.data
        : e.kind === "state") this.changing.push(i);
    });
    this.cache = { index: -1, state: this.base };
  }

  step(state, e) {
    if (this.folding) return { ...(state || {}), [e.node]: e.data.outputs };
    if (e.state !== undefined && e.state !== null) return e.state;
    return applyPatch(state, e.patch || []);
  }

  // Index into `changing` of the last change at or before position `pos` (-1: none).
  lastChange(pos) {
    let lo = 0, hi = this.changing.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.changing[mid] <= pos) lo = mid + 1; else hi = mid;
    }
    return lo - 1;
  }

  at(pos) {
    const target = this.lastChange(pos);
    let { index, state } = this.cache;
    if (index > target) {  // go back to the nearest keyframe, else the base
      index = -1;
      state = this.base;
      for (let k = target; k >= 0 && !this.folding; k--) {
        const e = this.events[this.changing[k]];
        if (e.state !== undefined && e.state !== null) { index = k; state = e.state; break; }
      }
    }
    for (let k = index + 1; k <= target; k++) state = this.step(state, this.events[this.changing[k]]);
    this.cache = { index: target, state };
    return state;
  }

  // Position of the event that last changed the value at `parts`, up to `pos`
  // (-1: unchanged since before the first event here).
  why(pos, parts) {
    const target = this.lastChange(pos);
    let state = this.base, value = lookup(state, parts), found = -1;
    for (let k = 0; k <= target; k++) {
      state = this.step(state, this.events[this.changing[k]]);
      const now = lookup(state, parts);
      if (!(now === value || (now !== MISSING && value !== MISSING && equal(now, value)))) {
        found = this.changing[k];
        value = now;
      }
    }
    return found;
  }
}

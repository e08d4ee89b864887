// One recording under `flowtape serve`: events fetched in pages from the server's JSON
// endpoints (so a 1M-event recording opens at once), the spans once the server has read
// them, and — while another process is still writing it — a poll that shows what it
// appended.

import { Spans } from "./recording.js";
import { Viewer } from "./viewer.js";

const PAGE = 200, POLL_MS = 1000;
const EMPTY = {  // the outline before the server has read the spans
  kinds: [], nodes: [], lanes: [], statuses: [], spans: [], messages: [], first_error: null, last_ts: 0,
};

export async function api(path, params = {}) {
  const query = new URLSearchParams(params).toString();
  const res = await fetch(path + (query ? `?${query}` : ""), { headers: { Accept: "application/json" } });
  const body = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  if (!res.ok) throw new Error(body.error || `${res.status} ${res.statusText}`);
  return body;
}

export class RemoteSource {
  constructor(id, meta) {
    this.base = `/api/r/${encodeURIComponent(id)}`;
    this.pages = new Map();
    this.window = null;
    this.update(meta);
  }

  update(meta) {
    this.header = meta.header;
    this.footer = meta.footer;
    this.summary = meta.summary;
    this.count = meta.count;
    this.live = meta.live;
    this.seqs = meta.seqs;  // null when seq = position (every finished recording)
  }

  get(pos) {
    const page = this.pages.get(Math.floor(pos / PAGE));
    return page ? page[pos % PAGE] : undefined;
  }

  async load(pos, n) {
    const first = Math.floor(Math.max(0, pos) / PAGE);
    const last = Math.floor(Math.min(this.count - 1, pos + n - 1) / PAGE);
    const wanted = [];
    for (let p = first; p <= last; p++) {
      const page = this.pages.get(p);
      if (!page || (page.length < PAGE && p * PAGE + page.length < this.count)) wanted.push(p);
    }
    await Promise.all(wanted.map(async (p) => {
      const body = await api(`${this.base}/events`, { start: p * PAGE, count: PAGE });
      this.pages.set(p, body.events);
    }));
  }

  posOf(seq) {
    if (this.seqs) return this.seqs.indexOf(seq);
    return seq >= 0 && seq < this.count ? seq : -1;
  }

  async find(spec, from, dir) {
    return (await api(`${this.base}/find`, { from, dir, spec: JSON.stringify(spec) })).pos;
  }

  async state(pos) {
    return api(`${this.base}/state`, { pos });
  }

  async why(pos, parts) {
    return (await api(`${this.base}/why`, { pos, path: JSON.stringify(parts) })).pos;
  }
}

export async function openRemote(root) {
  const id = document.body.dataset.id;
  const source = new RemoteSource(id, await api(`/api/r/${encodeURIComponent(id)}`));
  const viewer = new Viewer(root, { source, spans: new Spans(EMPTY) });
  viewer.say("Reading the spans…");
  const spans = async () => {
    const outline = await api(`${source.base}/outline`);
    viewer.setSpans(new Spans(outline), outline.first_error);
  };
  // The first page of events is on screen before the spans are asked for.
  Promise.resolve(viewer.opened).then(spans).then(() => { if (source.live) poll(viewer, source, spans); },
    (err) => viewer.say(`Could not read the spans: ${err.message || err}`, true));
  return viewer;
}

// While the recording is being written: look for new events every POLL_MS, follow the
// end when the cursor is on the last event, and read the spans again.
function poll(viewer, source, spans) {
  const tick = async () => {
    const before = source.count;
    const atEnd = viewer.pos >= before - 1;
    try {
      source.update(await api(source.base));
      if (source.count !== before) {
        viewer.updateCount();
        viewer.events.draw();
        await spans();
        if (atEnd) await viewer.go(source.count - 1);
      } else {
        viewer.updateCount();
      }
    } catch (err) {
      viewer.say(`Lost the server: ${err.message || err}`, true);
    }
    if (source.live) setTimeout(tick, POLL_MS);
    else viewer.say(`The recording ended: ${source.summary.status}.`);
  };
  setTimeout(tick, POLL_MS);
}

// Where every viewer page starts: <body data-page="..."> says which one this is.
//   report     a self-contained export: the recording is in the page (decode.js)
//   recording  one recording under `flowtape serve`, fetched in pages (remote.js)
//   list       the store's recordings, filtered (listpage.js)
//   compare    two recordings side by side (comparepage.js)

import { el, fill } from "./dom.js";
import { partJSON, partText, readDocument } from "./decode.js";
import { MemorySource, Spans } from "./recording.js";
import { Viewer } from "./viewer.js";
import { openRemote } from "./remote.js";
import { listPage } from "./listpage.js";
import { comparePage } from "./comparepage.js";

async function report(root) {
  const outline = await partJSON("outline");
  const events = [];
  const doc = await readDocument(partText("doc"), (batch) => { for (const e of batch) events.push(e); });
  doc.events = events;
  return new Viewer(root, {
    source: new MemorySource(doc, outline.window), spans: new Spans(outline),
    firstError: outline.first_error, window: outline.window,
  });
}

const PAGES = { report, recording: openRemote, list: listPage, compare: comparePage };

async function start() {
  const root = el("div", { class: "app" });
  document.body.append(root);
  const page = PAGES[document.body.dataset.page];
  try {
    if (!page) throw new Error(`unknown page ${JSON.stringify(document.body.dataset.page)}`);
    window.flowtape = await page(root);
    document.body.dataset.ready = "1";
  } catch (err) {
    fill(root, el("p", { class: "fatal" }, `This page could not be shown: ${err.message || err}`));
    document.body.dataset.ready = "error";
    throw err;
  }
}

start();

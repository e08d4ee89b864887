// Reading the data a report carries: base64 chunks of one gzip stream per part (data
// blocks of type application/x-flowtape-gzip, named by data-part), inflated with the
// browser's DecompressionStream as they are fed, never joined into one giant string.

function bytes(b64) {
  if (Uint8Array.fromBase64) return Uint8Array.fromBase64(b64);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// The text of one part, as a stream of strings. The chunks leave the page once read.
export function partText(part, root = document) {
  const blocks = [...root.querySelectorAll(
    `script[type="application/x-flowtape-gzip"][data-part="${part}"]`)];
  if (!blocks.length) throw new Error(`this page carries no ${part} data`);
  const inflate = new DecompressionStream("gzip");
  const writer = inflate.writable.getWriter();
  (async () => {
    for (const block of blocks) {
      await writer.write(bytes(block.textContent.trim()));
      block.remove();
    }
    await writer.close();
  })().catch((err) => writer.abort(err).catch(() => {}));
  return inflate.readable.pipeThrough(new TextDecoderStream());
}

// Lines of a text stream, `onLines(lines)` a batch at a time.
export async function eachLines(stream, onLines) {
  let rest = "";
  for await (const piece of stream) {
    const lines = (rest + piece).split("\n");
    rest = lines.pop();
    if (lines.length) onLines(lines);
  }
  if (rest) onLines([rest]);
}

export async function partJSON(part, root) {
  const pieces = [];
  await eachLines(partText(part, root), (lines) => pieces.push(lines.join("\n")));
  return JSON.parse(pieces.join("\n"));
}

const BATCH = 4096;

// The `json` export's document (replayer/_export_json.py) read line by line: it writes
// one event a line between `"events":[` and `],`. Events are parsed in batches and handed
// to `onEvents`; the rest (header, footer, summary) is parsed as the envelope.
export async function readDocument(stream, onEvents) {
  const envelope = [];
  let inEvents = false, batch = [];
  const flush = () => {
    if (batch.length) onEvents(JSON.parse(`[${batch.join(",")}]`));
    batch = [];
  };
  await eachLines(stream, (lines) => {
    for (const line of lines) {
      if (!inEvents) {
        envelope.push(line);
        inEvents = line.endsWith('"events":[');
      } else if (line.startsWith("]")) {
        flush();
        inEvents = false;
        envelope.push(line);
      } else if (line) {
        batch.push(line.endsWith(",") ? line.slice(0, -1) : line);
        if (batch.length >= BATCH) flush();
      }
    }
  });
  flush();
  return JSON.parse(envelope.join("\n"));
}

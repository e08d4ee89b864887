// A very small test runner for the viewer's modules: test(name, fn) registers, run()
// runs them in order (async allowed) and returns [{name, ok, error}].

const tests = [];

export function test(name, fn) {
  tests.push({ name, fn });
}

function show(v) {
  return typeof v === "symbol" ? v.toString() : JSON.stringify(v);
}

export function eq(actual, expected, what = "") {
  if (show(actual) !== show(expected)) {
    throw new Error(`${what ? what + ": " : ""}expected ${show(expected)}, got ${show(actual)}`);
  }
}

export function throws(fn, pattern) {
  try {
    fn();
  } catch (err) {
    if (!pattern.test(String(err.message))) throw new Error(`wrong error: ${err.message}`);
    return;
  }
  throw new Error(`expected an error matching ${pattern}`);
}

export async function run() {
  const results = [];
  for (const { name, fn } of tests) {
    try {
      await fn();
      results.push({ name, ok: true });
    } catch (err) {
      results.push({ name, ok: false, error: String(err && err.stack || err) });
    }
  }
  return results;
}

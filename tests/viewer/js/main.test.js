// The entry of the viewer's JS test page (tests/viewer/test_viewer_js.py bundles and opens it):
// importing the test modules registers their tests; the results land on <body>.

import { run } from "./harness.js";
import {} from "./state.test.js";
import {} from "./stepper.test.js";

run().then((results) => {
  document.body.dataset.results = JSON.stringify(results);
});

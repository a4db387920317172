// The reference page: every figure of the article, rendered live from the public /v1 API.
import * as api from "./js/api.js";
import { initDepth } from "./js/depth.js";
import { initEdge } from "./js/edge.js";
import { initMnist } from "./js/mnist.js";
import { initNineLayers } from "./js/ninelayers.js";
import { initPlayground } from "./js/playground.js";
import { initSweep } from "./js/sweep.js";
import { initTheory } from "./js/theory.js";

async function main() {
  if (!window.Plotly) {
    document.body.insertAdjacentHTML("afterbegin",
      '<p class="status error wrap">The charting library did not load (/static/vendor/plotly.min.js).</p>');
    return;
  }
  const [catalog, presets] = await Promise.all([api.catalog(), api.presets()]);
  initMnist(catalog, presets);
  initDepth();
  // sections are independent: one failing leaves the others working
  const sections = [initPlayground(catalog, presets), initTheory(catalog), initSweep(catalog), initNineLayers(),
    initEdge(catalog)];
  const results = await Promise.allSettled(sections);
  results.filter((r) => r.status === "rejected").forEach((r) => console.error(r.reason));
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  document.body.insertAdjacentHTML("afterbegin", `<p class="status error wrap">The page could not start: ${error.message}</p>`);
});

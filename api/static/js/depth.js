// Section 6, second half: the trainable-depth grid (preset trainable_depth run as one sweep,
// POST /v1/sweeps) as a heat map of test accuracy over weight variance and depth, with
// theory's 6 ξ_c (POST /v1/theory/signal/diagram along one bias variance) drawn over it.
// The server draws the same map: /v1/sweeps/{id}/plots/depth.svg.
import * as api from "./api.js";
import * as charts from "./charts.js";
import { followSweep } from "./grid.js";

const $ = (id) => document.getElementById(id);
const FINE = Array.from({ length: 50 }, (_, i) => 0.3 + (i * 4.5) / 49); // s_w for the curve

export function initDepth() {
  $("td-run").addEventListener("click", () => run().catch((error) => say(error.message)));
}

const say = (text) => { $("td-status").textContent = text; };

async function run() {
  const preset = (await api.presets()).trainable_depth;
  delete $("td-map").dataset.done;
  say("Submitting the grid…");
  $("td-links").hidden = true;
  const sweep = await api.postJSON("/v1/sweeps", { base: { preset: "trainable_depth" }, vary: preset.variants });
  const view = await followSweep(sweep.id, (v) => {
    const done = v.variations.filter((x) => api.FINAL.has(x.status)).length;
    say(`Sweep ${v.status}: ${done} of ${v.variations.length} networks trained.`);
  });
  $("td-svg").href = `/v1/sweeps/${sweep.id}/plots/depth.svg`;
  $("td-embed").href = `/embed/depth?sweep=${sweep.id}`;
  $("td-links").hidden = false;
  await drawDepthMap($("td-map"), view.variations, preset.spec.init.bias_variance);
  say(`Done: ${view.variations.length} networks. Dashed: theory's 6 ξ_c at σ_b² = ${preset.spec.init.bias_variance}.`);
}

/** Test accuracy over (σ_w², depth) with theory's 6 ξ_c at biasVariance over it. */
export async function drawDepthMap(div, variations, biasVariance, activation = "tanh") {
  const depth = (v) => v.values["model.hidden"].length;
  const weight = (v) => v.values["init.weight_variance"];
  const depths = [...new Set(variations.map(depth))].sort((a, b) => a - b);
  const weights = [...new Set(variations.map(weight))].sort((a, b) => a - b);
  const z = depths.map((d) => weights.map((w) => {
    const v = variations.find((x) => depth(x) === d && weight(x) === w);
    return v && v.summary ? v.summary.test_accuracy : null;
  }));
  const theory = await api.postJSON("/v1/theory/signal/diagram",
    { activation, weight_variances: FINE, bias_variances: [biasVariance] });
  const top = depths[depths.length - 1] * 1.3;
  const curve = theory.xi_c[0].map((xi) => (xi === null ? top : Math.min(6 * xi, top)));
  // numeric axes: plotly centres each (unevenly spaced) cell on its value, so the curve and
  // the grid share one coordinate system
  await charts.draw(div, [
    { type: "heatmap", x: weights, y: depths, z, zmin: 0, zmax: 1, colorscale: "Viridis",
      colorbar: { title: { text: "test accuracy" } },
      hovertemplate: "σ_w² %{x}, depth %{y}<br>accuracy %{z:.2f}<extra></extra>" },
    { type: "scatter", mode: "lines", name: "6 ξ_c", x: FINE, y: curve,
      line: { color: "#fff", width: 3, dash: "dash" }, hoverinfo: "skip" },
  ], {
    xaxis: { title: { text: "σ_w² (weight variance × fan_in)" }, range: [FINE[0], FINE[FINE.length - 1]] },
    yaxis: { title: { text: "depth L (hidden layers)" }, range: [0, top] },
  });
  div.dataset.done = String(variations.length);
}

// Section 6, second half: the trainable-depth grid (preset trainable_depth run as one sweep,
// POST /v1/sweeps) as a heat map of test accuracy over weight variance and depth, with
// theory's 6 ξ_c (POST /v1/theory/signal/diagram along one bias variance) drawn over it.
import * as api from "./api.js";
import * as charts from "./charts.js";

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
  const sweep = await api.postJSON("/v1/sweeps", { base: { preset: "trainable_depth" }, vary: preset.variants });
  for (;;) {
    const view = await api.getJSON(`/v1/sweeps/${sweep.id}`);
    const done = view.variations.filter((v) => api.FINAL.has(v.status)).length;
    say(`Sweep ${view.status}: ${done} of ${view.variations.length} networks trained.`);
    if (done === view.variations.length) return draw(view.variations, preset.spec.init.bias_variance);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function draw(variations, biasVariance) {
  const depth = (v) => v.values["model.hidden"].length;
  const weight = (v) => v.values["init.weight_variance"];
  const depths = [...new Set(variations.map(depth))].sort((a, b) => a - b);
  const weights = [...new Set(variations.map(weight))].sort((a, b) => a - b);
  const z = depths.map((d) => weights.map((w) => {
    const v = variations.find((x) => depth(x) === d && weight(x) === w);
    return v && v.summary ? v.summary.test_accuracy : null;
  }));
  const theory = await api.postJSON("/v1/theory/signal/diagram",
    { activation: "tanh", weight_variances: FINE, bias_variances: [biasVariance] });
  const top = depths[depths.length - 1] * 1.3;
  const curve = theory.xi_c[0].map((xi) => (xi === null ? top : Math.min(6 * xi, top)));
  // numeric axes: plotly centres each (unevenly spaced) cell on its value, so the curve and
  // the grid share one coordinate system
  await charts.draw($("td-map"), [
    { type: "heatmap", x: weights, y: depths, z, zmin: 0, zmax: 1, colorscale: "Viridis",
      colorbar: { title: { text: "test accuracy" } },
      hovertemplate: "σ_w² %{x}, depth %{y}<br>accuracy %{z:.2f}<extra></extra>" },
    { type: "scatter", mode: "lines", name: "6 ξ_c", x: FINE, y: curve,
      line: { color: "#fff", width: 3, dash: "dash" }, hoverinfo: "skip" },
  ], {
    xaxis: { title: { text: "σ_w² (weight variance × fan_in)" }, range: [FINE[0], FINE[FINE.length - 1]] },
    yaxis: { title: { text: "depth L (hidden layers)" }, range: [0, top] },
  });
  $("td-map").dataset.done = String(variations.length);
  say(`Done: ${variations.length} networks. Dashed: theory's 6 ξ_c at σ_b² = ${biasVariance}.`);
}

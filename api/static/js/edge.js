// Section 6: the edge of chaos. Mean-field theory's phase diagram (POST
// /v1/theory/signal/diagram) as a heat map of the correlation depth scale xi_c with the
// critical line on top; a click runs that point: theory's numbers (POST /v1/theory/signal)
// and a deep random network drawn there (preset edge_of_chaos), whose measured correlations
// c_l and Jacobian spectrum (the record's signal section) are drawn against theory.
import * as api from "./api.js";
import * as charts from "./charts.js";
import { fillSelect } from "./menus.js";
import * as state from "./state.js";

const $ = (id) => document.getElementById(id);
const SIDE = 40; // 40 x 40 cells: well inside the API's 50 x 50 bound
const WEIGHTS = { start: 0.2, stop: 4.5, num: SIDE };
const BIASES = { start: 0.0, stop: 0.3, num: SIDE };
const XI_CAP = 1000; // xi_c is infinite on the critical line: the colour scale stops here
let runs = 0; // only the newest click's answer is drawn

/** Draw the phase diagram of an activation into div; resolves to the diagram. */
export async function drawPhase(div, activation, { onClick = null } = {}) {
  const d = await api.postJSON("/v1/theory/signal/diagram",
    { activation, weight_variances: WEIGHTS, bias_variances: BIASES });
  const z = d.xi_c.map((row) => row.map((v) => Math.log10(Math.min(v === null ? XI_CAP : v, XI_CAP))));
  const heat = {
    type: "heatmap", x: d.weight_variances, y: d.bias_variances, z, colorscale: "Viridis",
    zmin: 0, zmax: Math.log10(XI_CAP), text: d.phase,
    colorbar: { title: { text: "ξ_c" }, tickvals: [0, 1, 2, 3], ticktext: ["1", "10", "100", "≥1000"] },
    hovertemplate: "σ_w² %{x:.3g}, σ_b² %{y:.3g}<br>%{text}<extra></extra>",
  };
  const line = {
    type: "scatter", mode: "lines", name: "critical line", x: d.critical_weight_variance,
    y: d.bias_variances, line: { color: "#fff", width: 3, dash: "dash" }, hoverinfo: "skip",
  };
  await charts.draw(div, [heat, line], {
    margin: { l: 60, r: 12, t: 10, b: 44 },
    xaxis: { title: { text: "σ_w² (weight variance × fan_in)" }, range: [WEIGHTS.start, WEIGHTS.stop] },
    yaxis: { title: { text: "σ_b² (bias variance)" }, range: [BIASES.start, BIASES.stop] },
  });
  div.dataset.cells = String(d.weight_variances.length * d.bias_variances.length);
  div.dataset.activation = activation;
  if (onClick) {
    div.removeAllListeners?.("plotly_click");
    div.on("plotly_click", (event) => onClick(event.points[0].x, event.points[0].y));
  }
  return d;
}

export async function initEdge(catalog) {
  state.define({ ec_act: "tanh" });
  // sigmoid's critical line lies near σ_w² = 100, far off this plane; linear has no chaos
  const names = catalog.activations.map((a) => a.name).filter((name) => !["linear", "sigmoid"].includes(name));
  fillSelect($("ec-act"), names);
  const draw = () => drawPhase($("ec-phase"), state.get("ec_act"), { onClick: runPoint });
  state.bind($("ec-act"), "ec_act", draw);
  await draw();
}

async function runPoint(sw, sb) {
  const mine = ++runs;
  const activation = state.get("ec_act");
  const section = $("edge");
  delete section.dataset.point;
  $("ec-status").textContent = `σ_w² = ${sw.toFixed(3)}, σ_b² = ${sb.toFixed(3)}: running a 30-layer network…`;
  try {
    const theory = await api.postJSON("/v1/theory/signal", { activation, weight_variance: sw, bias_variance: sb });
    if (mine !== runs) return;
    showNumbers(theory);
    const job = await api.submitJob({ preset: "edge_of_chaos", model: { activation },
      init: { weight_variance: sw, bias_variance: sb } });
    const record = await api.firstRecord(job.id);
    if (mine !== runs) return;
    drawDecay($("ec-decay"), record.signal);
    drawSpectrum($("ec-spectrum"), record.signal.jacobian);
    for (const view of ["decay", "spectrum"]) { // the same figures as SVG and as an embed
      $(`ec-${view}-svg`).href = `/v1/jobs/${job.id}/plots/${view}.svg`;
      $(`ec-${view}-embed`).href = `/embed/${view}?job=${job.id}`;
      $(`ec-${view}-svg`).parentElement.hidden = false;
    }
    const xi = record.signal.xi_c;
    $("ec-status").textContent = `${theory.phase}: ξ_c fitted to the measured layers ${fmt(xi.measured)}, theory ${fmt(xi.theory)}`;
    section.dataset.point = `${sw},${sb}`;
  } catch (error) {
    if (mine !== runs) return;
    $("ec-status").textContent = error.message;
  }
}

const fmt = (v) => (v === null || v === undefined ? "∞ or undefined" : Number(v).toPrecision(3));

function showNumbers(t) {
  const rows = [["phase", t.phase], ["q*", fmt(t.q_star)], ["c*", fmt(t.c_star)], ["χ₁", fmt(t.chi_1)],
    ["ξ_q", fmt(t.xi_q)], ["ξ_c", fmt(t.xi_c)]];
  $("ec-numbers").replaceChildren(...rows.flatMap(([k, v]) => [
    Object.assign(document.createElement("dt"), { textContent: k }),
    Object.assign(document.createElement("dd"), { textContent: v }),
  ]));
}

/** Measured c_l per layer (markers) against theory's c_l (line). */
export function drawDecay(div, signal) {
  const x = signal.layers.map((l) => l.layer);
  charts.draw(div, [
    { x, y: signal.layers.map((l) => l.c_theory), name: "theory", mode: "lines", line: { color: charts.COLOURS.orange, width: 2 } },
    { x, y: signal.layers.map((l) => l.c), name: "measured", mode: "markers", marker: { color: charts.COLOURS.blue, size: 8 } },
  ], {
    showlegend: true, legend: { orientation: "h", y: 1.1 },
    xaxis: { title: { text: "layer" } }, yaxis: { title: { text: "correlation c_l of input pairs" }, range: [-1.05, 1.05] },
  });
  div.dataset.layers = String(x.length);
}

/** The hidden stack's Jacobian singular values as a histogram. */
export function drawSpectrum(div, jacobian) {
  if (!jacobian) { charts.clear(div); return; }
  const [lo, hi] = jacobian.histogram.range;
  const n = jacobian.histogram.counts.length;
  const x = jacobian.histogram.counts.map((_, i) => lo + ((hi - lo) * (i + 0.5)) / n);
  charts.draw(div, [{ type: "bar", x, y: jacobian.histogram.counts, marker: { color: charts.COLOURS.blue } }], {
    xaxis: { title: { text: `singular value (mean square ${fmt(jacobian.mean_squared)}, theory ${fmt(jacobian.mean_squared_theory)})` } },
    yaxis: { title: { text: "count" } },
  });
  div.dataset.bins = String(n);
}

// Section 2: nine linear layers with W = a·I, for a = 0.5, 1 and 1.5 (preset nine_layers).
import * as api from "./api.js";
import * as charts from "./charts.js";
import { say } from "./menus.js";
import * as state from "./state.js";

const SCALES = [0.5, 1.0, 1.5];
const COLOURS = { 0.5: charts.COLOURS.orange, 1: "#2e7d32", 1.5: charts.COLOURS.blue };
const LEGEND = { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 11 } };

export async function initNineLayers() {
  state.define({ nine: "relative" });
  const status = document.getElementById("nine-status");
  say(status, "Running three jobs (a = 0.5, 1, 1.5)…");
  try {
    const runs = await Promise.all(SCALES.map(async (a) => {
      const job = await api.submitJob({ preset: "nine_layers", init: { scale: a } });
      const done = await api.finished(job.id);
      const [{ records }, data] = await Promise.all([
        api.metrics(job.id, { fields: ["cost", "layers"] }), api.dataset(job.id)]);
      const inputs = data.train.x.flat();
      const inputRms = Math.sqrt(inputs.reduce((s, v) => s + v * v, 0) / inputs.length);
      return { a, job: done, records, inputRms };
    }));
    for (const radio of document.querySelectorAll('input[name="nine-scale"]')) {
      radio.checked = radio.value === state.get("nine");
      radio.addEventListener("change", () => {
        state.set({ nine: radio.value });
        drawMagnitudes(runs, radio.value === "relative");
      });
    }
    drawMagnitudes(runs, state.get("nine") === "relative");
    drawCosts(runs);
    document.getElementById("nine").dataset.jobs = runs.map((r) => r.job.id).join(",");
    say(status, `Jobs ${runs.map((r) => `a = ${r.a}: ${r.job.status}`).join(", ")}.`);
  } catch (error) {
    say(status, `Could not run the nine-layer jobs: ${error.message}`, true);
  }
}

/**
 * Root mean square of each hidden layer's activations and of dC/da reaching it. Relative:
 * activations over the input's size, gradients over the gradient at the last hidden layer,
 * so each line is a^l (forward) or a^(9-l) (backward) whatever the data and the cost.
 */
function drawMagnitudes(runs, relative) {
  const traces = [];
  for (const { a, records, inputRms } of runs) {
    const hidden = records[0].layers.slice(0, -1); // the nine linear layers
    const layers = hidden.map((layer) => layer.layer);
    const acts = hidden.map((layer) => charts.rms(layer.activations));
    const grads = hidden.map((layer) => charts.rms(layer.activation_grads));
    const top = grads[grads.length - 1];
    const scaleA = relative ? inputRms : 1, scaleG = relative ? top : 1;
    traces.push({
      x: layers, y: acts.map((v) => (v === null ? null : v / scaleA)), name: `a = ${a}: activations`,
      mode: "lines+markers", line: { color: COLOURS[a], width: 2.5 }, marker: { size: 7 },
      hovertemplate: `a = ${a}, layer %{x}<br>activations %{y:.3g}<extra></extra>`,
    }, {
      x: layers, y: grads.map((v) => (v === null ? null : v / scaleG)), name: `a = ${a}: gradients`,
      mode: "lines+markers", line: { color: COLOURS[a], width: 2, dash: "dash" }, marker: { size: 6, symbol: "diamond" },
      hovertemplate: `a = ${a}, layer %{x}<br>gradient %{y:.3g}<extra></extra>`,
    });
  }
  const label = relative ? "size ÷ input's (solid) or ÷ last layer's gradient (dashed)" : "root mean square";
  const div = document.getElementById("nine-chart");
  div.dataset.scale = relative ? "relative" : "absolute";
  charts.draw(div, traces, {
    showlegend: true, legend: LEGEND, margin: { l: 64, r: 12, t: 56, b: 44 },
    xaxis: { title: { text: "hidden layer" }, dtick: 1 },
    yaxis: { title: { text: label, font: { size: 11 } }, type: "log", exponentformat: "power" },
  });
}

function drawCosts(runs) {
  const traces = runs.map(({ a, records }) => ({
    x: records.map((r) => r.iteration), y: records.map((r) => r.cost), name: `a = ${a}`,
    mode: "lines", line: { color: COLOURS[a], width: 2.5 },
    hovertemplate: `a = ${a}<br>iteration %{x}<br>cost %{y:.4g}<extra></extra>`,
  }));
  charts.draw(document.getElementById("nine-cost"), traces, {
    showlegend: true, legend: LEGEND, margin: { l: 60, r: 12, t: 56, b: 44 },
    xaxis: { title: { text: "iteration" } },
    yaxis: { title: { text: "cost" }, rangemode: "tozero" },
  });
}

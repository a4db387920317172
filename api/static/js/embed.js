// /embed/{view}?job=ID: one figure of one job with minimal chrome, for an iframe on another
// site. Views: cost, boundary, histograms (?field=activations), network (?links=gradients),
// the signal section's decay and spectrum, and phase (?activation=tanh: the edge-of-chaos
// phase diagram, no job). A sweep's views take ?sweep=ID instead: heatmap (&metric=final_cost,
// a sweep of two fields), depth (the trainable-depth map) and spectra (every variation's).
// A running job is followed live through its event stream. With auth on, add the job's share
// token (&share=TOKEN, from POST /v1/jobs/{id}/share): every request then carries it.
import * as api from "./api.js";
import * as charts from "./charts.js";
import { drawDepthMap } from "./depth.js";
import { drawDecay, drawPhase, drawSpectrum } from "./edge.js";
import { drawGrid, drawSpectra, followSweep } from "./grid.js";
import { drawNetwork, layerNames, linkValues } from "./network.js";

const root = document.getElementById("embed");
const title = document.getElementById("embed-title");
const view = window.location.pathname.split("/").filter(Boolean)[1];
const query = new URLSearchParams(window.location.search);
const jobId = query.get("job");
api.useShare(query.get("share"));

function area(className = "chart") {
  const div = document.createElement("div");
  div.className = className;
  root.appendChild(div);
  return div;
}

function caption(job, iteration) {
  const s = job.spec;
  const at = iteration === null ? "" : ` · iteration ${iteration}`;
  title.innerHTML = "";
  const link = Object.assign(document.createElement("a"), { href: api.withShare(`/v1/jobs/${job.id}`), target: "_blank", textContent: "initlab" });
  title.append(link, ` · ${view} · ${s.init.method} · ${s.dataset.name} · ${s.model.activation}${at}`);
}

async function main() {
  if (view === "phase") { // theory only, no job: /embed/phase?activation=tanh
    const activation = query.get("activation") || "tanh";
    title.textContent = `initlab · phase diagram · ${activation}`;
    await drawPhase(area("chart tall"), activation);
    document.body.dataset.ready = "true";
    return;
  }
  if (SWEEP_VIEWS.has(view)) return sweepView(query.get("sweep"));
  if (!jobId) throw new Error("add ?job=ID to the address");
  const job = await api.getJob(jobId);
  caption(job, null);
  const records = [];
  let dirty = false, painting = false, ended = false;
  const render = { cost: costView, boundary: await boundaryView(job), histograms: histogramsView,
    network: networkView(job), decay: signalView, spectrum: signalView }[view];
  if (!render) throw new Error(`unknown view ${view}`);
  // one paint at a time; what arrives meanwhile (the end too) is painted right after it, and
  // the page is marked ready only once the final state is drawn
  const paint = async () => {
    if (painting) return;
    painting = true;
    try {
      while (dirty && records.length) {
        dirty = false;
        // a view returns the iteration it drew (null: none yet); undefined means the newest
        const drawn = await render(records, job);
        caption(job, drawn === undefined ? records[records.length - 1].iteration : drawn);
      }
    } finally {
      painting = false;
    }
    if (ended) document.body.dataset.ready = "true";
  };
  const failed = (error) => {
    title.textContent = `Cannot show this figure: ${error.message}`;
    document.body.dataset.ready = "error";
  };
  const timer = setInterval(() => paint().catch(failed), 250);
  api.stream(job.id, {
    onRecord: (record) => { records.push(record); dirty = true; },
    onEnd: () => { clearInterval(timer); ended = dirty = true; paint().catch(failed); },
    onError: (detail) => { title.textContent = detail; },
  });
}

const costDiv = view === "cost" ? area() : null;
function costView(records) {
  charts.cost(costDiv, records.map((r) => r.iteration), records.map((r) => r.cost));
}

async function boundaryView(job) {
  if (view !== "boundary") return null;
  if (job.spec.dataset.name === "mnist") throw new Error("an image dataset has no decision boundary");
  const div = area("chart");
  const points = (await api.dataset(job.id)).train;
  return (records) => {
    const last = [...records].reverse().find((r) => r.boundary);
    if (!last) return null;
    charts.boundary(div, last, points);
    return last.iteration; // boundaries are recorded every few iterations
  };
}

const histRow = view === "histograms" ? area("hist-row") : null;
function histogramsView(records) {
  const field = query.get("field") || "activations";
  const last = [...records].reverse().find((r) => r.layers.some((l) => l[field] && l[field].histogram));
  if (!last) return null;
  const layers = last.layers.slice(0, -1);
  while (histRow.children.length < layers.length) histRow.appendChild(document.createElement("div"));
  histRow.style.gridTemplateColumns = `repeat(${Math.min(layers.length, 5)}, 1fr)`;
  layers.forEach((layer, l) => charts.histogram(histRow.children[l], layer[field], { title: `layer ${layer.layer}` }));
  return last.iteration;
}

const signalDiv = view === "decay" || view === "spectrum" ? area("chart tall") : null;
function signalView(records) {
  const last = [...records].reverse().find((r) => r.signal);
  if (!last) return null;
  if (view === "decay") drawDecay(signalDiv, last.signal);
  else if (last.signal.jacobian) drawSpectrum(signalDiv, last.signal.jacobian);
  else throw new Error("this network has no Jacobian spectrum (two hidden layers or more)");
  return last.iteration;
}

const SWEEP_VIEWS = new Set(["heatmap", "depth", "spectra"]);
/** A sweep's figure, drawn once every job of the sweep has ended (redrawn while they run). */
async function sweepView(sweepId) {
  if (!sweepId) throw new Error("add ?sweep=ID to the address");
  const metric = query.get("metric") || "final_cost";
  const div = area(view === "spectra" ? "spectra" : "chart tall");
  const draw = async (sweep) => {
    title.textContent = `initlab · ${view}${view === "heatmap" ? ` of ${metric}` : ""} · sweep ${sweep.id.slice(0, 8)}`;
    if (view === "heatmap") {
      if (Object.keys(sweep.vary).length !== 2) throw new Error("a heat map needs a sweep of two fields");
      await drawGrid(div, sweep, metric);
    } else if (view === "depth") {
      const job = await api.getJob(sweep.variations[0].job_id);
      await drawDepthMap(div, sweep.variations, job.spec.init.bias_variance, job.spec.model.activation);
    }
  };
  const sweep = await followSweep(sweepId, (s) => (view === "spectra" ? null : draw(s)));
  if (view === "spectra") await drawSpectra(div, sweep);
  else await draw(sweep);
  document.body.dataset.ready = "true";
}

function networkView(job) {
  if (view !== "network") return null;
  const div = area("network");
  const mode = query.get("links") === "gradients" ? "gradients" : "weights";
  return async (records) => {
    const inputs = job.spec.dataset.name === "mnist" ? 784 : 2;
    const sizes = [inputs, ...records[0].layers.map((l) => l.units)];
    const latest = await api.getJSON(`/v1/jobs/${job.id}/parameters`); // the newest snapshot
    const { values } = await linkValues(job, latest.iteration, mode, latest.iteration);
    const output = sizes[sizes.length - 1] === 1 ? "sigmoid" : "softmax";
    drawNetwork(div, sizes, values, { names: layerNames(sizes, job.spec.model.activation, output), what: mode.slice(0, -1) });
    return latest.iteration; // a snapshot's, which may trail the newest record
  };
}

main().catch((error) => {
  title.textContent = `Cannot show this figure: ${error.message}`;
  document.body.dataset.ready = "error";
});

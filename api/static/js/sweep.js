// Section 5: one preset, many initializers, run side by side (POST /v1/sweeps, GET /v1/sweeps/{id}).
import * as api from "./api.js";
import * as charts from "./charts.js";
import { drawGrid, drawSpectra, METRICS, valueLabel } from "./grid.js";
import { fillSelect, say } from "./menus.js";
import * as state from "./state.js";

const $ = (id) => document.getElementById(id);
const FINAL = api.FINAL;
const POINTS = 150; // cost points per card
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const NONE = "none"; // sw_i when no box is ticked ("" would read back as the default: all)
let following = 0; // only the newest sweep's loop keeps polling and drawing
let latest = null; // the followed sweep as last read: the grid redraws from it on a new metric

export async function initSweep(catalog) {
  const presets = await api.presets();
  const all = catalog.initializers.map((i) => i.name);
  state.define({ sw_p: "playground", sw_i: all.join(","), sw: "", sw_m: "final_cost" });
  fillSelect($("sw-preset"), Object.keys(presets), (name) => presets[name].title.split(":")[0]);
  state.bind($("sw-preset"), "sw_p");
  const chosen = new Set(state.get("sw_i").split(","));
  const boxes = all.map((name) => {
    const label = document.createElement("label");
    const box = Object.assign(document.createElement("input"), { type: "checkbox", value: name, checked: chosen.has(name) });
    box.addEventListener("change", () => {
      const ticked = boxes.filter((b) => b.checked).map((b) => b.value);
      state.set({ sw_i: ticked.length ? ticked.join(",") : NONE });
    });
    label.append(box, ` ${name}`);
    $("sw-inits").appendChild(label);
    return box;
  });
  $("sw-run").addEventListener("click", () => {
    const inits = boxes.filter((b) => b.checked).map((b) => b.value);
    if (!inits.length) return say($("sw-status"), "Choose at least one initializer.", true);
    return run({ "init.method": inits });
  });
  $("sw-grid").addEventListener("click", () => {
    const vary = presets[state.get("sw_p")].variants || {};
    if (Object.keys(vary).length !== 2) return say($("sw-status"), "This experiment’s grid does not vary two fields.", true);
    return run(vary);
  });
  fillSelect($("sw-metric"), METRICS, (m) => m.replaceAll("_", " "));
  state.bind($("sw-metric"), "sw_m", () => latest && drawHeat(latest));
  if (state.get("sw")) follow(state.get("sw")); // a shared link shows its sweep
}

/** Run the chosen experiment once per combination of the values in vary (field -> values). */
async function run(vary) {
  const status = $("sw-status");
  const count = Object.values(vary).reduce((n, values) => n * values.length, 1);
  say(status, `Submitting ${count} jobs…`);
  $("sw-run").disabled = $("sw-grid").disabled = true; // one submission at a time
  let sweep;
  try {
    sweep = await api.postJSON("/v1/sweeps", { base: { preset: state.get("sw_p") }, vary });
  } catch (error) {
    const reason = error.status === 404 || error.status === 405 ? "this server has no sweeps endpoint" : error.message;
    return say(status, `Could not run the sweep: ${reason}`, true);
  } finally {
    $("sw-run").disabled = false;
    $("sw-grid").disabled = false;
  }
  state.set({ sw: sweep.id });
  await follow(sweep.id);
}

/** Poll a sweep and draw its cards until it ends, an error stops it, or a newer one starts. */
async function follow(id) {
  const mine = ++following;
  const status = $("sw-status");
  const cards = $("sw-cards");
  cards.replaceChildren();
  latest = null;
  $("sw-grid-panel").hidden = $("sw-spectra-panel").hidden = true;
  const runs = new Map(); // job id -> {records, card}
  $("sweep").dataset.sweep = id;
  delete $("sweep").dataset.done;
  delete $("sweep").dataset.status;
  for (;;) {
    let sweep, variations;
    try {
      sweep = await api.getJSON(`/v1/sweeps/${id}`);
      if (mine !== following) return;
      variations = sweep.variations || [];
      await Promise.all(variations.filter((v) => v.job_id).map((v) => refresh(runs, v, cards)));
    } catch (error) {
      if (mine === following) say(status, `Sweep ${id}: ${error.message}`, true);
      return;
    }
    if (mine !== following) return;
    const ranked = Array.isArray(sweep.ranking) && sweep.ranking.length > 0;
    const order = ranked ? sweep.ranking.map((entry) => rankIndex(entry, variations)) : variations.map((_, i) => i);
    order.forEach((index, rank) => {
      const run = runs.get(variations[index] && variations[index].job_id);
      if (!run) return;
      run.card.style.order = String(rank);
      run.card.querySelector(".rank").textContent = ranked ? `#${rank + 1}` : "";
    });
    drawAll(runs);
    const done = variations.filter((v) => FINAL.has(v.status)).length;
    say(status, `Sweep ${sweep.status}: ${done} of ${variations.length} jobs finished.`);
    $("sweep").dataset.status = sweep.status;
    const over = FINAL.has(sweep.status) || (variations.length && done === variations.length);
    try {
      if (Object.keys(sweep.vary || {}).length === 2) await drawHeat(sweep);
      if (over) await spectra(sweep);
    } catch (error) {
      if (mine === following) say(status, `Sweep ${id}: ${error.message}`, true);
      return;
    }
    if (mine !== following) return;
    if (over) {
      $("sweep").dataset.done = "true";
      return;
    }
    await sleep(1000);
  }
}

/** A ranking entry as a variation index: an index, a job id, or {index | job_id}. */
function rankIndex(entry, variations) {
  if (typeof entry === "number") return entry;
  const jobId = typeof entry === "string" ? entry : entry && entry.job_id;
  if (entry && typeof entry.index === "number") return entry.index;
  return variations.findIndex((v) => v.job_id === jobId);
}

async function refresh(runs, variation, cards) {
  let run = runs.get(variation.job_id);
  if (!run) {
    run = { records: [], after: -1, card: card(variation), iterations: null };
    runs.set(variation.job_id, run);
    cards.appendChild(run.card);
  }
  const summary = variation.summary || {};
  const cost = charts.finite(summary.final_cost) ? summary.final_cost.toFixed(4) : summary.diverged ? "diverged" : "–";
  const acc = charts.finite(summary.train_accuracy) ? ` · accuracy ${Math.round(summary.train_accuracy * 100)}%` : "";
  run.card.querySelector(".meta").textContent = `${variation.status} · final cost ${cost}${acc}`;
  if (run.complete) return;
  if (run.iterations === null) run.iterations = (await api.getJob(variation.job_id)).spec.training.iterations;
  const every = Math.max(1, Math.ceil(run.iterations / POINTS));
  const { records, status } = await api.metrics(variation.job_id, { start: run.after + 1, every, fields: ["cost", "layers"] });
  run.records.push(...records);
  if (records.length) run.after = records[records.length - 1].iteration;
  run.complete = FINAL.has(status);
}

function card(variation) {
  const node = document.createElement("article");
  node.className = "panel card";
  const title = Object.values(variation.values || {}).map(valueLabel).join(", ");
  node.innerHTML = `<h3><span></span><span class="rank"></span></h3><p class="meta"></p>
    <div class="mini cost"></div><div class="mini spread"></div>
    <p class="meta">activation std per layer: bars at the start, dots at the end</p>`;
  node.querySelector("h3 span").textContent = title;
  node.dataset.job = variation.job_id;
  return node;
}

function drawAll(runs) {
  const costs = [...runs.values()].flatMap((r) => r.records.map((x) => x.cost)).filter((c) => charts.finite(c) && c > 0);
  const range = costs.length ? [Math.log10(Math.min(...costs)) - 0.1, Math.log10(Math.max(...costs)) + 0.1] : null;
  const key = (run) => `${run.records.length}:${range}`; // redraw when the data or the shared range change
  for (const run of runs.values()) {
    if (!run.records.length || run.drawn === key(run)) continue;
    run.drawn = key(run);
    const mini = { margin: { l: 40, r: 6, t: 4, b: 22 }, font: { size: 10 } };
    charts.draw(run.card.querySelector(".cost"), [{
      x: run.records.map((r) => r.iteration), y: run.records.map((r) => r.cost), mode: "lines",
      line: { color: charts.COLOURS.blue, width: 1.8 }, hovertemplate: "%{x}: %{y:.3g}<extra></extra>",
    }], { ...mini, yaxis: { type: "log", range, dtick: 1, title: { text: "cost", font: { size: 10 } } } });
    const first = run.records[0].layers.slice(0, -1);
    const last = run.records[run.records.length - 1].layers.slice(0, -1);
    const std = (layer) => (layer.activations && charts.finite(layer.activations.std) ? layer.activations.std : null);
    charts.draw(run.card.querySelector(".spread"), [
      { type: "bar", x: first.map((l) => l.layer), y: first.map(std), marker: { color: "#b9c9da" },
        hovertemplate: "layer %{x} at start: std %{y:.3g}<extra></extra>" },
      { type: "scatter", mode: "markers", x: last.map((l) => l.layer), y: last.map(std),
        marker: { color: charts.COLOURS.orange, size: 7 }, hovertemplate: "layer %{x} at the end: std %{y:.3g}<extra></extra>" },
    ], { ...mini, xaxis: { dtick: 1 }, yaxis: { title: { text: "act. std", font: { size: 10 } }, rangemode: "tozero" } });
    run.card.dataset.points = String(run.records.length);
  }
}

/** The two-field grid of the chosen metric; redrawn only when the sweep's numbers changed. */
async function drawHeat(sweep) {
  latest = sweep;
  const metric = state.get("sw_m");
  const div = $("sw-heat");
  const key = `${metric}|${JSON.stringify(sweep.variations.map((v) => [v.status, v.summary, v.iterations_to_target]))}`;
  $("sw-grid-panel").hidden = false;
  $("sw-heat-svg").href = `/v1/sweeps/${sweep.id}/plots/heatmap.svg?metric=${metric}`;
  $("sw-heat-embed").href = `/embed/heatmap?sweep=${sweep.id}&metric=${metric}`;
  if (div.dataset.key === key) return;
  await drawGrid(div, sweep, metric);
  div.dataset.key = key;
}

/** Each variation's Jacobian spectrum, for an experiment that records the signal section. */
async function spectra(sweep) {
  const preset = (await api.presets())[sweep.base.preset];
  const signal = preset && preset.spec.record && preset.spec.record.signal;
  if (!signal || !signal.every) return;
  $("sw-spectra-panel").hidden = false;
  $("sw-spectra-svg").href = `/v1/sweeps/${sweep.id}/plots/spectra.svg`;
  $("sw-spectra-embed").href = `/embed/spectra?sweep=${sweep.id}`;
  await drawSpectra($("sw-spectra"), sweep);
}

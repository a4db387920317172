// Section 1, the article's playground: a small network on 2D points, trained live.
import * as api from "./api.js";
import * as charts from "./charts.js";
import { articleInitializers, debounce, describeInitializer, fillInitializers, fillSelect, say } from "./menus.js";
import { drawNetwork, layerNames, linkValues } from "./network.js";
import { Player } from "./player.js";
import * as state from "./state.js";

const $ = (id) => document.getElementById(id);
const DEFAULTS = { ds: "circle", init: "appropriate", act: "relu", opt: "gd", lr: "0.1", it: "1000",
  hid: "6,3", seed: "0", links: "weights", speed: "150" };
const MAX_SNAPSHOT_VALUES = 2e6; // weights kept across a job's snapshots (the gradient view)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The experiment spec the controls describe (the URL holds the same values). */
export function playgroundSpec() {
  const hidden = state.parseWidths(state.get("hid")) || [6, 3];
  const iterations = Number(state.get("it"));
  const sizes = [2, ...hidden, 1];
  const weights = sizes.slice(1).reduce((sum, n, l) => sum + n * sizes[l], 0);
  return {
    preset: "playground",
    dataset: { name: state.get("ds") },
    model: { hidden, activation: state.get("act") },
    init: { method: state.get("init"), seed: Number(state.get("seed")) },
    optimizer: { name: state.get("opt"), learning_rate: Number(state.get("lr")) },
    training: { iterations },
    record: { parameters: { every: Math.max(1, Math.ceil((iterations * weights) / MAX_SNAPSHOT_VALUES)) } },
  };
}

export async function initPlayground(catalog, presets) {
  state.define(DEFAULTS);
  const section = $("playground");
  const status = $("pg-status");
  let job = null, points = null, loads = 0;
  let drawnBoundary = null, wantNetwork = null, drawnNetwork = null, networkBusy = false;

  const player = new Player({ render, onChange: showState, speed: Number(state.get("speed")) });

  fillInitializers($("pg-init"), catalog, articleInitializers(presets.playground));
  fillSelect($("pg-act"), catalog.activations.map((a) => a.name));
  fillSelect($("pg-opt"), catalog.optimizers.map((o) => o.name));
  const reload = debounce(load, 300);
  for (const [id, key] of [["pg-init", "init"], ["pg-act", "act"], ["pg-opt", "opt"], ["pg-lr", "lr"],
    ["pg-it", "it"], ["pg-hid", "hid"], ["pg-seed", "seed"]]) state.bind($(id), key, reload);
  state.bind($("pg-speed"), "speed", (value) => { player.speed = Number(value); });
  const showFormula = () => { $("pg-formula").textContent = describeInitializer(catalog, state.get("init")); };
  $("pg-init").addEventListener("change", showFormula);
  showFormula();

  for (const radio of document.querySelectorAll('input[name="pg-links"]')) {
    radio.checked = radio.value === state.get("links");
    radio.addEventListener("change", () => {
      state.set({ links: radio.value });
      if (player.record) updateNetwork(player.record.iteration);
    });
  }
  $("pg-play").addEventListener("click", () => player.toggle());
  $("pg-step").addEventListener("click", () => player.step());
  $("pg-reset").addEventListener("click", () => player.reset());
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
    const action = { k: () => player.toggle(), ".": () => player.step(), r: () => player.reset() }[event.key];
    if (action) { action(); event.preventDefault(); }
  });
  buildThumbnails(catalog, reload);

  async function load() {
    const version = ++loads;
    player.close();
    say(status, "Starting a job on the worker…");
    try {
      const submitted = await api.submitJob(playgroundSpec());
      const stopNote = api.whileQueued(submitted.id, (note) => version === loads && say(status, note));
      const [first, data] = await Promise.all([api.firstRecord(submitted.id), api.dataset(submitted.id)])
        .finally(stopNote);
      if (version !== loads) return;
      job = submitted;
      points = data.train;
      drawnBoundary = drawnNetwork = null;
      section.dataset.job = job.id;
      showEmbeds(job.id);
      player.load(job, [first]);
    } catch (error) {
      if (version !== loads) return;
      job = null; // play must not replay the previous settings' run under the new ones
      delete section.dataset.job;
      player.unload();
      say(status, `Could not start: ${error.message}`, true);
    }
  }

  function render(records, cursor) {
    const record = records[cursor];
    const shown = records.slice(0, cursor + 1);
    charts.cost($("pg-cost"), shown.map((r) => r.iteration), shown.map((r) => r.cost),
      { range: [0, job.spec.training.iterations] });
    let b = cursor;
    while (b > 0 && !records[b].boundary) b -= 1;
    if (records[b].boundary && drawnBoundary !== records[b].iteration) {
      drawnBoundary = records[b].iteration;
      charts.boundary($("pg-boundary"), records[b], points);
    }
    section.dataset.iteration = String(record.iteration);
    updateNetwork(record.iteration);
  }

  async function updateNetwork(iteration) {
    wantNetwork = iteration;
    if (networkBusy) return;
    networkBusy = true;
    try {
      for (;;) {
        const mode = state.get("links");
        const key = `${job.id}:${wantNetwork}:${mode}`;
        if (key === drawnNetwork) break;
        const records = player.records;
        const last = player.ended ? records[records.length - 1].iteration : job.spec.training.iterations;
        const { values, iteration: at } = await linkValues(job, wantNetwork, mode, last);
        const sizes = [2, ...records[0].layers.map((layer) => layer.units)];
        const output = sizes[sizes.length - 1] === 1 ? "sigmoid" : "softmax";
        const peak = drawNetwork($("pg-network"), sizes, values,
          { names: layerNames(sizes, job.spec.model.activation, output), what: mode === "weights" ? "weight" : "gradient" });
        $("pg-network").dataset.mode = mode;
        $("pg-network").dataset.iteration = String(at);
        networkLegend(mode, peak, at);
        drawnNetwork = key;
        if (player.playing) await sleep(120); // a few redraws a second is plenty
      }
    } catch (error) {
      $("pg-network-legend").textContent = `Links unavailable: ${error.message}`;
    } finally {
      networkBusy = false;
    }
  }

  function networkLegend(mode, peak, at) {
    const legend = $("pg-network-legend");
    const exact = ["gd", "sgd"].includes(job.spec.optimizer.name) && job.spec.record.parameters.every === 1;
    const what = mode === "weights" ? `weights at iteration ${at}`
      : exact ? `gradients ∂cost/∂W at iteration ${at}` : `(W[t] − W[t+k]) / (k·lr) from iteration ${at}`;
    legend.innerHTML = '<span><span class="swatch pos"></span> positive</span>'
      + '<span><span class="swatch neg"></span> negative</span>';
    const note = document.createElement("span");
    note.textContent = peak === 0 ? `${what}: every link is exactly 0 (dashed)`
      : `${what}; line width ∝ |value|, thickest ${peak.toPrecision(3)}`;
    legend.appendChild(note);
  }

  function showState(p) {
    $("pg-play").textContent = p.playing ? "Pause" : "Play";
    $("pg-play").setAttribute("aria-pressed", String(p.playing));
    const r = p.record;
    if (!r || !job) return;
    if (p.error) return say(status, p.error, true);
    const cost = charts.finite(r.cost) ? r.cost.toFixed(4) : "not finite";
    const acc = charts.finite(r.train_accuracy) ? `${Math.round(r.train_accuracy * 100)}%` : "–";
    const end = p.ended && p.cursor === p.records.length - 1 ? ` · ${p.status}` : p.status === "running" ? " · training" : "";
    say(status, `iteration ${r.iteration} of ${job.spec.training.iterations} · cost ${cost} · accuracy ${acc}${end}`);
  }

  function showEmbeds(id) {
    const links = ["cost", "boundary", "network", "histograms"].map((v) => `<a href="/embed/${v}?job=${id}">${v}</a>`);
    const svgs = ["cost", "boundary", "histograms"].map((v) => `<a href="/v1/jobs/${id}/plots/${v}.svg">${v}.svg</a>`);
    $("pg-embeds").innerHTML = `Embed this run in another page: ${links.join(" · ")} (iframes) — images: ${svgs.join(" · ")}`;
  }

  await load();
  return player;
}

/** One radio button per 2D dataset, its label a thumbnail of the points (the API's preview). */
function buildThumbnails(catalog, onChange) {
  const fieldset = $("pg-datasets");
  const names = catalog.datasets.filter((d) => d.kind === "2d").map((d) => d.name);
  for (const name of names) {
    const label = document.createElement("label");
    const input = Object.assign(document.createElement("input"), { type: "radio", name: "pg-ds", value: name });
    input.checked = name === state.get("ds");
    input.addEventListener("change", () => { state.set({ ds: name }); onChange(); });
    const canvas = Object.assign(document.createElement("canvas"), { width: 120, height: 120 });
    canvas.setAttribute("aria-hidden", "true");
    label.append(input, canvas, document.createTextNode(name));
    fieldset.appendChild(label);
    thumbnail(name, canvas);
  }
}

async function thumbnail(name, canvas) {
  try {
    const data = await api.getJSON(`/v1/datasets/${name}?n_samples=100`); // what a job with it trains on
    const ctx = canvas.getContext("2d");
    const scale = (v) => ((v + 5) / 10) * canvas.width;
    data.train.x.forEach(([x, y], i) => {
      ctx.fillStyle = charts.CLASS_COLOURS[data.train.y[i] % charts.CLASS_COLOURS.length];
      ctx.beginPath();
      ctx.arc(scale(x), canvas.height - scale(y), 4, 0, 2 * Math.PI);
      ctx.fill();
    });
    canvas.dataset.points = String(data.train.x.length);
  } catch (error) {
    canvas.title = `no preview: ${error.message}`;
  }
}

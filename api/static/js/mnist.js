// Section 3: the MNIST network, batch by batch: per-layer activation histograms, the batch's
// 100 images and the network's 100 answers (preset mnist).
import * as api from "./api.js";
import * as charts from "./charts.js";
import { articleInitializers, describeInitializer, fillInitializers, say } from "./menus.js";
import { Player } from "./player.js";
import * as state from "./state.js";

const $ = (id) => document.getElementById(id);
const BATCH = 100;

export function mnistSpec() {
  const n = Number(state.get("m_n"));
  return { preset: "mnist", init: { method: state.get("m_init") }, dataset: { n_samples: n },
    training: { iterations: Math.ceil(n / BATCH) } }; // one epoch
}

export function initMnist(catalog, presets) {
  state.define({ m_init: "xavier", m_n: "10000" });
  const section = $("mnist");
  const status = $("mn-status");
  const histDivs = [];
  const cells = [];
  let job = null, starting = null, wantImages = null, drawnImages = null, imagesBusy = false;
  let settings = 0; // bumped when a setting changes: a submission made before is dropped

  fillInitializers($("mn-init"), catalog, articleInitializers(presets.mnist));
  const changed = () => {
    settings += 1;
    starting = null;
    job = null;
    player.unload();
    clearDisplay();
    $("mn-formula").textContent = describeInitializer(catalog, state.get("m_init"));
    say(status, "Press play to train one epoch with these settings.");
  };
  state.bind($("mn-init"), "m_init", changed);
  state.bind($("mn-n"), "m_n", changed);
  $("mn-formula").textContent = describeInitializer(catalog, state.get("m_init"));

  for (let l = 0; l < 4; l += 1) {
    const div = document.createElement("div");
    div.className = "hist";
    $("mn-hist").appendChild(div);
    histDivs.push(div);
  }
  for (let k = 0; k < BATCH; k += 1) {
    const cell = document.createElement("div");
    cell.className = "cell";
    cell.setAttribute("role", "gridcell");
    $("mn-grid").appendChild(cell);
    cells.push(cell);
  }

  const player = new Player({ render, onChange: showState, speed: 20 });

  async function ensureJob() {
    if (job) return true;
    const asked = settings; // a pending submission was made under these too (changed() drops it)
    if (!starting) {
      const attempt = (async () => {
        say(status, "Starting the job (loading MNIST on the worker)…");
        const submitted = await api.submitJob(mnistSpec());
        if (asked !== settings) return false; // made for settings no longer shown
        job = submitted;
        section.dataset.job = job.id;
        player.load(job, []);
        // until its first batch: where it waits in its lane (a long job may be ahead of it)
        const stopNote = api.whileQueued(job.id, (note) => {
          if (job === submitted && !player.record && !player.error) say(status, note);
          else stopNote();
        });
        return true;
      })();
      starting = attempt;
      attempt.finally(() => { if (starting === attempt) starting = null; }).catch(() => {});
    }
    try {
      return await starting;
    } catch (error) {
      if (asked === settings) say(status, `Could not start: ${error.message}`, true);
      return false;
    }
  }

  /** Nothing of an earlier run on screen (its settings changed). */
  function clearDisplay() {
    histDivs.forEach(charts.clear);
    charts.clear($("mn-costchart"));
    for (const cell of cells) {
      cell.className = "cell";
      cell.textContent = cell.title = "";
      cell.removeAttribute("aria-label");
    }
    delete $("mn-grid").dataset.iteration;
    delete section.dataset.iteration;
    delete section.dataset.job;
    $("mn-wrong").textContent = "–/100";
    $("mn-cost").textContent = "–";
    const canvas = $("mn-images");
    canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    delete canvas.dataset.images;
    wantImages = drawnImages = null;
  }

  $("mn-play").addEventListener("click", async () => {
    if (player.playing) return player.pause();
    if (await ensureJob()) player.play();
  });
  $("mn-step").addEventListener("click", async () => { if (await ensureJob()) player.step(); });
  $("mn-reset").addEventListener("click", () => player.reset());

  function render(records, cursor) {
    const record = records[cursor];
    const hidden = record.layers.slice(0, -1);
    hidden.forEach((layer, l) => {
      if (histDivs[l]) charts.histogram(histDivs[l], layer.activations, { title: `layer ${layer.layer}`, range: [-1.2, 1.2] });
    });
    const shown = records.slice(0, cursor + 1);
    charts.cost($("mn-costchart"), shown.map((r) => r.iteration), shown.map((r) => r.cost),
      { range: [0, job.spec.training.iterations] });
    $("mn-cost").textContent = charts.finite(record.cost) ? record.cost.toFixed(3) : "not finite";
    const p = record.predictions;
    if (!p) return;
    const wrong = p.correct.filter((c) => !c).length;
    $("mn-wrong").textContent = `${wrong}/${p.correct.length}`;
    cells.forEach((cell, k) => {
      const known = k < p.correct.length;
      cell.className = `cell ${known ? (p.correct[k] ? "ok" : "bad") : ""}`;
      cell.textContent = known ? String(p.predicted[k]) : "";
      const text = known ? `image ${k + 1}: a ${p.labels[k]}, answered ${p.predicted[k]} — ${p.correct[k] ? "right" : "wrong"}` : "";
      cell.title = text;
      cell.setAttribute("aria-label", text);
    });
    $("mn-grid").dataset.iteration = String(record.iteration);
    section.dataset.iteration = String(record.iteration);
    wantImages = p;
    drawImages();
  }

  async function drawImages() {
    if (imagesBusy) return;
    imagesBusy = true;
    try {
      while (wantImages && wantImages !== drawnImages) {
        const p = wantImages;
        const images = await imagesOf(p.indices, job.spec.dataset.split);
        if (p !== wantImages) continue; // a newer batch, or none (cleared), is wanted now
        paintImages($("mn-images"), images, p.correct);
        drawnImages = p;
        delete $("mn-images").dataset.error;
        $("mn-images").title = "";
      }
    } catch (error) {
      $("mn-images").title = `images unavailable: ${error.message}`;
      $("mn-images").dataset.error = error.message;
    } finally {
      imagesBusy = false;
    }
  }

  function showState(p) {
    $("mn-play").textContent = p.playing ? "Pause" : "Play";
    $("mn-play").setAttribute("aria-pressed", String(p.playing));
    const r = p.record;
    if (p.error) return say(status, p.error, true);
    if (!r) return p.job && say(status, waitingFor(p));
    const of = job.spec.training.iterations;
    const end = p.ended && p.cursor === p.records.length - 1 ? ` · ${p.status}` : "";
    say(status, `batch ${r.iteration} of ${of} · epoch ${r.epoch.toFixed(2)}${end}`);
  }
}

/** What the section waits for before its first batch is shown; no final word until it is. */
function waitingFor(p) {
  if (p.ended) return `Job ${p.status}: no batch was recorded.`;
  if (p.status === "queued" || p.status === "running") return `Job ${p.status}: waiting for the first batch…`;
  if (p.job.reused_from) return "These settings already ran: replaying the stored batches…";
  return "Loading the recorded batches…";
}

const imageCache = new Map();
function imagesOf(indices, split) {
  const key = `${split}:${indices.join(",")}`;
  if (!imageCache.has(key)) {
    imageCache.set(key, api.mnistImages(indices, split).catch((error) => { imageCache.delete(key); throw error; }));
    if (imageCache.size > 200) imageCache.delete(imageCache.keys().next().value);
  }
  return imageCache.get(key);
}

/** 10 x 10 images of 28 x 28, white on black; a red frame around the misclassified ones. */
function paintImages(canvas, images, correct) {
  const [h, w] = images.shape;
  const ctx = canvas.getContext("2d");
  const frame = ctx.createImageData(w * 10, h * 10);
  images.indices.forEach((_, k) => {
    const ox = (k % 10) * w, oy = Math.floor(k / 10) * h;
    for (let y = 0; y < h; y += 1) {
      for (let x = 0; x < w; x += 1) {
        const v = images.pixels[k * w * h + y * w + x];
        const at = ((oy + y) * w * 10 + ox + x) * 4;
        frame.data[at] = frame.data[at + 1] = frame.data[at + 2] = v;
        frame.data[at + 3] = 255;
      }
    }
  });
  ctx.putImageData(frame, 0, 0);
  ctx.strokeStyle = charts.COLOURS.bad;
  ctx.lineWidth = 2;
  correct.forEach((ok, k) => { if (!ok) ctx.strokeRect((k % 10) * w + 1, Math.floor(k / 10) * h + 1, w - 2, h - 2); });
  canvas.dataset.images = String(images.indices.length);
}

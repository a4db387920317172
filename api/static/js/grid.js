// A sweep over two fields as a heat map (GET /v1/sweeps/{id}): rows along the first varied
// field, columns along the second, each cell a chosen metric of its job, printed in the cell.
// The same grid as the server's /v1/sweeps/{id}/plots/heatmap.svg. Also each variation's
// Jacobian spectrum (a dynamical_isometry sweep), and following a sweep to its end.
import * as api from "./api.js";
import * as charts from "./charts.js";
import { drawSpectrum } from "./edge.js";

export const METRICS = ["final_cost", "train_accuracy", "test_accuracy", "iterations_to_target", "xi_c"];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Whether a variation's job has ended (or is gone): its numbers no longer change. */
export const ended = (variation) => variation.status === "deleted" || api.FINAL.has(variation.status);

/** A varied value as a label: 0.5, tanh, "5 x 48" (five layers of 48 units). */
export function valueLabel(value) {
  if (Array.isArray(value) && value.length && value.every((v) => v === value[0])) return `${value.length} x ${value[0]}`;
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

const signals = new Map(); // job id -> the signal section of its iteration 0 (never changes)
async function xiC(variation) {
  if (!ended(variation)) return null;
  if (!signals.has(variation.job_id)) {
    const { records } = await api.metrics(variation.job_id, { stop: 0, fields: ["signal"] });
    signals.set(variation.job_id, records.length ? records[0].signal || null : null);
  }
  const signal = signals.get(variation.job_id);
  return signal ? signal.xi_c.measured : null;
}

/** The metric of one variation (null: not known yet, or not finite). */
async function metricOf(variation, metric) {
  if (metric === "xi_c") return xiC(variation);
  const value = metric === "final_cost" || metric === "iterations_to_target"
    ? variation[metric] : (variation.summary || {})[metric];
  return charts.finite(value) ? value : null;
}

/** {rows, columns, z}: z[i][j] is the metric at the first field's i-th and the second's j-th value. */
export async function sweepGrid(sweep, metric) {
  const [rowField, columnField] = Object.keys(sweep.vary);
  const key = (v) => JSON.stringify(v);
  const index = new Map(sweep.variations.map((v, k) => [`${key(v.values[rowField])}|${key(v.values[columnField])}`, k]));
  const values = await Promise.all(sweep.variations.map((v) => metricOf(v, metric)));
  const z = sweep.vary[rowField].map((r) => sweep.vary[columnField].map((c) => {
    const k = index.get(`${key(r)}|${key(c)}`);
    return k === undefined ? null : values[k];
  }));
  return { rows: { field: rowField, labels: sweep.vary[rowField].map(valueLabel) },
    columns: { field: columnField, labels: sweep.vary[columnField].map(valueLabel) }, z };
}

/** Draw a two-field sweep's metric as a heat map into div; marks div with what it shows. */
export async function drawGrid(div, sweep, metric) {
  const { rows, columns, z } = await sweepGrid(sweep, metric);
  const text = z.map((row) => row.map((v) => (v === null ? "n/a" : Number(v).toPrecision(3))));
  await charts.draw(div, [{
    type: "heatmap", x: columns.labels, y: rows.labels, z, text, texttemplate: "%{text}",
    colorscale: "Viridis", colorbar: { title: { text: metric.replaceAll("_", " ") } },
    hovertemplate: `${rows.field} %{y}<br>${columns.field} %{x}<br>%{text}<extra></extra>`,
  }], {
    margin: { l: 90, r: 12, t: 10, b: 70 },
    xaxis: { type: "category", title: { text: columns.field } },
    yaxis: { type: "category", title: { text: rows.field } },
  });
  div.dataset.cells = String(rows.labels.length * columns.labels.length);
  div.dataset.metric = metric;
}

/** Each variation's Jacobian spectrum at iteration 0, a row per value of the first field. */
export async function drawSpectra(container, sweep) {
  const fields = Object.keys(sweep.vary);
  const columns = fields.length ? sweep.vary[fields[fields.length - 1]].length : 1;
  container.style.gridTemplateColumns = `repeat(${columns}, 1fr)`;
  container.replaceChildren();
  for (const variation of sweep.variations) {
    const panel = document.createElement("figure");
    panel.className = "panel";
    const caption = Object.assign(document.createElement("figcaption"),
      { textContent: Object.values(variation.values).map(valueLabel).join(", ") });
    const div = Object.assign(document.createElement("div"), { className: "chart" });
    panel.append(caption, div);
    container.appendChild(panel);
    const record = await api.firstRecord(variation.job_id);
    drawSpectrum(div, record.signal && record.signal.jacobian);
  }
  container.dataset.panels = String(sweep.variations.length);
}

/** Poll a sweep until every job has ended; onPoll(sweep) after each read. */
export async function followSweep(id, onPoll = () => {}) {
  await api.catalog();
  for (;;) {
    const sweep = await api.getJSON(`/v1/sweeps/${id}`);
    await onPoll(sweep);
    if (sweep.variations.every(ended)) return sweep;
    await sleep(1000);
  }
}

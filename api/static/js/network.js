// The network as an SVG diagram: one circle per unit, one line per weight, each line
// coloured by the sign of its value (blue +, orange -) and as thick as its magnitude.
import * as api from "./api.js";
import { COLOURS } from "./charts.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_UNITS = 12; // units drawn per layer; wider layers show their first ones
const fmt = (v) => (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4) : v.toExponential(2));

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (parent) parent.appendChild(node);
  return node;
}

/**
 * Draw `sizes` (units per layer, input first) with link values `values[l][i][j]`
 * (layer l+1, unit i, from unit j). Returns the largest magnitude drawn.
 */
export function drawNetwork(container, sizes, values, { names = [], what = "weight" } = {}) {
  const width = 640, height = 270, top = 22, bottom = 34;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `network ${sizes.join("-")}, links show ${what}s` });
  const x = (l) => 64 + ((width - 128) * l) / (sizes.length - 1);
  const shown = sizes.map((n) => Math.min(n, MAX_UNITS));
  const y = (l, i) => top + ((height - top - bottom) * (i + 0.5)) / shown[l];
  const radius = Math.min(11, (0.4 * (height - top - bottom)) / Math.max(...shown));
  let peak = 0;
  for (const layer of values) for (const row of layer) for (const v of row) if (v !== null) peak = Math.max(peak, Math.abs(v));
  const links = el("g", {}, svg);
  let count = 0;
  values.forEach((matrix, l) => {
    for (let i = 0; i < shown[l + 1]; i += 1) {
      for (let j = 0; j < shown[l]; j += 1) {
        const v = matrix[i] ? matrix[i][j] : null;
        const rel = v === null || peak === 0 ? 0 : Math.abs(v) / peak;
        const attrs = { x1: x(l), y1: y(l, j), x2: x(l + 1), y2: y(l + 1, i), class: "link",
          "data-value": v === null ? "nan" : String(v),
          stroke: v === null ? COLOURS.bad : v > 0 ? COLOURS.blue : v < 0 ? COLOURS.orange : "#b0b5ba",
          "stroke-width": (0.6 + 7 * rel).toFixed(2), "stroke-opacity": (0.25 + 0.75 * rel).toFixed(2) };
        if (rel === 0) attrs["stroke-dasharray"] = "3 3";
        const line = el("line", attrs, links);
        el("title", {}, line).textContent = `${what} from unit ${j + 1} of layer ${l} to unit ${i + 1} of layer ${l + 1}: ${v === null ? "not finite" : fmt(v)}`;
        count += 1;
      }
    }
  });
  sizes.forEach((n, l) => {
    for (let i = 0; i < shown[l]; i += 1) {
      el("circle", { cx: x(l), cy: y(l, i), r: radius, class: "unit" }, svg);
      const label = l === 0 ? `x${i + 1}` : l === sizes.length - 1 ? (n === 1 ? "ŷ" : `y${i + 1}`) : "";
      if (label) el("text", { x: x(l), y: y(l, i), class: "unit-label" }, svg).textContent = label;
    }
    const more = n > shown[l] ? ` (${shown[l]} of ${n})` : "";
    el("text", { x: x(l), y: height - 10, class: "layer-label" }, svg).textContent = (names[l] || "") + more;
  });
  container.replaceChildren(svg);
  container.dataset.links = String(count);
  container.dataset.peak = String(peak);
  return peak;
}

/** Layer names under the diagram: input, hidden (activation), output. */
export function layerNames(sizes, activation, output) {
  return sizes.map((_, l) => (l === 0 ? "input" : l === sizes.length - 1 ? `output (${output})` : `${activation}`));
}

/**
 * Per-link values at a recorded iteration: the weights, or the gradients. The API keeps
 * snapshots of the weights every `every` iterations; for gradient descent
 * W[t+k] = W[t] - lr * (sum of k gradients), so (W[t] - W[t+k]) / (k * lr) is the gradient
 * (exactly, for k = 1). For momentum, RMSProp and Adam it is the step divided by lr.
 */
export async function linkValues(job, iteration, mode, lastIteration) {
  const every = Math.max(1, job.spec.record.parameters.every || 1);
  const snap = iteration === lastIteration ? iteration : Math.floor(iteration / every) * every;
  const now = await api.parameters(job.id, snap);
  if (mode === "weights") return { iteration: snap, values: now.layers.map((layer) => layer.weights) };
  const lr = job.spec.optimizer.learning_rate;
  let a = snap, b = Math.min(snap + every, lastIteration ?? snap + every);
  if (b <= a) [a, b] = [Math.max(0, snap - every), snap]; // the last snapshot: look back
  if (b <= a) return { iteration: snap, values: now.layers.map((layer) => layer.weights.map((row) => row.map(() => 0))) };
  let before, after;
  try {
    [before, after] = await Promise.all([api.parameters(job.id, a), api.parameters(job.id, b)]);
  } catch {  // the next snapshot is not written yet: use the step that led here
    [a, b] = [Math.max(0, snap - every), snap];
    if (b <= a) throw new Error("no gradient before the first update is known");
    [before, after] = await Promise.all([api.parameters(job.id, a), api.parameters(job.id, b)]);
  }
  const scale = 1 / ((b - a) * lr);
  const values = before.layers.map((layer, l) => layer.weights.map((row, i) => row.map((w, j) => {
    const w2 = after.layers[l].weights[i][j];
    return w === null || w2 === null ? null : (w - w2) * scale;
  })));
  return { iteration: a, values };
}

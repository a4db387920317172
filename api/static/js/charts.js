// Charts drawn with plotly.js (served from the installed `plotly` wheel).
const Plotly = window.Plotly;

export const COLOURS = {
  orange: "#e07b00", blue: "#1a6bb5", ok: "#1a6bb5", bad: "#c62828", ink: "#1f2328",
  grid: "#e6e8eb", muted: "#5b636b",
};
export const CLASS_COLOURS = [COLOURS.orange, COLOURS.blue, "#2e9e4f", "#8e44ad"];
const BOUNDARY_SCALE = [[0, "#f3b36b"], [0.5, "#fafafa"], [1, "#86b6e3"]];
const CONFIG = { displayModeBar: false, responsive: true };
const FONT = { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12, color: "#333" };

export function layout(extra = {}) {
  return {
    margin: { l: 52, r: 12, t: 10, b: 40 },
    font: FONT,
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "#fff",
    showlegend: false,
    ...extra,
    xaxis: { gridcolor: COLOURS.grid, zeroline: false, automargin: true, ...(extra.xaxis || {}) },
    yaxis: { gridcolor: COLOURS.grid, zeroline: false, automargin: true, ...(extra.yaxis || {}) },
  };
}

export function draw(div, data, extraLayout = {}) {
  return Plotly.react(div, data, layout(extraLayout), CONFIG);
}

/** Empty a chart: no traces, no data-* marks of what it showed. */
export function clear(div) {
  Plotly.purge(div);
  for (const key of Object.keys(div.dataset)) delete div.dataset[key];
}

export const finite = (value) => typeof value === "number" && Number.isFinite(value);

/** Cost against iteration; a red mark where it stopped being finite. */
export function cost(div, xs, ys, { title = null, log = false, range = null } = {}) {
  const trace = { x: xs, y: ys, type: "scatter", mode: "lines", line: { color: COLOURS.blue, width: 2 },
    hovertemplate: "iteration %{x}<br>cost %{y:.4g}<extra></extra>" };
  const lost = xs.findIndex((_, i) => ys[i] === null);
  const shapes = lost >= 0 ? [{ type: "line", x0: xs[lost], x1: xs[lost], yref: "paper", y0: 0, y1: 1,
    line: { color: COLOURS.bad, dash: "dash" } }] : [];
  const annotations = lost >= 0 ? [{ x: xs[lost], yref: "paper", y: 1, text: `diverged at ${xs[lost]}`,
    showarrow: false, xanchor: "right", font: { color: COLOURS.bad } }] : [];
  div.dataset.points = String(ys.filter(finite).length);
  return draw(div, [trace], {
    shapes, annotations,
    xaxis: { title: { text: "iteration" }, range, ticklabelstandoff: 4 },
    yaxis: { title: { text: title || "cost" }, type: log ? "log" : "linear", rangemode: "tozero",
      ticklabelstandoff: 4 },
  });
}

/** The predicted probability over the input plane, with the training points on top. */
export function boundary(div, record, points) {
  const b = record.boundary;
  const n = b.resolution;
  const axis = (lo, hi) => Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
  const multi = Array.isArray(b.label);
  const heat = {
    type: "heatmap", x: axis(b.x[0], b.x[1]), y: axis(b.y[0], b.y[1]), // row = y, column = x
    z: multi ? b.label : b.p, zmin: 0, zmax: multi ? CLASS_COLOURS.length - 1 : 1,
    colorscale: multi ? CLASS_COLOURS.map((c, i) => [i / (CLASS_COLOURS.length - 1), `${c}55`]) : BOUNDARY_SCALE,
    showscale: false, zsmooth: multi ? false : "best", hoverinfo: "skip",
  };
  const data = [heat];
  if (!multi) {
    data.push({ type: "contour", x: heat.x, y: heat.y, z: b.p, showscale: false, hoverinfo: "skip",
      contours: { start: 0.5, end: 0.5, size: 1, coloring: "none" }, line: { color: "#333", width: 1 } });
  }
  if (points) {
    data.push({
      type: "scatter", mode: "markers", x: points.x.map((p) => p[0]), y: points.x.map((p) => p[1]),
      marker: { size: 7, color: points.y.map((y) => CLASS_COLOURS[y % CLASS_COLOURS.length]),
        line: { color: "#fff", width: 1 } },
      hovertemplate: "(%{x:.2f}, %{y:.2f})<extra></extra>",
    });
  }
  div.dataset.iteration = String(record.iteration);
  return draw(div, data, {
    margin: { l: 36, r: 8, t: 8, b: 30 },
    xaxis: { range: b.x, constrain: "domain", showgrid: false },
    yaxis: { range: b.y, scaleanchor: "x", showgrid: false },
  });
}

/** A recorded histogram {range, counts} as bars of fractions. */
export function histogram(div, stat, { title = "", colour = COLOURS.blue, range = null } = {}) {
  const hist = stat && stat.histogram;
  if (!hist) return null;
  const [lo, hi] = hist.range;
  const width = (hi - lo) / hist.counts.length;
  const total = hist.counts.reduce((a, b) => a + b, 0) || 1;
  return draw(div, [{
    type: "bar", x: hist.counts.map((_, i) => lo + (i + 0.5) * width),
    y: hist.counts.map((c) => c / total), width, marker: { color: colour, line: { width: 0 } },
    hovertemplate: "%{x:.3f}: %{y:.1%}<extra></extra>",
  }], {
    margin: { l: 40, r: 6, t: 26, b: 28 }, bargap: 0,
    title: { text: title, font: { size: 12 }, x: 0.02, y: 0.98 },
    xaxis: { range: range || [lo, hi] }, yaxis: { tickformat: ".1%", rangemode: "tozero", nticks: 4 },
  });
}

/** sqrt(mean^2 + std^2): the root mean square of a recorded array. */
export function rms(stat) {
  if (!stat || !finite(stat.mean) || !finite(stat.std)) return null;
  return Math.sqrt(stat.mean * stat.mean + stat.std * stat.std);
}

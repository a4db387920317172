// Section 4: Section IV's variance recursion, predicted layer by layer and measured
// (POST /v1/theory/variance).
import * as api from "./api.js";
import * as charts from "./charts.js";
import { debounce, fillInitializers, fillSelect } from "./menus.js";
import * as state from "./state.js";

const $ = (id) => document.getElementById(id);
let runs = 0; // only the newest request's answer is drawn
const PREDICTIONS = [ // linear regime; Gaussian integrals; each layer from the measured one before
  ["article", "article", "dash", charts.COLOURS.orange],
  ["mean_field", "mean field", "solid", "#2e7d32"],
  ["one_step", "one step", "dot", "#8e44ad"],
];

export async function initTheory(catalog) {
  const presets = await api.presets();
  state.define({ th_p: "mnist", th_init: "xavier", th_act: "tanh", th_hid: "300,300,300,300" });
  fillSelect($("th-preset"), Object.keys(presets), (name) => presets[name].title.split(":")[0]);
  fillInitializers($("th-init"), catalog, ["xavier", "uniform", "standard_normal", "xavier_normal", "he_normal"]);
  fillSelect($("th-act"), catalog.activations.map((a) => a.name));
  const update = debounce(run, 250);
  state.bind($("th-preset"), "th_p", (name) => {
    const spec = presets[name].spec; // the preset's own network and initializer
    const values = { th_init: spec.init.method, th_act: spec.model.activation, th_hid: spec.model.hidden.join(",") };
    state.set(values);
    $("th-init").value = values.th_init;
    $("th-act").value = values.th_act;
    $("th-hid").value = values.th_hid;
    update();
  });
  state.bind($("th-init"), "th_init", update);
  state.bind($("th-act"), "th_act", update);
  state.bind($("th-hid"), "th_hid", update);
  await run();
}

function theorySpec() {
  return {
    preset: state.get("th_p"),
    init: { method: state.get("th_init") },
    model: { activation: state.get("th_act"), hidden: state.parseWidths(state.get("th_hid")) || [300] },
  };
}

async function run() {
  const list = $("th-assumptions");
  const mine = ++runs;
  try {
    const report = await api.postJSON("/v1/theory/variance", theorySpec());
    if (mine !== runs) return;
    plot($("th-forward"), report.layers, "preactivations", "Var(z)");
    plot($("th-backward"), report.layers.filter((l) => l.activation_grads.measured !== null),
      "activation_grads", "Var(∂cost/∂a)");
    list.replaceChildren(...(report.assumptions || []).map((a) => {
      const item = document.createElement("li");
      item.className = a.holds ? "holds" : "fails";
      item.dataset.mark = a.holds ? "✓" : "✗";
      item.textContent = `${a.name.replaceAll("_", " ")}: ${a.detail}`;
      return item;
    }));
    $("theory").dataset.layers = String(report.layers.length);
  } catch (error) {
    if (mine !== runs) return;
    charts.clear($("th-forward")); // no charts of other settings under these
    charts.clear($("th-backward"));
    delete $("theory").dataset.layers;
    list.replaceChildren(Object.assign(document.createElement("li"), { className: "fails", textContent: error.message }));
  }
}

function plot(div, layers, key, label) {
  const x = layers.map((l) => l.layer);
  const traces = PREDICTIONS.map(([name, text, dash, colour]) => ({
    x, y: layers.map((l) => l[key][name]), name: text, mode: "lines",
    line: { dash, color: colour, width: 2 }, hovertemplate: `${text}<br>layer %{x}: %{y:.3g}<extra></extra>`,
  }));
  traces.push({
    x, y: layers.map((l) => l[key].measured), name: "measured", mode: "markers",
    marker: { size: 11, color: charts.COLOURS.blue, line: { color: "#fff", width: 1.5 } },
    hovertemplate: "measured<br>layer %{x}: %{y:.3g}<extra></extra>",
  });
  const positive = traces.flatMap((t) => t.y).filter((v) => charts.finite(v) && v > 0);
  charts.draw(div, traces, {
    showlegend: true, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 11 } },
    margin: { l: 64, r: 12, t: 60, b: 44 },
    xaxis: { title: { text: "layer" }, dtick: x.length > 12 ? null : 1 },
    yaxis: { title: { text: `${label} (log scale)` }, type: positive.length ? "log" : "linear", exponentformat: "power" },
  });
}

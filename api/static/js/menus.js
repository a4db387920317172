// Menus built from GET /v1/catalog, so every initializer the service knows is offered; the
// article's own initializers for a figure are its preset's variants (GET /v1/presets).

const LABELS = {
  zero: "zero", too_small: "too small — N(0, 0.01/n)", appropriate: "appropriate — N(0, 1/n)",
  too_large: "too large — N(0, 100/n)", uniform: "uniform — U(±1/√n)", xavier: "Xavier — N(0, 1/n)",
  standard_normal: "standard normal — N(0, 1)",
};

function option(value, text) {
  const node = document.createElement("option");
  node.value = value;
  node.textContent = text;
  return node;
}

/** The initializers a preset's figure compares (GET /v1/presets, `variants`). */
export const articleInitializers = (preset) => preset.variants["init.method"] || [];

/** The article's initializers first (its own labels), then every other one in the catalog. */
export function fillInitializers(select, catalog, article) {
  const group = (label, names) => {
    const node = document.createElement("optgroup");
    node.label = label;
    for (const name of names) node.appendChild(option(name, LABELS[name] || name));
    return node;
  };
  const others = catalog.initializers.map((i) => i.name).filter((name) => !article.includes(name));
  select.replaceChildren(group("In the article", article), group("Every initializer in the catalog", others));
}

export function fillSelect(select, items, label = (item) => item) {
  select.replaceChildren(...items.map((item) => option(item, label(item))));
}

/** "N(0, 1/fan_in) · variance 1 / fan_in — note" for an initializer name. */
export function describeInitializer(catalog, name) {
  const info = catalog.initializers.find((i) => i.name === name);
  if (!info) return "";
  const family = info.family !== info.name ? ` (${info.family})` : "";
  const note = info.note ? ` — ${info.note}` : "";
  return `${info.formula}${family}; Var(W) = ${info.variance}${note}`;
}

/** Show an error (or a message) in a status line. */
export function say(node, text, isError = false) {
  node.textContent = text;
  node.classList.toggle("error", isError);
}

/** Run `fn` once the calls stop for `ms`. */
export function debounce(fn, ms = 250) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

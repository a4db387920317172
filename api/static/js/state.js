// The page's state lives in its query string, so a copied link reproduces the experiment.
// Each section declares its keys with defaults; values equal to the default are left out.

const defaults = new Map();
const params = new URLSearchParams(window.location.search);

export function define(section) {
  for (const [key, value] of Object.entries(section)) defaults.set(key, String(value));
}

export function get(key) {
  return params.has(key) ? params.get(key) : defaults.get(key);
}

export function has(key) {
  return params.has(key);
}

export function set(values) {
  for (const [key, raw] of Object.entries(values)) {
    const value = raw === null || raw === undefined ? "" : String(raw);
    if (value === "" || value === defaults.get(key)) params.delete(key);
    else params.set(key, value);
  }
  const query = params.toString();
  const url = `${window.location.pathname}${query ? `?${query}` : ""}${window.location.hash}`;
  window.history.replaceState(null, "", url);
}

/** Bind a form control to a key: it starts from the URL and writes back on change. */
export function bind(element, key, onChange) {
  element.value = get(key);
  element.addEventListener("change", () => {
    if ("widths" in element.dataset) { // the same rule as the spec the section will send
      element.setCustomValidity(parseWidths(element.value) ? "" : "widths from 1 to 4096, e.g. 6,3");
    }
    if (element.checkValidity && !element.checkValidity()) {
      element.reportValidity();
      return;
    }
    set({ [key]: element.value });
    if (onChange) onChange(element.value);
  });
}

/** "6, 3" -> [6, 3]; null when not a list of positive integers. */
export function parseWidths(text) {
  const parts = String(text).split(",").map((part) => part.trim()).filter(Boolean);
  const widths = parts.map(Number);
  if (!widths.length || !widths.every((n) => Number.isInteger(n) && n >= 1 && n <= 4096)) return null;
  return widths;
}

// The page's only way to the service: the public /v1 HTTP API (its OpenAPI docs at /docs).
// Its JSDoc types come from the OpenAPI document (clients/typescript/schema.d.ts, checked by
// `tsc -p clients/typescript`); browsers ignore them.

/** @typedef {import("../../../clients/typescript/schema").components["schemas"]} Schemas */
/** @typedef {Schemas["JobPublic"]} Job */
/** @typedef {Schemas["Record"]} JobRecord */
/** @typedef {Schemas["JobStatus"]} JobStatus */
/** @typedef {Schemas["Catalog"]} Catalog */
/** @typedef {Schemas["Preset"]} Preset */
/** @typedef {Schemas["MetricsPublic"]} MetricsPage */
/** @typedef {Schemas["ParametersPublic"]} Parameters */
/** @typedef {Schemas["DatasetPublic"]} Dataset */
/** @typedef {Schemas["ImagesPublic"]} Images */
/** @typedef {Schemas["JobCreate"]} JobCreate */
/** @typedef {Schemas["StatusEvent"]} StatusEvent */
/** @typedef {Schemas["EndEvent"]} EndEvent */
/** @typedef {Schemas["Error"] | Schemas["HTTPValidationError"]} ErrorBody */

export class ApiError extends Error {
  /** @param {number} status @param {string} detail */
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

/** @param {ErrorBody | null} body @param {string} fallback @returns {string} */
function describe(body, fallback) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("; ");
  return fallback;
}

/** @type {string | null} */
let shareToken = null;
/** Read through a share link (embeds): its token goes on every request as `?share=`.
 * @param {string | null} token */
export function useShare(token) {
  shareToken = token || null;
}
/** @param {string} path @returns {string} */
export function withShare(path) {
  if (!shareToken) return path;
  return `${path}${path.includes("?") ? "&" : "?"}share=${encodeURIComponent(shareToken)}`;
}

/** @param {string} method @param {string} path @param {unknown} [body] @returns {Promise<any>} */
async function request(method, path, body) {
  /** @type {RequestInit & {headers: Record<string, string>}} */
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(withShare(path), init);
  if (!response.ok) {
    let parsed = null;
    try { parsed = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, describe(parsed, `${response.status} ${response.statusText}`));
  }
  return response.status === 204 ? null : response.json();
}

export const getJSON = (/** @type {string} */ path) => request("GET", path);
export const postJSON = (/** @type {string} */ path, /** @type {unknown} */ body) =>
  request("POST", path, body);
const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @type {Map<string, Promise<any>>} */
const memo = new Map();
/** @template T @param {string} key @param {() => Promise<T>} load @returns {Promise<T>} */
function once(key, load) {
  if (!memo.has(key)) memo.set(key, load().catch((error) => { memo.delete(key); throw error; }));
  return /** @type {Promise<T>} */ (memo.get(key));
}

/** Job statuses that are final, filled from GET /v1/catalog (`job_statuses`): no copy here.
 * @type {Set<string>} */
export const FINAL = new Set();
export const catalog = () => once("catalog", async () => {
  /** @type {Catalog} */
  const body = await getJSON("/v1/catalog");
  body.job_statuses.final.forEach((status) => FINAL.add(status));
  return body;
});
export const presets = () => once("presets", async () => {
  /** @type {Schemas["PresetsPublic"]} */
  const body = await getJSON("/v1/presets");
  return Object.fromEntries(body.data.map((preset) => [preset.name, preset]));
});

/** Submit an experiment spec; an identical stored spec returns the stored job. */
/** @type {(spec: JobCreate) => Promise<Job>} */
export const submitJob = (spec) => postJSON("/v1/jobs", spec);
/** @type {(id: string) => Promise<Job>} */
export const getJob = (id) => getJSON(`/v1/jobs/${id}`);

/** Poll a job until it has ended.
 * @param {string} id @param {{interval?: number, timeout?: number}} [options]
 * @returns {Promise<Job>} */
export async function finished(id, { interval = 250, timeout = 600000 } = {}) {
  const deadline = Date.now() + timeout;
  await catalog();
  for (;;) {
    const job = await getJob(id);
    if (FINAL.has(job.status)) return job;
    if (Date.now() > deadline) throw new ApiError(0, `job ${id} still ${job.status}`);
    await sleep(interval);
  }
}

/** Where a queued job stands, in words, from its `queue` field; null when it is not queued.
 * @param {Job} job @returns {string | null} */
export function queueNote(job) {
  const q = job.queue;
  if (!q) return null;
  const ahead = q.position === 0 ? "next to start" : `up to ${q.position} job${q.position === 1 ? "" : "s"} before it`;
  let when = "";
  if (q.estimated_start) {
    const seconds = Math.max(0, Math.round((Date.parse(q.estimated_start) - Date.now()) / 1000));
    when = ` · starts in about ${seconds} s`;
  }
  return `Queued in the ${q.lane} lane: ${ahead}${when}`;
}

/** While a job stays queued, `show(note)` where it stands every `interval` ms (the first look
 *  after `delay`, so a job that starts at once costs no request); returns a stop function.
 * @param {string} id @param {(note: string) => void} show
 * @param {{delay?: number, interval?: number}} [options] @returns {() => void} */
export function whileQueued(id, show, { delay = 300, interval = 1000 } = {}) {
  let stopped = false;
  (async () => {
    await sleep(delay);
    while (!stopped) {
      let job;
      try {
        job = await getJob(id);
      } catch {
        return; // the job's own view reports errors; this note is only a courtesy
      }
      if (stopped || job.status !== "queued") return;
      const note = queueNote(job);
      if (note) show(note);
      await sleep(interval);
    }
  })();
  return () => { stopped = true; };
}

/** Every record of iterations start..stop, following the `next` pages.
 * @param {string} id
 * @param {{start?: number, stop?: number | null, every?: number, fields?: string[] | null}} [options]
 * @returns {Promise<{records: JobRecord[], status: JobStatus | null}>} */
export async function metrics(id, { start = 0, stop = null, every = 1, fields = null } = {}) {
  /** @type {JobRecord[]} */
  const records = [];
  /** @type {number | null | undefined} */
  let next = start;
  /** @type {JobStatus | null} */
  let status = null;
  while (next !== null && next !== undefined) {
    const query = new URLSearchParams({ start: String(next), every: String(every) });
    if (stop !== null) query.set("stop", String(stop));
    if (fields) query.set("fields", fields.join(","));
    /** @type {MetricsPage} */
    const page = await getJSON(`/v1/jobs/${id}/metrics?${query}`);
    records.push(...page.records);
    status = page.status;
    next = page.next;
  }
  return { records, status };
}

/** The first record (iteration 0), waiting for the worker to write it.
 * @param {string} id @param {{timeout?: number}} [options] @returns {Promise<JobRecord>} */
export async function firstRecord(id, { timeout = 120000 } = {}) {
  const deadline = Date.now() + timeout;
  await catalog();
  for (;;) {
    const { records, status } = await metrics(id, { stop: 0 });
    if (records.length) return records[0];
    if (status !== null && FINAL.has(status)) {
      throw new ApiError(0, `job ${id} ${status} with no record`);
    }
    if (Date.now() > deadline) throw new ApiError(0, `job ${id} wrote no record yet`);
    await sleep(150);
  }
}

/** @type {Map<string, Promise<Parameters>>} */
const snapshots = new Map();
/** Weights and biases at a recorded snapshot (cached: snapshots never change).
 * @param {string} id @param {number | null} iteration @returns {Promise<Parameters>} */
export function parameters(id, iteration) {
  const key = `${id}:${iteration}`;
  if (!snapshots.has(key)) {
    const query = iteration === null ? "" : `?iteration=${iteration}`;
    snapshots.set(key, getJSON(`/v1/jobs/${id}/parameters${query}`).catch((error) => {
      snapshots.delete(key);
      throw error;
    }));
    const oldest = snapshots.keys().next().value;
    if (snapshots.size > 400 && oldest !== undefined) snapshots.delete(oldest);
  }
  return /** @type {Promise<Parameters>} */ (snapshots.get(key));
}

/** The points a 2D job trains on; stored when the job starts, so wait for it.
 * @param {string} id @param {{timeout?: number}} [options] @returns {Promise<Dataset>} */
export function dataset(id, { timeout = 120000 } = {}) {
  return once(`dataset:${id}`, async () => {
    const deadline = Date.now() + timeout;
    for (;;) {
      const job = await getJob(id); // the worker stores the data with the first record
      // an embed may have no catalog (a share link reads one job): finished_at marks the end
      if (job.iteration === null && job.finished_at === null && Date.now() < deadline) {
        await sleep(150);
        continue;
      }
      try {
        return /** @type {Dataset} */ (await getJSON(`/v1/jobs/${id}/dataset`));
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 404 || Date.now() > deadline) throw error;
      }
      await sleep(200);
    }
  });
}

/** MNIST images by index: {indices, shape: [28, 28], pixels: Uint8Array of k*784}.
 * @param {number[]} indices @param {"test" | "train"} [split] */
export async function mnistImages(indices, split = "test") {
  const query = new URLSearchParams({ indices: indices.join(","), split });
  /** @type {Images} */
  const body = await getJSON(`/v1/datasets/mnist/images?${query}`);
  const raw = atob(body.pixels);
  const pixels = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) pixels[i] = raw.charCodeAt(i);
  return { indices: body.indices, shape: body.shape, pixels };
}

/**
 * Follow a job's event stream: `record` events in order (id = iteration), `status` events,
 * a final `end`. Returns {close}. `after` resumes after that iteration.
 * @param {string} id
 * @param {{after?: number | null, onRecord: (record: JobRecord) => void,
 *   onStatus?: (status: StatusEvent) => void, onEnd?: (end: EndEvent) => void,
 *   onError?: (detail: string, closed: boolean) => void}} handlers
 */
export function stream(id, { after = null, onRecord, onStatus, onEnd, onError }) {
  const query = after === null ? "" : `?last_event_id=${after}`;
  const source = new EventSource(withShare(`/v1/jobs/${id}/events${query}`));
  source.addEventListener("record", (event) => onRecord(JSON.parse(event.data)));
  source.addEventListener("status", (event) => onStatus && onStatus(JSON.parse(event.data)));
  source.addEventListener("end", (/** @type {MessageEvent} */ event) => {
    source.close();
    if (onEnd) onEnd(JSON.parse(event.data));
  });
  source.addEventListener("error", (event) => {
    // a named `error` event carries the server's reason; a bare one is a dropped connection,
    // which EventSource retries by itself with Last-Event-ID, unless the answer was an HTTP
    // error (503, 401, ...): then the browser has closed the stream for good
    if (!onError) return;
    const data = /** @type {MessageEvent} */ (event).data;
    if (data) onError(JSON.parse(data).detail, false);
    else if (source.readyState === EventSource.CLOSED) {
      onError("the event stream could not be opened (is the service up?); press play to retry", true);
    }
  });
  return { close: () => source.close() };
}

// A web app's use of the API, typed by schema.d.ts alone: `npx tsc -p .` checks it (strict).
import type { components, operations } from "./schema";

type Schemas = components["schemas"];
type Json<Op extends keyof operations, Status extends number> =
  operations[Op]["responses"] extends { [S in Status]: { content: { "application/json": infer T } } }
    ? T
    : never;

// each of these is a compile error if the type it names were `unknown`
type Known<T> = unknown extends T ? false : true;
const known: [
  Known<Schemas["Record"]["cost"]>,
  Known<Schemas["LayerStats"]["activations"]["std"]>,
  Known<Schemas["Summary"]["final_cost"]>,
  Known<Schemas["JobPublic"]["spec"]["init"]["method"]>,
  Known<Schemas["Catalog"]["initializers"][number]["formula"]>,
  Known<Schemas["Preset"]["spec"]["model"]["hidden"]>,
  Known<Schemas["VarianceReport"]["layers"][number]["preactivations"]["measured"]>,
  Known<Json<"listJobMetrics", 200>["records"][number]["layers"]>,
  Known<Json<"listPresets", 200>["data"][number]["variants"]>,
] = [true, true, true, true, true, true, true, true, true];

async function call<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const error = (await response.json()) as Schemas["Error"] | Schemas["HTTPValidationError"];
    throw new Error(typeof error.detail === "string" ? error.detail : error.detail[0].msg);
  }
  return (await response.json()) as T;
}

export async function run(base: string): Promise<number | null> {
  const spec: Schemas["JobCreate"] = { preset: "playground", init: { method: "too_large" } };
  let job = await call<Json<"createJob", 202>>(base, "POST", "/v1/jobs", spec);
  while (job.status === "queued" || job.status === "running") {
    await new Promise((resolve) => setTimeout(resolve, 200));
    job = await call<Json<"getJob", 200>>(base, "GET", `/v1/jobs/${job.id}`);
  }
  const page = await call<Json<"listJobMetrics", 200>>(base, "GET", `/v1/jobs/${job.id}/metrics`);
  const first: Schemas["Record"] = page.records[0];
  const std: number | null | undefined = first.layers?.[0].activations.std;
  const catalog = await call<Json<"getCatalog", 200>>(base, "GET", "/v1/catalog");
  const methods: string[] = catalog.initializers.map((init) => init.name);
  const presets = await call<Json<"listPresets", 200>>(base, "GET", "/v1/presets");
  const widths: number[][] = presets.data.map((preset) => preset.spec.model.hidden);
  const theory = await call<Json<"predictVariance", 200>>(base, "POST", "/v1/theory/variance", {
    preset: "nine_layers",
  } satisfies Schemas["SpecRequest"]);
  const sweep: Schemas["SweepCreate"] = {
    base: { preset: "playground" },
    vary: { "init.method": ["zero", "too_small", "appropriate", "too_large"] },
  };
  const made = await call<Json<"createSweep", 202>>(base, "POST", "/v1/sweeps", sweep);
  const ranking: string[] = made.ranking;
  console.log(known, std, methods, widths, theory.layers.length, ranking);
  return job.summary?.final_cost ?? null;
}

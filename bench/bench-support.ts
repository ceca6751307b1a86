/**
 * What the benchmarks share: percentiles, a clean-up stack that also runs on Ctrl-C, and databases
 * of their own on an admin connection (made for the run and dropped after it).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { GenerationRequest } from "../src/inference/pipeline/generation-request.ts";

/** Nearest-rank percentile of unsorted values. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
export const median = (values: ArrayLike<number>) => percentile(values, 50);
export const max = (values: ArrayLike<number>) => Float64Array.from(values).reduce((a, b) => Math.max(a, b), -Infinity);
export const ms = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "–");
export const now = () => performance.now();
/** Milliseconds on the wall clock, with performance.now()'s resolution: comparable across processes. */
export const wallClock = () => performance.timeOrigin + performance.now();
export const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, milliseconds)));

/** Everything a run made, undone in reverse order on success, failure or Ctrl-C. */
export function createCleanup() {
  const steps: { what: string; undo: () => Promise<unknown> }[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      for (let next = steps.pop(); next; next = steps.pop()) {
        await next.undo().catch((error: unknown) => console.error(`clean-up: ${next!.what} failed: ${(error as Error).message}`));
      }
    })());
  const state = { interrupted: false };
  process.once("SIGINT", () => {
    state.interrupted = true;
    console.error("\ninterrupted: cleaning up");
    void cleanUp().finally(() => process.exit(130));
  });
  return { defer: (what: string, undo: () => Promise<unknown>) => void steps.push({ what, undo }), cleanUp, state };
}

export async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh database on the admin URL's server, dropped by the clean-up. Returns its URL. */
export async function createBenchDatabase(adminUrl: string, label: string, defer: (what: string, undo: () => Promise<unknown>) => void): Promise<string> {
  const name = `atelier_bench_${randomBytes(4).toString("hex")}_${label.replace(/\W+/g, "_")}`;
  await adminQuery(adminUrl, `CREATE DATABASE "${name}"`);
  defer(`drop database ${name}`, () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}


/** The job the pipeline and platform benchmarks both time: 4 samples × 20 steps, Euler a, CFG 7.5, at the model's size. */
export function benchmarkRequest(size: { width: number; height: number }): GenerationRequest {
  return {
    prompt: "a lighthouse on a cliff at dusk, oil painting",
    negativePrompt: "blurry",
    samples: 4,
    seed: 1234,
    steps: 20,
    guidanceScale: 7.5,
    width: size.width,
    height: size.height,
    scheduler: "EULER_ANCESTRAL",
  };
}

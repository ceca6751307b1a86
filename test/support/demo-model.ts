/**
 * Demo Stable Diffusion models for inference tests. Each variant (exporter × dtype) is generated at
 * most once per test file, into one temp dir for the file, and loaded at most once; vitest gives every
 * test file its own module state, so files never share (or race on) folders. Call
 * `disposeDemoModels()` in the file's afterAll.
 */
import { cp, rm } from "node:fs/promises";
import path from "node:path";
import { loadStableDiffusion, type StableDiffusionModel } from "../../src/inference/models/stable-diffusion-model.ts";
import { DEFAULT_EXPORTER, type ExporterGeneration } from "../../src/models/demo/export-profiles.ts";
import type { DemoPreset } from "../../src/models/demo/presets.ts";
import { makeDemoStableDiffusion } from "../../src/models/demo/stable-diffusion.ts";
import { makeTempDir } from "./temp-dir.ts";

export interface DemoVariant {
  /** @default "tiny" */
  preset?: DemoPreset;
  /** @default "optimum-1.23" (the demo model Atelier ships) */
  exporter?: ExporterGeneration;
  /** @default "float32" */
  dtype?: "float32" | "float16";
}

let root: Promise<string> | undefined;
const folders = new Map<string, Promise<string>>();
const models = new Map<string, Promise<StableDiffusionModel>>();
let copies = 0;

function resolve(variant: DemoVariant): Required<DemoVariant> {
  return { preset: variant.preset ?? "tiny", exporter: variant.exporter ?? DEFAULT_EXPORTER, dtype: variant.dtype ?? "float32" };
}

function nameOf(variant: Required<DemoVariant>): string {
  return `demo-sd-${variant.preset}-${variant.exporter}-${variant.dtype}`;
}

function tempRoot(): Promise<string> {
  root ??= makeTempDir("atelier-demo-sd");
  return root;
}

/** The folder of a demo model variant, generated on first use. Do not modify it: see copyDemoModelFolder. */
export function demoModelFolder(variant: DemoVariant = {}): Promise<string> {
  const resolved = resolve(variant);
  const name = nameOf(resolved);
  let folder = folders.get(name);
  if (!folder) {
    folder = tempRoot().then(async (dir) => {
      const outDir = path.join(dir, name);
      await makeDemoStableDiffusion({ ...resolved, outDir });
      return outDir;
    });
    folders.set(name, folder);
  }
  return folder;
}

/** A fresh copy of a variant's folder that a test may break as it likes. */
export async function copyDemoModelFolder(variant: DemoVariant = {}): Promise<string> {
  const source = await demoModelFolder(variant);
  const target = path.join(await tempRoot(), `copy-${++copies}-${path.basename(source)}`);
  await cp(source, target, { recursive: true });
  return target;
}

/** The variant loaded with loadStableDiffusion (default runtime options), shared within the test file. */
export function loadDemoModel(variant: DemoVariant = {}): Promise<StableDiffusionModel> {
  const name = nameOf(resolve(variant));
  let model = models.get(name);
  if (!model) {
    model = demoModelFolder(variant).then((dir) => loadStableDiffusion(dir));
    models.set(name, model);
  }
  return model;
}

/** Releases every loaded model and removes the file's temp dir. */
export async function disposeDemoModels(): Promise<void> {
  const loaded = await Promise.allSettled(models.values());
  await Promise.all(loaded.map((result) => (result.status === "fulfilled" ? result.value.release() : undefined)));
  models.clear();
  folders.clear();
  if (root) await rm(await root, { recursive: true, force: true });
  root = undefined;
}

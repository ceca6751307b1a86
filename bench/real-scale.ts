/**
 * Real-scale benchmark: Stable Diffusion 1.5 at full size (the generated `sd15` preset), Atelier
 * against diffusers' UNet2DConditionModel in eager PyTorch on the same weights, in one run on the
 * same cores. Run by hand (minutes, gigabytes):
 *
 *   node bin/atelier.js models make-demo --preset sd15 --out /tmp/sd15            # fp32, 4.3 GB
 *   node bin/atelier.js models make-demo --preset sd15 --dtype float16 --out /tmp/sd15  # optional
 *   DIFFUSERS_PYTHONPATH=<diffusers v0.35.2>/src:<huggingface_hub v0.36.2>/src \
 *     npx tsx bench/real-scale.ts --model /tmp/sd15/demo-sd-sd15 \
 *       [--fp16-model /tmp/sd15/demo-sd-sd15-optimum-1.23-float16] [--steps 20] [--runs 2] [--variants default,fp16,…]
 *       [--graph-cache <folder>]
 *
 * Each measurement runs in a child process of its own, one after another, so each starts cold
 * (session creation timed) and its peak RSS (VmHWM) is its own: `variant` times one UNet run at
 * 512×512 with classifier-free guidance (sample [2, 4, 64, 64]) under one set of session options;
 * `image` loads the whole model with Atelier's loader and makes one 20-step Euler image (CFG 7.5),
 * reading peak RSS after loading, while denoising and while the VAE decodes (with `--graph-cache`,
 * loading as a worker does, from onnxruntime's optimized graphs saved there); `diffusers` runs
 * tools/reference/real_scale_timing.py (skipped without DIFFUSERS_PYTHONPATH).
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadStableDiffusion } from "../src/inference/models/stable-diffusion-model.ts";
import { createModelSession, type HostTensor, type TuningOptions } from "../src/inference/ort/runtime.ts";
import { generate } from "../src/inference/pipeline/stable-diffusion-pipeline.ts";
import { formatTable } from "../src/cli/text-table.ts";

/**
 * onnxruntime's optimized-graph cache: `cache-write` saves the optimized UNet (weights over 2 GB
 * need an external initializers file), `cache-read` loads that file with optimizations off.
 */
const OPTIMIZED_UNET = path.join(os.tmpdir(), "atelier-real-scale-unet.optimized.onnx");

interface Variant {
  tuning?: TuningOptions;
  intraOpThreads?: number;
  interOpThreads?: number;
  /** Run the fp16 folder's UNet. */
  fp16?: boolean;
  /** A model file other than the folder's unet/model.onnx. */
  modelFile?: string;
  /** Attention as exported, not sliced (src/inference/ort/sliced-attention.ts). */
  unsliced?: boolean;
}

/** Session option sets compared on the UNet; `default` is what Atelier uses. */
const VARIANTS: Record<string, Variant> = {
  default: {},
  unsliced: { unsliced: true },
  "opt-basic": { tuning: { graphOptimizationLevel: "basic" } },
  "opt-extended": { tuning: { graphOptimizationLevel: "extended" } },
  "threads-1": { intraOpThreads: 1 },
  "parallel-inter-2": { interOpThreads: 2, tuning: { executionMode: "parallel" } },
  // onnxruntime's default, which Atelier turns off on the CPU (src/inference/ort/runtime.ts).
  "mem-pattern": { tuning: { enableMemPattern: true } },
  "no-arena": { tuning: { enableCpuMemArena: false } },
  "free-dims": { tuning: { freeDimensionOverrides: { batch_size: 2, height: 64, width: 64, sequence_length: 77, steps: 1 } } },
  fp16: { fp16: true },
  "cache-write": {
    tuning: {
      optimizedModelFilePath: OPTIMIZED_UNET,
      extra: { session: { optimized_model_external_initializers_file_name: `${path.basename(OPTIMIZED_UNET)}_data`, optimized_model_external_initializers_min_size_in_bytes: "1024" } },
    },
  },
  "cache-read": { modelFile: OPTIMIZED_UNET, tuning: { graphOptimizationLevel: "disabled" } },
};
const DEFAULT_VARIANTS = ["default", "opt-basic", "free-dims", "fp16", "cache-write", "cache-read"];

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    "fp16-model": { type: "string" },
    steps: { type: "string", default: "20" },
    runs: { type: "string", default: "2" },
    variants: { type: "string", default: DEFAULT_VARIANTS.join(",") },
    // The whole image with onnxruntime's optimized-graph cache in this folder, as a worker loads
    // (the first run fills it, and its load peak includes saving the graphs).
    "graph-cache": { type: "string" },
    child: { type: "string" },
  },
});

/** Peak and current resident set of this process, from /proc/self/status (GB of 10^9 bytes, as the weights are counted). */
function memory(): { peakGb: number; rssGb: number } {
  const status = readFileSync("/proc/self/status", "utf8");
  // The kernel's "kB" are KiB.
  const gb = (field: string) => (Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024) / 1e9;
  return { peakGb: gb("VmHWM"), rssGb: gb("VmRSS") };
}

/** Resets VmHWM to the current RSS (Linux clear_refs 5), so a later peak belongs to what ran after. */
function resetPeak(): void {
  writeFileSync("/proc/self/clear_refs", "5");
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

/** Deterministic pseudo-random floats in [-1, 1): the inputs' values do not change the work. */
function filled(length: number): Float32Array {
  const out = new Float32Array(length);
  let state = 12345;
  for (let i = 0; i < length; i++) out[i] = ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 31) - 1;
  return out;
}

/** Child: one UNet session under one variant; session creation, then a warm-up and `runs` timed runs. */
async function unetVariant(name: string, runs: number): Promise<Record<string, unknown>> {
  const variant = VARIANTS[name]!;
  const folder = variant.fp16 ? values["fp16-model"] : values.model;
  if (!folder) throw new Error(`variant ${name} needs ${variant.fp16 ? "--fp16-model" : "--model"}`);
  const started = performance.now();
  const session = await createModelSession(variant.modelFile ?? path.join(folder, "unet/model.onnx"), {
    ...(variant.intraOpThreads !== undefined && { intraOpThreads: variant.intraOpThreads }),
    ...(variant.interOpThreads !== undefined && { interOpThreads: variant.interOpThreads }),
    ...(variant.tuning && { tuning: variant.tuning }),
    sliceAttention: !variant.unsliced,
  });
  const loadSeconds = seconds(started);
  const afterLoad = memory();
  const timestepSpec = session.inputs.get("timestep")!;
  const feeds: Record<string, HostTensor> = {
    sample: { data: filled(2 * 4 * 64 * 64), dims: [2, 4, 64, 64] },
    timestep: timestepSpec.shape.length === 0 ? { data: Float32Array.of(999), dims: [] } : { data: Float32Array.of(999), dims: [1] },
    encoder_hidden_states: { data: filled(2 * 77 * 768), dims: [2, 77, 768] },
  };
  resetPeak();
  const warmStarted = performance.now();
  await session.run(feeds);
  const firstRunSeconds = seconds(warmStarted);
  const runSeconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const runStarted = performance.now();
    await session.run(feeds);
    runSeconds.push(seconds(runStarted));
  }
  const afterRun = memory();
  await session.release();
  return { name, loadSeconds, loadPeakGb: afterLoad.peakGb, loadRssGb: afterLoad.rssGb, firstRunSeconds, runSeconds, runPeakGb: afterRun.peakGb };
}

/** Child: Atelier's loader and pipeline, one image at 512×512. */
async function wholeImage(steps: number): Promise<Record<string, unknown>> {
  const started = performance.now();
  const model = await loadStableDiffusion(values.model!, values["graph-cache"] ? { optimizedGraphCache: values["graph-cache"] } : {});
  const loadSeconds = seconds(started);
  const afterLoad = memory();
  resetPeak();
  const imageStarted = performance.now();
  const request = { prompt: "a photo of a cat", negativePrompt: "", samples: 1, seed: 0, steps, guidanceScale: 7.5, width: 512, height: 512, scheduler: "EULER" as const };
  // The peak of the denoising loop is read after its last step; what follows it is the VAE decoder's.
  let denoisePeakGb = Number.NaN;
  const onStep = (event: { step: number; totalSteps: number }) => {
    if (event.step < event.totalSteps) return;
    denoisePeakGb = memory().peakGb;
    resetPeak();
  };
  const [sample] = await generate(model, request, { onStep });
  const imageSeconds = seconds(imageStarted);
  const decodePeakGb = memory().peakGb;
  await model.release();
  const runPeakGb = Math.max(denoisePeakGb, decodePeakGb);
  return { loadSeconds, loadPeakGb: afterLoad.peakGb, loadRssGb: afterLoad.rssGb, imageSeconds, parts: sample!.timingsMs, runPeakGb, denoisePeakGb, decodePeakGb };
}

/** Runs this script as a child for one measurement and returns its JSON line. */
function child(args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    process_.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    process_.on("close", (code) => (code === 0 ? resolve(JSON.parse(output.trim().split("\n").at(-1)!)) : reject(new Error(`${args.join(" ")} exited with ${code}`))));
  });
}

function diffusers(steps: number, runs: number): Record<string, unknown> | undefined {
  const pythonPath = process.env["DIFFUSERS_PYTHONPATH"];
  if (!pythonPath) return undefined;
  const script = path.resolve("tools/reference/real_scale_timing.py");
  const output = execFileSync("/usr/bin/python3", [script, values.model!, "--steps", String(steps), "--unet-runs", String(runs)], {
    cwd: path.dirname(script),
    env: { ...process.env, PYTHONPATH: pythonPath },
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(output.toString().trim().split("\n").at(-1)!);
}

const mean = (list: number[]) => list.reduce((a, b) => a + b, 0) / list.length;
const fixed = (value: unknown, digits = 2) => (typeof value === "number" ? value.toFixed(digits) : "–");

async function main(): Promise<void> {
  const steps = Number(values.steps);
  const runs = Number(values.runs);
  if (values.child) {
    const [kind, name] = values.child.split(":");
    const result = kind === "image" ? await wholeImage(steps) : await unetVariant(name!, runs);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  if (!values.model) throw new Error("--model <sd15 fp32 folder> is required");
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(" ");
  console.error(`cores ${os.cpus().length}, load average at start ${load()}`);
  const variants: Record<string, unknown>[] = [];
  for (const name of values.variants!.split(",")) {
    if (!VARIANTS[name]) throw new Error(`unknown variant ${name}; known: ${Object.keys(VARIANTS).join(", ")}`);
    if (VARIANTS[name]!.fp16 && !values["fp16-model"]) continue;
    console.error(`variant ${name} (load ${load()})`);
    variants.push(await child([...passThrough(), "--child", `unet:${name}`]));
  }
  console.error(`whole image (load ${load()})`);
  const image = await child([...passThrough(), "--child", "image"]);
  console.error(`diffusers (load ${load()})`);
  const reference = diffusers(steps, runs);
  const defaultStep = mean((variants.find((v) => v["name"] === "default")?.["runSeconds"] as number[] | undefined) ?? [Number.NaN]);

  const rows = variants.map((v) => {
    const step = mean(v["runSeconds"] as number[]);
    return [String(v["name"]), fixed(v["loadSeconds"], 1), fixed(v["loadPeakGb"]), fixed(v["firstRunSeconds"]), fixed(step), fixed(step / defaultStep), fixed(v["runPeakGb"])];
  });
  console.log(`\nUNet at 512×512, CFG batch 2 (sample [2, 4, 64, 64]); ${runs} timed runs after one warm-up; load average at end ${load()}\n`);
  console.log(formatTable(["variant", "session s", "load peak GB", "first run s", "run s", "× default", "run peak GB"], rows));
  const torchStep = reference ? mean(reference["unetSeconds"] as number[]) : Number.NaN;
  const torchImage = reference ? (reference["imageSeconds"] as number) : Number.NaN;
  console.log(`\nAtelier against diffusers ${reference ? `(torch ${String(reference["torch"])}, ${String(reference["threads"])} threads)` : "(not run: set DIFFUSERS_PYTHONPATH)"}\n`);
  console.log(
    formatTable(
      ["", "Atelier s", "diffusers s", "Atelier / diffusers"],
      [
        ["UNet step (CFG batch 2)", fixed(defaultStep), fixed(torchStep), fixed(defaultStep / torchStep)],
        [`whole ${steps}-step image`, fixed(image["imageSeconds"]), fixed(torchImage), fixed((image["imageSeconds"] as number) / torchImage)],
        ["load (all components)", fixed(image["loadSeconds"], 1), fixed(reference?.["loadSeconds"], 1), ""],
      ],
    ),
  );
  console.log(`\nAtelier whole image: parts ${JSON.stringify(image["parts"])}; peak RSS ${fixed(image["loadPeakGb"])} GB loading, ${fixed(image["runPeakGb"])} GB running (denoising ${fixed(image["denoisePeakGb"])}, VAE decode ${fixed(image["decodePeakGb"])})`);
  if (reference) console.log(`diffusers whole image: parts ${JSON.stringify(reference["imageParts"])}; peak RSS ${fixed(reference["peakRssGb"])} GB`);
  console.log(`\nraw: ${JSON.stringify({ variants, image, reference })}`);
}

/** The flags a child needs. */
function passThrough(): string[] {
  return [
    "--model", values.model!,
    ...(values["fp16-model"] ? ["--fp16-model", values["fp16-model"]] : []),
    "--steps", values.steps!,
    "--runs", values.runs!,
    ...(values["graph-cache"] ? ["--graph-cache", values["graph-cache"]] : []),
  ];
}

await main();

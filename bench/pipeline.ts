/**
 * Pipeline benchmark: a whole 4-sample, 20-step job (denoise, CLIP scoring, PNG + WebP encoding) on
 * the generated demo models (default preset `small`). Reports where the wall time goes: inside
 * onnxruntime `run` for the Stable Diffusion sessions, CLIP scoring (itself mostly onnxruntime, in
 * transformers.js' sessions), image encoding, and the rest (tokenizer, scheduler math, noise,
 * copies), plus peak RSS and images per second, for batch size 1 and 4 in the same process so their
 * ratio is meaningful on a noisy machine.
 *
 *   npx tsx bench/pipeline.ts [--preset small|tiny] [--repeat 2]
 */
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createProgressBar } from "../src/cli/progress-bar.ts";
import { loadClipScorer } from "../src/inference/clip/clip-scorer.ts";
import { loadStableDiffusion } from "../src/inference/models/stable-diffusion-model.ts";
import { textToImage } from "../src/inference/text-to-image.ts";
import { benchmarkRequest } from "./bench-support.ts";
import { ensureModel } from "../src/models/ensure-model.ts";
import { parseModelReference } from "../src/models/model-reference.ts";

const { values } = parseArgs({ options: { preset: { type: "string", default: "small" }, repeat: { type: "string", default: "2" } } });
const preset = values.preset === "tiny" ? "tiny" : "small";
const repeat = Number(values.repeat);

const modelsDir = path.resolve(".atelier/models");
async function demoModel(name: string): Promise<string> {
  const making = createProgressBar(`Making ${name}`);
  const dir = await ensureModel(parseModelReference(name, modelsDir), (done, total, what) => making.update(done, total, what));
  making.stop();
  return dir;
}

let ortMs = 0;
const model = await loadStableDiffusion(await demoModel(`demo-sd-${preset}`), { onRunTimed: (_path, ms) => (ortMs += ms) });
const clip = await loadClipScorer(await demoModel(`demo-clip-${preset}`));
const models = { stableDiffusion: model, clip, modelName: `demo-sd-${preset}` };
const request = benchmarkRequest(model.defaults);

interface Result {
  batchSize: number;
  wallMs: number;
  /** Shares of wall time. */
  ort: number;
  clip: number;
  encode: number;
  imagesPerSecond: number;
}

async function measure(batchSize: number): Promise<Result> {
  const bar = createProgressBar(`batch ${batchSize}`, " steps");
  let steps = 0;
  ortMs = 0;
  const started = performance.now();
  const images = await textToImage(models, request, { batchSize, onStep: (event) => bar.update(++steps, request.samples * event.totalSteps) });
  const wallMs = performance.now() - started;
  bar.stop();
  // clip is per image already; encoding ran for all images at once, so its longest is its wall time.
  const clipMs = images.reduce((sum, image) => sum + image.timingsMs.clip, 0);
  const encodeMs = Math.max(...images.map((image) => image.timingsMs.encode));
  return { batchSize, wallMs, ort: ortMs / wallMs, clip: clipMs / wallMs, encode: encodeMs / wallMs, imagesPerSecond: request.samples / (wallMs / 1000) };
}

await measure(1); // warm-up: first runs allocate ORT's arenas
const results: Result[] = [];
for (let i = 0; i < repeat; i++) for (const batchSize of [1, 4]) results.push(await measure(batchSize));
await Promise.all([model.release(), clip.release()]);

const best = (batchSize: number) => results.filter((r) => r.batchSize === batchSize).sort((a, b) => a.wallMs - b.wallMs)[0]!;
const [one, four] = [best(1), best(4)];
console.log(`\nmachine: ${os.cpus()[0]?.model} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
console.log(`models: demo-sd-${preset} + demo-clip-${preset} (${request.width}×${request.height}), ${request.samples} samples × ${request.steps} steps, ${request.scheduler}, CFG ${request.guidanceScale}`);
console.log("| batch | wall (s) | SD onnxruntime run | CLIP scoring | PNG+WebP encoding | rest (Atelier's own work) | images/s |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
const percent = (share: number) => `${(share * 100).toFixed(1)} %`;
for (const r of [one, four]) {
  const rest = 1 - r.ort - r.clip - r.encode;
  console.log(`| ${r.batchSize} | ${(r.wallMs / 1000).toFixed(2)} | ${percent(r.ort)} | ${percent(r.clip)} | ${percent(r.encode)} | ${percent(rest)} | ${r.imagesPerSecond.toFixed(3)} |`);
}
console.log(`batch 4 / batch 1 wall time: ${(four.wallMs / one.wallMs).toFixed(3)}`);
console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);

/**
 * The timing half of bench/gpu.sh (run that, not this): s/image for 512×512 × 50 Euler steps with
 * CFG 7.5 on onnxruntime's CUDA provider, batch 1 and 4, then the pixel difference between CUDA and
 * CPU on the same 2-step job.
 *
 *   npx tsx bench/gpu-timing.ts <fp16 sd15 folder>
 *
 * Latents cross to the host and back every step: onnxruntime-node's `preferredOutputLocation`
 * ("gpu-buffer") and device tensors exist only for the WebGPU/WebGL providers, and the Node binding
 * has no IO binding for CUDA. At 512×512 that is 2 × 4 × 64 × 64 values (128 KB in fp32) each way per
 * step, small beside the UNet's work; the weights stay on the GPU.
 */
import os from "node:os";
import { loadStableDiffusion, type StableDiffusionModel } from "../src/inference/models/stable-diffusion-model.ts";
import type { GenerationRequest } from "../src/inference/pipeline/generation-request.ts";
import { generate } from "../src/inference/pipeline/stable-diffusion-pipeline.ts";
import { formatTable } from "../src/cli/text-table.ts";

const folder = process.argv[2];
if (!folder) throw new Error("usage: npx tsx bench/gpu-timing.ts <fp16 sd15 folder>");

const JOB: GenerationRequest = {
  prompt: "a photo of a cat",
  negativePrompt: "",
  samples: 1,
  seed: 42,
  steps: 50,
  guidanceScale: 7.5,
  width: 512,
  height: 512,
  scheduler: "EULER",
};

function log(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message} (load ${os.loadavg()[0]!.toFixed(2)})\n`);
}

async function timeJob(model: StableDiffusionModel, samples: number): Promise<number> {
  const started = performance.now();
  await generate(model, { ...JOB, samples }, { batchSize: samples });
  return (performance.now() - started) / 1000 / samples;
}

log("loading on CUDA");
let started = performance.now();
const cuda = await loadStableDiffusion(folder, { executionProviders: ["cuda"] });
const cudaLoadSeconds = (performance.now() - started) / 1000;
log(`loaded in ${cudaLoadSeconds.toFixed(1)} s; warming up (2 steps, batch 1 and 4)`);
await generate(cuda, { ...JOB, steps: 2 });
await generate(cuda, { ...JOB, steps: 2, samples: 4 }, { batchSize: 4 });
const rows: string[][] = [];
for (const batch of [1, 4]) {
  log(`50 steps, batch ${batch}`);
  rows.push([String(batch), (await timeJob(cuda, batch)).toFixed(3)]);
}
const short = { ...JOB, steps: 2 };
const [onCuda] = await generate(cuda, short);
await cuda.release();

log("2-step job on CPU");
started = performance.now();
const cpu = await loadStableDiffusion(folder, { executionProviders: ["cpu"] });
const [onCpu] = await generate(cpu, short);
const cpuSeconds = (performance.now() - started) / 1000;
await cpu.release();

let maxDifference = 0;
let sumDifference = 0;
const a = onCuda!.image.data;
const b = onCpu!.image.data;
for (let i = 0; i < a.length; i++) {
  const difference = Math.abs(a[i]! - b[i]!);
  maxDifference = Math.max(maxDifference, difference);
  sumDifference += difference;
}

console.log(`\nSD 1.5 fp16 (random weights), 512×512, ${JOB.steps} Euler steps, CFG ${JOB.guidanceScale}, CUDA provider; session creation ${cudaLoadSeconds.toFixed(1)} s\n`);
console.log(formatTable(["batch", "s/image"], rows));
console.log(`\nCUDA vs CPU, same 2-step job (seed ${JOB.seed}): max |Δ| ${maxDifference} of 255, mean |Δ| ${(sumDifference / a.length).toFixed(3)}; CPU load + job ${cpuSeconds.toFixed(1)} s`);

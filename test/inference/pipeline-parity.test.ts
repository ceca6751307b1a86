/**
 * Atelier's Stable Diffusion pipeline gives diffusers' pixels. Reference:
 * test/fixtures/pipeline-reference.json, made by tools/reference/pipeline_reference.py: diffusers
 * v0.35.2's own StableDiffusionPipeline.__call__ (torch 1.13, float32 CPU, one CPU generator per image)
 * on the tiny demo model with the same weights.
 *
 * Acceptance bar (float32 exports): every channel of every pixel within 2/255 and the mean absolute
 * difference within 0.02/255 (seen: max 1, mean ≤ 0.0004, most cases exact).
 * float16 exports are held to the float32 reference within 4/255 per channel and 0.5/255 on average:
 * the UNet, text encoder and VAE then compute in half precision (11-bit mantissa), an error that the
 * denoising loop carries through every step (seen: max 2, mean ≤ 0.26).
 *
 * Which cases run on which export:
 * - float-timestep exports (optimum ≥ 1.24, optimum-onnx, the diffusers script) run every
 *   "unetTimestep: float" case, which is diffusers' PyTorch pipeline as is;
 * - the int64-timestep export (optimum ≤ 1.23) runs the "unetTimestep: int64" cases (the reference
 *   UNet then receives `t.to(int64)`, as optimum's ORT pipeline feeds that export) and the float cases
 *   whose timesteps are all whole numbers (PNDM, DDIM, DPM-Solver, LCM), for which the cast changes
 *   nothing;
 * - a size the model does not take is not run: the diffusers script's layout has no unet/config.json,
 *   so Atelier assumes SD's 64-pixel multiple for it (the optimum layouts' tiny UNet gives 16).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fixture from "../fixtures/pipeline-reference.json" with { type: "json" };
import type { StableDiffusionModel } from "../../src/inference/models/stable-diffusion-model.ts";
import { parsePythonJson } from "../../src/inference/models/python-json.ts";
import type { GenerationRequest } from "../../src/inference/pipeline/generation-request.ts";
import { generate } from "../../src/inference/pipeline/stable-diffusion-pipeline.ts";
import { createScheduler } from "../../src/inference/schedulers/index.ts";
import { EXPORT_PROFILES, EXPORTER_GENERATIONS, type ExporterGeneration } from "../../src/models/demo/export-profiles.ts";
import { schedulerConfigJson } from "../../src/models/demo/stable-diffusion-files.ts";
import { weightsChecksum } from "../demo-models/demo-model-support.ts";
import { demoModelFolder, disposeDemoModels, loadDemoModel } from "../support/demo-model.ts";

type Dtype = "float32" | "float16";
interface ReferenceCase {
  name: string;
  unetTimestep: "float" | "int64";
  request: GenerationRequest;
  /** base64 of height × width × 3 RGB bytes per sample. */
  images: string[];
}

const TOLERANCE: Record<Dtype, { max: number; mean: number }> = {
  float32: { max: 2, mean: 0.02 },
  float16: { max: 4, mean: 0.5 },
};
/** Width and height multiples each layout's tiny demo model takes (checked when it loads). */
const SIZE_MULTIPLE: Record<ExporterGeneration, number> = { "optimum-1.23": 16, "optimum-1.24": 16, "optimum-onnx": 16, "diffusers-script": 64 };
const REGENERATE = "regenerate the fixture: see the header of tools/reference/pipeline_reference.py";

const cases = fixture.cases as ReferenceCase[];
const schedulerConfig = parsePythonJson(schedulerConfigJson()) as Record<string, unknown>;

function hasWholeTimesteps(request: GenerationRequest): boolean {
  const scheduler = createScheduler(request.scheduler, schedulerConfig);
  scheduler.setTimesteps(request.steps);
  return scheduler.timesteps.every(Number.isInteger);
}

function casesFor(exporter: ExporterGeneration): ReferenceCase[] {
  const int64Timestep = EXPORT_PROFILES[exporter].timestepType === "int64";
  const multiple = SIZE_MULTIPLE[exporter];
  return cases.filter(
    ({ unetTimestep, request }) =>
      (int64Timestep ? unetTimestep === "int64" || hasWholeTimesteps(request) : unetTimestep === "float") &&
      request.width % multiple === 0 &&
      request.height % multiple === 0,
  );
}

/** Largest and mean absolute difference over every channel of every pixel, in 1/255 levels. */
function pixelDifference(actual: Uint8Array, expected: Uint8Array): { max: number; mean: number } {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const difference = Math.abs(actual[i]! - expected[i]!);
    max = Math.max(max, difference);
    sum += difference;
  }
  return { max, mean: sum / expected.length };
}

const report: string[] = [];
afterAll(async () => {
  console.log(`pipeline parity (max / mean |Δ| in 1/255 per sample, wall time):\n${report.join("\n")}`);
  await disposeDemoModels();
});

it("the reference folder carries the weights the fixture was made from", async () => {
  const folder = await demoModelFolder({ exporter: "optimum-1.24" });
  const checksum = (...components: string[]) => weightsChecksum(components.map((component) => `${folder}/${component}/model.onnx`));
  expect(await checksum("text_encoder"), `text encoder weights changed: ${REGENERATE}`).toBe(fixture.weightsSha256.text_encoder);
  expect(await checksum("unet"), `UNet weights changed: ${REGENERATE}`).toBe(fixture.weightsSha256.unet);
  expect(await checksum("vae_encoder", "vae_decoder"), `VAE weights changed: ${REGENERATE}`).toBe(fixture.weightsSha256.vae);
});

it("the fixture's int64-timestep cases differ from the float ones beyond the bar (so each set tests something)", () => {
  for (const truncated of cases.filter((c) => c.unetTimestep === "int64")) {
    const float = cases.find((c) => c.unetTimestep === "float" && c.name === truncated.name)!;
    const differences = truncated.images.map((image, i) => pixelDifference(Buffer.from(image, "base64"), Buffer.from(float.images[i]!, "base64")));
    expect(Math.max(...differences.map((d) => d.mean)), truncated.name).toBeGreaterThan(TOLERANCE.float32.mean);
  }
});

describe.each(EXPORTER_GENERATIONS.flatMap((exporter) => (["float32", "float16"] as const).map((dtype) => ({ exporter, dtype }))))(
  "$exporter $dtype export",
  ({ exporter, dtype }) => {
    let model: StableDiffusionModel;
    beforeAll(async () => {
      model = await loadDemoModel({ exporter, dtype });
      expect(model.sizeMultiple).toBe(SIZE_MULTIPLE[exporter]);
    });

    it.each(casesFor(exporter).map((c) => [`${c.name} (${c.unetTimestep} timestep)`, c] as const))("%s", async (label, reference) => {
      const started = performance.now();
      const samples = await generate(model, reference.request, { batchSize: reference.request.samples });
      const ms = performance.now() - started;

      expect(samples.map((sample) => sample.seed)).toEqual(reference.images.map((_, i) => reference.request.seed + i));
      const differences = samples.map((sample, i) => {
        expect([sample.image.width, sample.image.height]).toEqual([reference.request.width, reference.request.height]);
        return pixelDifference(sample.image.data, Buffer.from(reference.images[i]!, "base64"));
      });
      const shown = differences.map((d) => `${d.max} / ${d.mean.toFixed(4)}`).join(", ");
      report.push(`  ${exporter} ${dtype} ${label}: ${shown} (${ms.toFixed(0)} ms)`);
      for (const [i, difference] of differences.entries()) {
        expect(difference.max, `sample ${i}: max |Δ| (${shown})`).toBeLessThanOrEqual(TOLERANCE[dtype].max);
        expect(difference.mean, `sample ${i}: mean |Δ| (${shown})`).toBeLessThanOrEqual(TOLERANCE[dtype].mean);
      }
    });
  },
);

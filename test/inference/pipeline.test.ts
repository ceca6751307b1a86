/**
 * The behaviour of Atelier's generate() beyond pixel parity (that is pipeline-parity.test.ts):
 * determinism, batch independence, cancellation, progress events, request checking, and loading
 * every exporter layout (and broken folders) of the tiny demo model.
 */
import { copyFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelLoadError, loadStableDiffusion, type StableDiffusionModel } from "../../src/inference/models/stable-diffusion-model.ts";
import { GenerationRequestError, type GenerationRequest } from "../../src/inference/pipeline/generation-request.ts";
import { latentPreview } from "../../src/inference/pipeline/latent-preview.ts";
import { SampleNoise } from "../../src/inference/pipeline/sample-noise.ts";
import { generate, type GeneratedSample, type StepEvent } from "../../src/inference/pipeline/stable-diffusion-pipeline.ts";
import { createScheduler } from "../../src/inference/schedulers/index.ts";
import { EXPORTER_GENERATIONS } from "../../src/models/demo/export-profiles.ts";
import { copyDemoModelFolder, disposeDemoModels, loadDemoModel } from "../support/demo-model.ts";

/** A short job on the shipped demo model (optimum-1.23 layout, float32); Euler a draws noise at every step. */
const REQUEST: GenerationRequest = {
  prompt: "a lighthouse at dusk",
  negativePrompt: "",
  samples: 1,
  seed: 1234,
  steps: 5,
  guidanceScale: 7.5,
  width: 32,
  height: 48,
  scheduler: "EULER_ANCESTRAL",
};

let model: StableDiffusionModel;
beforeAll(async () => {
  model = await loadDemoModel();
});
afterAll(() => disposeDemoModels());

function pixels(samples: GeneratedSample[]): Buffer[] {
  return samples.map((sample) => Buffer.from(sample.image.data));
}

describe("determinism", () => {
  it("gives identical pixels for the same seed and other pixels for another seed", async () => {
    const [first] = pixels(await generate(model, REQUEST));
    const [again] = pixels(await generate(model, REQUEST));
    const [other] = pixels(await generate(model, { ...REQUEST, seed: REQUEST.seed + 100 }));
    expect(first!.equals(again!)).toBe(true);
    expect(first!.equals(other!)).toBe(false);
  });

  // Exact: each sample owns its generator, and onnxruntime's CPU kernels compute every batch row alike.
  it.each(["EULER_ANCESTRAL", "LCM", "DDIM"] as const)(
    "%s: sample i of a 3-sample job equals a one-sample job with seed + i, whatever the batch size",
    async (scheduler) => {
      const request = { ...REQUEST, scheduler, samples: 3 };
      const single = await Promise.all([0, 1, 2].map(async (i) => pixels(await generate(model, { ...request, samples: 1, seed: request.seed + i }))[0]!));
      for (const batchSize of [1, 2, 3]) {
        const samples = await generate(model, request, { batchSize });
        expect(samples.map((sample) => [sample.sampleIndex, sample.seed])).toEqual([0, 1, 2].map((i) => [i, request.seed + i]));
        pixels(samples).forEach((image, i) => expect(image.equals(single[i]!), `batch size ${batchSize}, sample ${i}`).toBe(true));
      }
    },
  );
});

describe("progress and cancellation", () => {
  it("reports every step of every sample, 1-based, with a WebP preview of the latents", async () => {
    const events: StepEvent[] = [];
    const request = { ...REQUEST, samples: 3, scheduler: "EULER" as const };
    await generate(model, request, { batchSize: 2, onStep: (event) => events.push(event) });

    expect(events).toHaveLength(request.samples * request.steps);
    const scheduler = createScheduler("EULER", model.schedulerConfig);
    scheduler.setTimesteps(request.steps);
    for (const sampleIndex of [0, 1, 2]) {
      const own = events.filter((event) => event.sampleIndex === sampleIndex);
      expect(own.map((event) => event.step)).toEqual([1, 2, 3, 4, 5]);
      expect(own.map((event) => event.timestep)).toEqual(scheduler.timesteps);
      expect(own.every((event) => event.totalSteps === request.steps)).toBe(true);
    }
    const preview = await events.at(-1)!.preview!();
    expect(preview).toMatch(/^data:image\/webp;base64,/);
    const image = sharp(Buffer.from(preview.slice(preview.indexOf(",") + 1), "base64"));
    expect(await image.metadata()).toMatchObject({ format: "webp", width: request.width / 8, height: request.height / 8 });
  });

  it("keeps previews of large latents at most 64 px on the longer side, small enough for a NOTIFY payload", async () => {
    // The latents of a 1024×768 image: 4 × 128 × 96, standard-normal like fresh noise (the worst case for the encoder).
    const latents = new SampleNoise([7], 4 * 128 * 96).draw();
    const preview = await latentPreview(latents, [1, 4, 128, 96], 0);
    const image = sharp(Buffer.from(preview.slice(preview.indexOf(",") + 1), "base64"));
    expect(await image.metadata()).toMatchObject({ format: "webp", width: 48, height: 64 });
    expect(preview.length).toBeLessThan(6000);
  });

  it("counts PNDM's extra warm-up evaluation as a step: steps + 1 events per sample, as diffusers runs steps + 1 UNet calls", async () => {
    const events: StepEvent[] = [];
    await generate(model, { ...REQUEST, scheduler: "PNDM" }, { onStep: (event) => events.push(event) });
    expect(events.map((event) => event.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events.every((event) => event.totalSteps === REQUEST.steps + 1)).toBe(true);
  });

  it.each([
    { samples: 1, batchSize: 1 },
    { samples: 2, batchSize: 2 },
    { samples: 2, batchSize: 1 },
  ])("an abort from onStep at step 3 ($samples samples, batch size $batchSize) rejects with an AbortError and stops the events", async (options) => {
    const controller = new AbortController();
    const events: string[] = [];
    const run = generate(
      model,
      { ...REQUEST, samples: options.samples },
      {
        batchSize: options.batchSize,
        signal: controller.signal,
        onStep: (event) => {
          events.push(`${event.sampleIndex}:${event.step}`);
          if (event.step === 3) controller.abort();
        },
      },
    );
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
    expect(events).toEqual(["0:1", ...(options.batchSize === 2 ? ["1:1", "0:2", "1:2"] : ["0:2"]), "0:3"]);
  });

  it("an abort at the last step still rejects: no images after a cancel", async () => {
    const controller = new AbortController();
    const run = generate(model, REQUEST, { signal: controller.signal, onStep: (event) => event.step === event.totalSteps && controller.abort() });
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
  });

  it("a signal aborted before the start rejects without running a step", async () => {
    const onStep = (): void => {
      throw new Error("no step should run");
    };
    await expect(generate(model, REQUEST, { signal: AbortSignal.abort(), onStep })).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("request checking", () => {
  it("lists every problem of an invalid request at once", async () => {
    const bad: GenerationRequest = {
      prompt: "x".repeat(10_001),
      negativePrompt: "",
      samples: 0,
      seed: -1,
      steps: 2.5,
      guidanceScale: 101,
      width: 40,
      height: 0,
      scheduler: "HEUN" as GenerationRequest["scheduler"],
    };
    const error = await generate(model, bad).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GenerationRequestError);
    const problems = (error as GenerationRequestError).problems;
    expect(problems.map((problem) => problem.field)).toEqual(["prompt", "samples", "seed", "steps", "guidanceScale", "width", "height", "scheduler"]);
    expect(problems.find((problem) => problem.field === "width")!.rule).toBe(`must be a multiple of 16 between 16 and 2048 for this model, got 40`);
  });
});

describe("loading", () => {
  async function loadError(dir: string): Promise<ModelLoadError> {
    const error = await loadStableDiffusion(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ModelLoadError);
    return error as ModelLoadError;
  }

  it("reports every missing file of a folder in one ModelLoadError", async () => {
    const dir = await copyDemoModelFolder();
    for (const file of ["unet/model.onnx", "vae_decoder/model.onnx", "scheduler/scheduler_config.json", "tokenizer/merges.txt"]) await rm(path.join(dir, file));
    const error = await loadError(dir);
    expect(error.problems).toEqual([
      "missing scheduler/scheduler_config.json",
      "missing unet/model.onnx",
      "missing vae_decoder/model.onnx",
      expect.stringMatching(/^Cannot load a CLIP tokenizer from .*\n  - merges\.txt: missing/),
    ]);
    expect(error.message).toContain(dir);
  });

  it("refuses a component config that does not parse instead of falling back silently", async () => {
    const dir = await copyDemoModelFolder();
    await writeFile(path.join(dir, "unet/config.json"), '{"sample_size": 8,');
    const error = await loadError(dir);
    expect(error.problems).toEqual([expect.stringMatching(/^unet\/config\.json is not valid JSON: /)]);
  });

  it("reports every component that is not the model it should be in one ModelLoadError", async () => {
    const dir = await copyDemoModelFolder();
    await copyFile(path.join(dir, "text_encoder/model.onnx"), path.join(dir, "unet/model.onnx"));
    await copyFile(path.join(dir, "vae_encoder/model.onnx"), path.join(dir, "vae_decoder/model.onnx"));
    const error = await loadError(dir);
    expect(error.problems).toEqual([
      'unet: no input named sample (it has input_ids)',
      'unet: no input named timestep (it has input_ids)',
      'unet: no input named encoder_hidden_states (it has input_ids)',
      'unet: no output named out_sample (it has last_hidden_state, pooler_output)',
      'unet: input "input_ids" is not one Atelier knows how to feed',
      'vae_decoder: no input named latent_sample (it has sample)',
      'vae_decoder: no output named sample (it has latent_parameters)',
      'vae_decoder: input "sample" is not one Atelier knows how to feed',
    ]);
  });

  describe.each(EXPORTER_GENERATIONS.flatMap((exporter) => (["float32", "float16"] as const).map((dtype) => ({ exporter, dtype }))))(
    "$exporter $dtype export",
    ({ exporter, dtype }) => {
      it("loads and generates", async () => {
        const loaded = await loadDemoModel({ exporter, dtype });
        const configless = exporter === "diffusers-script";
        expect(loaded).toMatchObject({
          vaeScalingFactor: 0.18215,
          vaeScaleFactor: 8,
          latentChannels: 4,
          sizeMultiple: configless ? 64 : 16,
          defaults: { width: configless ? 512 : 64, height: configless ? 512 : 64, scheduler: "PNDM" },
        });
        expect(loaded.vaeEncoder).toBeDefined();
        expect(loaded.warnings).toHaveLength(configless ? 1 : 0);

        const [sample] = await generate(loaded, { ...REQUEST, width: 64, height: 64, steps: 3 });
        const { width, height, data } = sample!.image;
        expect([width, height, data.length]).toEqual([64, 64, 64 * 64 * 3]);
        expect(new Set(data).size, "an image, not a constant").toBeGreaterThan(50);
      });
    },
  );
});

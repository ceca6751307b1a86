/**
 * The batch memory estimate and what the pipeline does with it: a batch that would not fit in free
 * memory is split, a single sample that would not fit is refused before anything runs.
 */
import { afterAll, describe, expect, it } from "vitest";
import { batchMemoryBytes, fittingBatchSize, InsufficientMemoryError, type MemoryShape } from "../../src/inference/pipeline/memory-budget.ts";
import { generate } from "../../src/inference/pipeline/stable-diffusion-pipeline.ts";
import { disposeDemoModels, loadDemoModel } from "../support/demo-model.ts";

afterAll(() => disposeDemoModels());

/** SD 1.5's widths and heads (unet, vae_decoder configs), fp32. */
const SD15: MemoryShape = { fullResolutionAttention: true, unetChannels: 320, vaeChannels: 128, vaeScaleFactor: 8, elementBytes: 4 };
const GiB = 2 ** 30;

describe("batchMemoryBytes", () => {
  it("gives SD 1.5 at 512×512 with guidance about 1.5 GiB for one sample, half that in fp16", () => {
    const one = batchMemoryBytes(SD15, 512, 512, 1, true);
    expect(one / GiB).toBeCloseTo(1.52, 2);
    expect(batchMemoryBytes({ ...SD15, elementBytes: 2 }, 512, 512, 1, true)).toBe(one / 2);
    expect(batchMemoryBytes(SD15, 512, 512, 1, false)).toBeLessThan(one);
  });
  it("grows with the batch by the UNet's rows only: attention is sliced, and the VAE decodes one image at a time", () => {
    const [one, four] = [1, 4].map((samples) => batchMemoryBytes(SD15, 512, 512, samples, true));
    expect(four!).toBeGreaterThan(one!);
    expect(four!).toBeLessThan(2 * one!);
  });
  it("grows with the square of the tokens where the full-resolution block has attention", () => {
    const withAttention = batchMemoryBytes(SD15, 1024, 1024, 1, true) - batchMemoryBytes(SD15, 512, 512, 1, true);
    const without = batchMemoryBytes({ ...SD15, fullResolutionAttention: false }, 1024, 1024, 1, true) - batchMemoryBytes({ ...SD15, fullResolutionAttention: false }, 512, 512, 1, true);
    expect(withAttention - without).toBe((2 * 16384 ** 2 - 2 * 4096 ** 2) * 4);
  });
});

describe("fittingBatchSize", () => {
  const needs = (samples: number) => batchMemoryBytes(SD15, 512, 512, samples, true);
  it("keeps a batch that fits and shrinks one that does not", () => {
    expect(fittingBatchSize(SD15, { width: 512, height: 512 }, true, 4, 100 * GiB)).toBe(4);
    // 512 MiB of headroom, then room for two samples and a little, not three.
    expect(fittingBatchSize(SD15, { width: 512, height: 512 }, true, 4, needs(2) + 0.5 * GiB + (needs(3) - needs(2)) / 2)).toBe(2);
  });
  it("refuses a sample that cannot fit, saying what it needs and what is free", () => {
    expect(() => fittingBatchSize(SD15, { width: 1024, height: 1024 }, true, 1, 4 * GiB)).toThrow(InsufficientMemoryError);
    expect(() => fittingBatchSize(SD15, { width: 1024, height: 1024 }, true, 1, 4 * GiB)).toThrow(/1024×1024 image needs about 8\.1 GiB .* and 4\.0 GiB is available/);
  });
});

describe("in the pipeline", () => {
  it("refuses a job far beyond this machine's memory before the first step", async () => {
    const model = await loadDemoModel();
    const steps: number[] = [];
    const request = { prompt: "a", negativePrompt: "", samples: 1, seed: 1, steps: 2, guidanceScale: 7.5, width: 2048, height: 2048, scheduler: "EULER" as const };
    await expect(generate(model, request, { onStep: (event) => steps.push(event.step) })).rejects.toThrow(InsufficientMemoryError);
    expect(steps).toEqual([]);
  });
});

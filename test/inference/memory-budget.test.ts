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
const SD15: MemoryShape = { fullResolutionHeads: 8, unetChannels: 320, vaeChannels: 128, vaeScaleFactor: 8, elementBytes: 4 };
const GiB = 2 ** 30;

describe("batchMemoryBytes", () => {
  it("gives SD 1.5 at 512×512 with guidance about 3.4 GiB for one sample, half that in fp16, and grows with the batch", () => {
    const one = batchMemoryBytes(SD15, 512, 512, 1, true);
    expect(one / GiB).toBeCloseTo(3.39, 2);
    expect(batchMemoryBytes({ ...SD15, elementBytes: 2 }, 512, 512, 1, true)).toBe(one / 2);
    expect(batchMemoryBytes(SD15, 512, 512, 4, true)).toBe(4 * one);
    expect(batchMemoryBytes(SD15, 512, 512, 1, false)).toBeLessThan(one);
  });
});

describe("fittingBatchSize", () => {
  const one = batchMemoryBytes(SD15, 512, 512, 1, true);
  it("keeps a batch that fits and shrinks one that does not", () => {
    expect(fittingBatchSize(SD15, { width: 512, height: 512 }, true, 4, 100 * GiB)).toBe(4);
    expect(fittingBatchSize(SD15, { width: 512, height: 512 }, true, 4, 2.5 * one + GiB)).toBe(2);
  });
  it("refuses a sample that cannot fit, saying what it needs and what is free", () => {
    expect(() => fittingBatchSize(SD15, { width: 1024, height: 1024 }, true, 1, 16 * GiB)).toThrow(InsufficientMemoryError);
    expect(() => fittingBatchSize(SD15, { width: 1024, height: 1024 }, true, 1, 16 * GiB)).toThrow(/1024×1024 image needs about 3\d\.\d GiB .* and 16\.0 GiB is available/);
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

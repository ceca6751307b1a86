/**
 * onnxruntime's optimized-graph cache: the first load saves the optimized graph under the cache
 * folder, the second loads it instead of the model, and both give the same pixels.
 */
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { loadStableDiffusion } from "../../src/inference/models/stable-diffusion-model.ts";
import { generate } from "../../src/inference/pipeline/stable-diffusion-pipeline.ts";
import { demoModelFolder, disposeDemoModels } from "../support/demo-model.ts";
import { makeTempDir } from "../support/temp-dir.ts";

let cache: string | undefined;
afterAll(async () => {
  await disposeDemoModels();
  if (cache) await rm(cache, { recursive: true, force: true });
});

const REQUEST = { prompt: "a lighthouse", negativePrompt: "", samples: 1, seed: 3, steps: 2, guidanceScale: 7.5, width: 64, height: 64, scheduler: "EULER" as const };

it("saves each component's optimized graph once, then loads it, with the same pixels", async () => {
  cache = await makeTempDir("atelier-graph-cache");
  const folder = await demoModelFolder();
  const pixels = async () => {
    const model = await loadStableDiffusion(folder, { optimizedGraphCache: cache });
    try {
      return Buffer.from((await generate(model, REQUEST))[0]!.image.data);
    } finally {
      await model.release();
    }
  };
  const first = await pixels();
  const saved = (await readdir(cache)).filter((name) => name.endsWith(".onnx") && !name.includes(".partial"));
  expect(saved).toHaveLength(4); // text encoder, UNet, VAE encoder and decoder
  const second = await pixels();
  expect(second.equals(first)).toBe(true);
  expect((await readdir(cache)).filter((name) => name.endsWith(".onnx") && !name.includes(".partial"))).toEqual(saved);
  expect(path.isAbsolute(cache)).toBe(true);
});

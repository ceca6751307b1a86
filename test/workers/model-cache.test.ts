/**
 * The worker's model cache with real onnxruntime sessions on two demo model folders: each model is
 * loaded once however many jobs share it, the least recently used idle one is released past the
 * capacity, and a model in use is never released under its job.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStableDiffusion } from "../../src/inference/models/stable-diffusion-model.ts";
import { createModelCache } from "../../workers/model-cache.ts";
import { demoModelFolder, disposeDemoModels } from "../support/demo-model.ts";

let folders: Record<string, string>;

beforeAll(async () => {
  folders = { a: await demoModelFolder(), b: await demoModelFolder({ exporter: "diffusers-script" }) };
});
afterAll(() => disposeDemoModels());

function cache(capacity: number) {
  const loads: string[] = [];
  const models = createModelCache({
    capacity,
    load: async (name) => {
      loads.push(name);
      return loadStableDiffusion(folders[name]!);
    },
  });
  return { models, loads };
}

describe("the model cache", () => {
  it("loads a model once for every job that shares it", async () => {
    const { models, loads } = cache(1);
    const leases = await Promise.all([models.acquire("a"), models.acquire("a"), models.acquire("a")]);
    expect(loads).toEqual(["a"]);
    expect(new Set(leases.map((lease) => lease.model)).size).toBe(1);
    for (const lease of leases) lease.release();
    await models.close();
  });

  it("releases the least recently used idle model past its capacity", async () => {
    const { models, loads } = cache(1);
    const a = await models.acquire("a");
    a.release();
    const b = await models.acquire("b");
    expect(models.loadedNames()).toEqual(["b"]);
    // a's sessions were released: running it now fails.
    await expect(a.model.textEncoder.encode(new Int32Array(77), 1)).rejects.toThrow();
    b.release();
    await models.acquire("a").then((lease) => lease.release());
    expect(loads).toEqual(["a", "b", "a"]);
    await models.close();
  });

  it("never releases a model while a job uses it", async () => {
    const { models } = cache(1);
    const a = await models.acquire("a");
    const b = await models.acquire("b");
    expect(models.loadedNames().sort()).toEqual(["a", "b"]);
    const { data } = await a.model.textEncoder.encode(a.model.tokenizer.encode("still usable"), 1);
    expect(data.length).toBeGreaterThan(0);
    a.release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(models.loadedNames()).toEqual(["b"]);
    b.release();
    await models.close();
  });
});

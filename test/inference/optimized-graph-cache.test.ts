/**
 * onnxruntime's optimized-graph cache: the first load saves the optimized graph under the cache
 * folder, the second loads it instead of the model, and both give the same pixels; loads that save
 * the same graph at once leave one copy, and a dead saver's files are removed; a model file
 * rewritten in place gets an entry of its own, also in the process that keyed the old one.
 */
import { spawnSync } from "node:child_process";
import { copyFile, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { loadStableDiffusion } from "../../src/inference/models/stable-diffusion-model.ts";
import { createModelSession } from "../../src/inference/ort/runtime.ts";
import { generate } from "../../src/inference/pipeline/stable-diffusion-pipeline.ts";
import { copyDemoModelFolder, demoModelFolder, disposeDemoModels } from "../support/demo-model.ts";
import { makeTempDir } from "../support/temp-dir.ts";

const caches: string[] = [];
afterAll(async () => {
  await disposeDemoModels();
  await Promise.all(caches.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function emptyCache(): Promise<string> {
  const dir = await makeTempDir("atelier-graph-cache");
  caches.push(dir);
  return dir;
}

const REQUEST = { prompt: "a lighthouse", negativePrompt: "", samples: 1, seed: 3, steps: 2, guidanceScale: 7.5, width: 64, height: 64, scheduler: "EULER" as const };

it.each(["float32", "float16"] as const)("saves each component's optimized %s graph once, then loads it, with the same pixels", async (dtype) => {
  const cache = await emptyCache();
  const folder = await demoModelFolder({ dtype });
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
  expect((await readdir(cache)).filter((name) => name.includes(".partial"))).toEqual([]);
  const second = await pixels();
  expect(second.equals(first)).toBe(true);
  expect((await readdir(cache)).filter((name) => name.endsWith(".onnx") && !name.includes(".partial"))).toEqual(saved);
  expect(path.isAbsolute(cache)).toBe(true);
});

it("keeps one copy when several loads save the same graph at once, and removes what a dead saver left", async () => {
  const cache = await emptyCache();
  const decoder = path.join(await demoModelFolder(), "vae_decoder/model.onnx");
  const open = () => createModelSession(decoder, { optimizedGraphCache: cache });
  // All three find no saved graph and save their own; the first to commit wins.
  const sessions = await Promise.all([open(), open(), open()]);
  const saved = await readdir(cache);
  const graph = saved.filter((name) => /^[0-9a-f]{32}\.onnx$/.test(name));
  expect(graph).toHaveLength(1);
  expect(saved.filter((name) => name.endsWith(".onnx_data"))).toHaveLength(1);
  expect(saved).toHaveLength(2);
  const feeds = { latent_sample: { data: Float32Array.from({ length: 4 * 8 * 8 }, (_, i) => Math.sin(i)), dims: [1, 4, 8, 8] } };
  const [first, ...others] = await Promise.all(sessions.map(async (session) => (await session.run(feeds))["sample"]!.data));
  for (const other of others) expect(Buffer.from(other.buffer).equals(Buffer.from(first!.buffer))).toBe(true);
  await Promise.all(sessions.map((session) => session.release()));

  // What a process of this host left when it died while saving goes with the next load; a live
  // process's files and another host's stay.
  const key = graph[0]!.slice(0, -".onnx".length);
  const deadPid = spawnSync(process.execPath, ["-e", ""]).pid;
  const dead = [`${key}.${os.hostname()}-${deadPid}-0.partial.onnx`, `${key}.${os.hostname()}-${deadPid}-0.onnx_data`];
  const kept = [`${key}.${os.hostname()}-${process.pid}-99.partial.onnx`, `${key}.another-host-${deadPid}-0.onnx_data`];
  for (const name of [...dead, ...kept]) await writeFile(path.join(cache, name), "left behind");
  await (await open()).release();
  expect((await readdir(cache)).sort()).toEqual([...saved, ...kept].sort());
});

it("gives a model file rewritten in place an entry of its own, in the same process that saved the old one", async () => {
  const cache = await emptyCache();
  const encoder = path.join(await copyDemoModelFolder(), "text_encoder/model.onnx");
  const graphs = async () => (await readdir(cache)).filter((name) => /^[0-9a-f]{32}\.onnx$/.test(name));
  await (await createModelSession(encoder, { optimizedGraphCache: cache })).release();
  await (await createModelSession(encoder, { optimizedGraphCache: cache })).release();
  const [first] = await graphs();
  expect(await graphs()).toEqual([first]);
  // Another text encoder (the fp16 export's) written over the same path: other bytes, other key.
  await copyFile(path.join(await demoModelFolder({ dtype: "float16" }), "text_encoder/model.onnx"), encoder);
  await (await createModelSession(encoder, { optimizedGraphCache: cache })).release();
  const after = await graphs();
  expect(after).toHaveLength(2);
  expect(after).toContain(first);
});

/**
 * What the CLIP scorer refuses before loading anything: incomplete folders (one error listing every
 * missing file), configs that cannot work, unknown dtypes.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openClipFolder, requiredClipFiles } from "../../src/inference/clip/clip-folder.ts";
import { loadClipScorer } from "../../src/inference/clip/clip-scorer.ts";
import { makeDemoClip } from "../../tools/demo-models/write-clip.ts";
import { makeTempDir } from "../support/temp-dir.ts";

let root: string;
let folder: string;

beforeAll(async () => {
  root = await makeTempDir("atelier-clip-folder");
  folder = path.join(root, "clip");
  await makeDemoClip({ preset: "tiny", outDir: folder });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A copy of the demo folder with `edit` applied. */
async function variant(name: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(root, name);
  await makeDemoClip({ preset: "tiny", outDir: dir });
  await edit(dir);
  return dir;
}

describe("openClipFolder", () => {
  it("reads the generated folder: 77 text positions, the processor config, the demo marker", async () => {
    const opened = await openClipFolder(folder, "fp32");
    expect(opened).toMatchObject({ path: folder, maxTextLength: 77, isDemo: true });
    expect(opened.imageProcessor.cropSize).toEqual({ height: 224, width: 224 });
  });

  it("lists every missing file in one error", async () => {
    const dir = await variant("incomplete", async (d) => {
      await rm(path.join(d, "tokenizer.json"));
      await rm(path.join(d, "onnx/vision_model.onnx"));
    });
    await expect(loadClipScorer(dir)).rejects.toThrow(`${dir} is not a complete CLIP model folder (dtype fp32): missing tokenizer.json, onnx/vision_model.onnx`);
  });

  it("looks for the dtype's files", async () => {
    expect(requiredClipFiles("fp16")).toContain("onnx/text_model_fp16.onnx");
    expect(requiredClipFiles("q8")).toContain("onnx/vision_model_quantized.onnx");
    await expect(loadClipScorer(folder, { dtype: "fp16" })).rejects.toThrow("missing onnx/text_model_fp16.onnx, onnx/vision_model_fp16.onnx");
    await expect(openClipFolder(folder, "fp64" as never)).rejects.toThrow('dtype must be one of fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4, got "fp64"');
  });

  it("names the file and key of a bad config", async () => {
    const dir = await variant("bad-crop", async (d) => {
      const file = path.join(d, "preprocessor_config.json");
      const config = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
      await writeFile(file, JSON.stringify({ ...config, crop_size: { height: 200, width: 200 } }));
    });
    await expect(openClipFolder(dir, "fp32")).rejects.toThrow("preprocessor_config.json crops to 200×200, but config.json's vision model takes 224×224 images");
    const broken = await variant("bad-resample", async (d) => writeFile(path.join(d, "preprocessor_config.json"), JSON.stringify({ resample: "bicubic" })));
    await expect(openClipFolder(broken, "fp32")).rejects.toThrow('preprocessor_config.json: resample must be one of');
  });

  it("refuses a batch size that is not a positive integer", async () => {
    await expect(loadClipScorer(folder, { batchSize: 0 })).rejects.toThrow("batchSize must be a positive integer, got 0");
  });
});

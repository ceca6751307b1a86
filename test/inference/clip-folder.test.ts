/**
 * What the CLIP scorer refuses before loading anything: incomplete folders (one error listing every
 * missing file, for both model layouts), configs that cannot work, unknown dtypes. Folder problems
 * are UserFacingErrors (the CLI prints them without a stack trace).
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserFacingError } from "../../src/errors.ts";
import { ClipFolderError, openClipFolder } from "../../src/inference/clip/clip-folder.ts";
import { clipModelLayouts } from "../../src/inference/clip/clip-model-files.ts";
import { loadClipScorer } from "../../src/inference/clip/clip-scorer.ts";
import { makeDemoClip } from "../../src/models/demo/write-clip.ts";
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
    expect(opened).toMatchObject({ path: folder, maxTextLength: 77, imageSize: 224, isDemo: true });
    expect(opened.modelFiles).toEqual({ layout: "split", textModel: "onnx/text_model.onnx", visionModel: "onnx/vision_model.onnx" });
    expect(opened.imageProcessor.cropSize).toEqual({ height: 224, width: 224 });
  });

  it("lists every missing file in one user-facing error, with the model files each layout needs", async () => {
    const dir = await variant("incomplete", async (d) => {
      await rm(path.join(d, "tokenizer.json"));
      await rm(path.join(d, "preprocessor_config.json"));
      await rm(path.join(d, "onnx/vision_model.onnx"));
      await rm(path.join(d, "onnx/model.onnx"));
    });
    const error = await loadClipScorer(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClipFolderError);
    expect(error).toBeInstanceOf(UserFacingError);
    expect((error as Error).message).toBe(
      `${dir} is not a complete CLIP model folder (dtype fp32): missing tokenizer.json, preprocessor_config.json; onnx/vision_model.onnx, or onnx/model.onnx, or model.onnx`,
    );
  });

  it("looks for the dtype's files in every layout", async () => {
    expect(clipModelLayouts("q8")).toEqual([
      { layout: "split", textModel: "onnx/text_model_quantized.onnx", visionModel: "onnx/vision_model_quantized.onnx" },
      { layout: "combined", model: "onnx/model_quantized.onnx" },
      { layout: "combined", model: "model_quantized.onnx" },
    ]);
    await expect(loadClipScorer(folder, { dtype: "fp16" })).rejects.toThrow(
      "(dtype fp16): missing onnx/text_model_fp16.onnx and onnx/vision_model_fp16.onnx, or onnx/model_fp16.onnx, or model_fp16.onnx",
    );
    await expect(openClipFolder(folder, "fp64" as never)).rejects.toThrow('dtype must be one of fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4, got "fp64"');
  });

  it("names the file and key of a bad config, in a user-facing error", async () => {
    const dir = await variant("bad-crop", async (d) => {
      const file = path.join(d, "preprocessor_config.json");
      const config = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
      await writeFile(file, JSON.stringify({ ...config, crop_size: { height: 200, width: 200 } }));
    });
    await expect(openClipFolder(dir, "fp32")).rejects.toThrow(`${dir}: preprocessor_config.json crops to 200×200, but config.json's vision model takes 224×224 images`);
    const broken = await variant("bad-resample", async (d) => writeFile(path.join(d, "preprocessor_config.json"), JSON.stringify({ resample: "bicubic" })));
    await expect(openClipFolder(broken, "fp32")).rejects.toThrow(`${path.join(broken, "preprocessor_config.json")}: resample must be one of`);
    await expect(openClipFolder(broken, "fp32")).rejects.toBeInstanceOf(UserFacingError);
    const badSize = await variant("bad-image-size", async (d) => {
      const file = path.join(d, "config.json");
      const config = JSON.parse(await readFile(file, "utf8")) as { vision_config: Record<string, unknown> };
      await writeFile(file, JSON.stringify({ ...config, vision_config: { ...config.vision_config, image_size: "224" } }));
    });
    await expect(openClipFolder(badSize, "fp32")).rejects.toThrow(`${path.join(badSize, "config.json")}: vision_config.image_size must be a positive integer, got "224"`);
  });

  it("refuses a batch size that is not a positive integer", async () => {
    await expect(loadClipScorer(folder, { batchSize: 0 })).rejects.toThrow("batchSize must be a positive integer, got 0");
  });
});

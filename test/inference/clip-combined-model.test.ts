/**
 * CLIP folders that carry only the combined CLIPModel export: onnx/model.onnx (transformers.js
 * layout) or model.onnx at the root (what `optimum-cli export onnx` writes). Made from the
 * generated demo CLIP by deleting its split towers. Tolerances: scores within 1e-5 of the split
 * towers' (the same weights through another graph; 8.9e-7 seen) and within 0.01 of PyTorch's
 * (test/fixtures/clip-scores.json, the acceptance bound; 1.9e-5 seen); embeddings within 1e-6 of
 * the split towers' after L2 normalization (the combined graph normalizes; 5.6e-8 seen).
 */
import { copyFile, cp, rename, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserFacingError } from "../../src/errors.ts";
import { ClipFolderError } from "../../src/inference/clip/clip-folder.ts";
import { clipScore } from "../../src/inference/clip/clip-score.ts";
import { loadClipScorer, type ClipScorer } from "../../src/inference/clip/clip-scorer.ts";
import { makeDemoClip } from "../../src/models/demo/write-clip.ts";
import { makeTempDir } from "../support/temp-dir.ts";
import { clipFixture as fixture, clipFixtureImages as images, maxAbsDifference } from "./clip-fixture.ts";

let root: string;
let splitFolder: string;
let split: ClipScorer;
let combined: ClipScorer;

beforeAll(async () => {
  root = await makeTempDir("atelier-clip-combined");
  splitFolder = path.join(root, "split");
  await makeDemoClip({ preset: fixture.model.preset, outDir: splitFolder });
  const combinedFolder = await variant("combined", async () => {});
  [split, combined] = await Promise.all([loadClipScorer(splitFolder), loadClipScorer(combinedFolder)]);
});

afterAll(async () => {
  await Promise.all([split?.release(), combined?.release()]);
  await rm(root, { recursive: true, force: true });
});

/** A copy of the demo folder without its split towers, with `edit` applied. */
async function variant(name: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(root, name);
  await cp(splitFolder, dir, { recursive: true });
  await Promise.all(["onnx/text_model.onnx", "onnx/vision_model.onnx"].map((file) => rm(path.join(dir, file))));
  await edit(dir);
  return dir;
}

function normalized(vector: Float32Array): Float32Array {
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

describe("a folder with only onnx/model.onnx", () => {
  it("loads the combined model", () => {
    expect(combined.folder.modelFiles).toEqual({ layout: "combined", model: "onnx/model.onnx" });
    expect(split.folder.modelFiles.layout).toBe("split");
  });

  it("scores like the split towers (within 1e-5) and like PyTorch (within 0.01)", async () => {
    for (const [p, prompt] of fixture.prompts.entries()) {
      const scores = await combined.score(prompt.text, images);
      expect(maxAbsDifference(scores, await split.score(prompt.text, images))).toBeLessThan(1e-5);
      expect(maxAbsDifference(scores, fixture.scores[p]!)).toBeLessThan(0.01);
    }
  });

  it("gives the split towers' embeddings, L2-normalized (within 1e-6)", async () => {
    for (const prompt of fixture.prompts) {
      expect(maxAbsDifference(await combined.embedText(prompt.text), normalized(await split.embedText(prompt.text)))).toBeLessThan(1e-6);
    }
    const [ours, theirs] = await Promise.all([combined.embedImages(images), split.embedImages(images)]);
    ours.forEach((embedding, i) => expect(maxAbsDifference(embedding, normalized(theirs[i]!))).toBeLessThan(1e-6));
  });

  it("scores over several batches as the cosine of separately computed embeddings", async () => {
    const batched = await loadClipScorer(combined.folder.path, { batchSize: 2 });
    try {
      const prompt = fixture.prompts[1]!.text;
      const text = await batched.embedText(prompt);
      const expected = (await batched.embedImages(images)).map((image) => clipScore(text, image));
      const scores = await batched.score(prompt, images);
      expect(maxAbsDifference(scores, expected)).toBeLessThan(1e-9);
      expect(maxAbsDifference(scores, await combined.score(prompt, images))).toBeLessThan(1e-5);
      expect(await batched.score(prompt, [])).toEqual([]);
    } finally {
      await batched.release();
    }
  });
});

it("loads optimum's layout, model.onnx at the folder root, with the same scores", async () => {
  const dir = await variant("optimum", async (d) => {
    await rename(path.join(d, "onnx/model.onnx"), path.join(d, "model.onnx"));
    await rm(path.join(d, "onnx"), { recursive: true });
  });
  const scorer = await loadClipScorer(dir);
  try {
    expect(scorer.folder.modelFiles).toEqual({ layout: "combined", model: "model.onnx" });
    const prompt = fixture.prompts[0]!.text;
    expect(await scorer.score(prompt, images)).toEqual(await combined.score(prompt, images));
  } finally {
    await scorer.release();
  }
});

it("refuses a folder with neither layout in one user-facing error naming both", async () => {
  const dir = await variant("neither", (d) => rm(path.join(d, "onnx/model.onnx")));
  const error = await loadClipScorer(dir).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ClipFolderError);
  expect(error).toBeInstanceOf(UserFacingError);
  expect((error as Error).message).toBe(
    `${dir} is not a complete CLIP model folder (dtype fp32): missing onnx/text_model.onnx and onnx/vision_model.onnx, or onnx/model.onnx, or model.onnx`,
  );
});

it("refuses a model.onnx that is not a CLIPModel export, naming what it has and what is needed", async () => {
  const dir = await variant("not-clip-model", (d) => copyFile(path.join(splitFolder, "onnx/text_model.onnx"), path.join(d, "onnx/model.onnx")));
  const error = await loadClipScorer(dir).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ClipFolderError);
  expect((error as Error).message).toBe(
    `${path.join(dir, "onnx/model.onnx")} is not a CLIPModel export: it has inputs input_ids and outputs text_embeds, last_hidden_state; ` +
      "Atelier needs inputs input_ids and pixel_values (and optionally attention_mask), outputs text_embeds and image_embeds",
  );
});

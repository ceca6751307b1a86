/**
 * The CLIP scorer on a generated tiny CLIP against test/fixtures/clip-scores.json, the numbers of
 * tools/reference/clip_reference.py (transformers' CLIPImageProcessor with PIL and CLIPModel, in
 * PyTorch, on the same weights). Tolerances: preprocessing is bit-exact (0 difference in every
 * resized pixel and every float32 pixel value); scores within 0.01 (the acceptance bound; about
 * 2e-5 is seen); embeddings within 1e-4 absolute (values are O(1)).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preprocessImages, resizeAndCrop } from "../../src/inference/clip/clip-image-processor.ts";
import { clipScore } from "../../src/inference/clip/clip-score.ts";
import { resizeLikePil } from "../../src/inference/clip/pil-resample.ts";
import { loadClipScorer, type ClipScorer } from "../../src/inference/clip/clip-scorer.ts";
import { makeDemoClip } from "../../src/models/demo/write-clip.ts";
import { weightsChecksum } from "../demo-models/demo-model-support.ts";
import { makeTempDir } from "../support/temp-dir.ts";
import { clipFixture as fixture, clipFixtureImages as images, maxAbsDifference } from "./clip-fixture.ts";
import { testImage } from "./clip-test-images.ts";

let root: string;
let folder: string;
let scorer: ClipScorer;

beforeAll(async () => {
  root = await makeTempDir("atelier-clip-scorer");
  folder = path.join(root, "clip");
  await makeDemoClip({ preset: fixture.model.preset, outDir: folder });
  scorer = await loadClipScorer(folder);
});

afterAll(async () => {
  await scorer?.release();
  await rm(root, { recursive: true, force: true });
});

function sha256(bytes: Uint8Array | Float32Array): string {
  return createHash("sha256").update(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).digest("hex");
}

it("generates the weights the fixture was computed from (else regenerate the fixture, not the scorer)", async () => {
  expect(await weightsChecksum([path.join(folder, "onnx/model.onnx")])).toBe(fixture.model.weightsSha256);
});

describe("preprocessing equals transformers' CLIPImageProcessor with PIL", () => {
  it.each(fixture.pilResizes.map((r) => [`${r.image} ${r.width}×${r.height} → ${r.outWidth}×${r.outHeight}, filter ${r.resample}`, r] as const))(
    "resizes %s exactly as PIL's Image.resize",
    (_, r) => {
      const resized = resizeLikePil(testImage(r.image, r.width, r.height), r.outWidth, r.outHeight, r.resample);
      expect(sha256(resized.data)).toBe(r.sha256);
    },
  );

  it.each(fixture.images.map((image, index) => [image.name, index] as const))("%s: resized and cropped pixels are PIL's (max difference 0)", (_, index) => {
    const expected = fixture.images[index]!;
    const cropped = resizeAndCrop(images[index]!, scorer.folder.imageProcessor);
    const stride = fixture.cropSampleStride;
    const sample: number[] = [];
    for (let y = 0; y < cropped.height; y += stride) {
      for (let x = 0; x < cropped.width; x += stride) sample.push(...cropped.data.subarray((y * cropped.width + x) * 3, (y * cropped.width + x) * 3 + 3));
    }
    expect(maxAbsDifference(sample, expected.cropSample)).toBe(0);
    expect(sha256(cropped.data)).toBe(expected.cropSha256);
  });

  it.each(fixture.images.map((image, index) => [image.name, index] as const))("%s: float32 pixel values are bit-identical", (_, index) => {
    const expected = fixture.images[index]!;
    const { data, dims } = preprocessImages([images[index]!], scorer.folder.imageProcessor);
    expect(dims).toEqual([1, 3, 224, 224]);
    const plane = 224 * 224;
    const means = [0, 1, 2].map((c) => data.subarray(c * plane, (c + 1) * plane).reduce((sum, v) => sum + v, 0) / plane);
    expect(maxAbsDifference(means, expected.pixelValuesChannelMeans)).toBeLessThan(1e-6);
    expect(sha256(data)).toBe(expected.pixelValuesSha256);
  });
});

describe("scores", () => {
  it("equal PyTorch's within 0.01 for every prompt and image", async () => {
    for (const [p, prompt] of fixture.prompts.entries()) {
      const scores = await scorer.score(prompt.text, images);
      expect(maxAbsDifference(scores, fixture.scores[p]!)).toBeLessThan(0.01);
    }
  });

  it("come from text and image embeddings equal to PyTorch's within 1e-4", async () => {
    for (const prompt of fixture.prompts) expect(maxAbsDifference(await scorer.embedText(prompt.text), prompt.textEmbeds)).toBeLessThan(1e-4);
    const embeddings = await scorer.embedImages(images);
    embeddings.forEach((embedding, i) => expect(maxAbsDifference(embedding, fixture.imageEmbeds[i]!)).toBeLessThan(1e-4));
  });

  it("are 100 × the cosine of the separately computed embeddings", async () => {
    const prompt = fixture.prompts[0]!.text;
    const text = await scorer.embedText(prompt);
    const expected = (await scorer.embedImages(images)).map((image) => clipScore(text, image));
    expect(maxAbsDifference(await scorer.score(prompt, images), expected)).toBeLessThan(1e-9);
    expect(clipScore(text, text)).toBeCloseTo(100, 9);
    expect(clipScore(text, text.map((v) => -v))).toBeCloseTo(-100, 9);
  });

  it("do not depend on the batch size", async () => {
    const batched = await loadClipScorer(folder, { batchSize: 2 });
    try {
      const prompt = fixture.prompts[1]!.text;
      expect(maxAbsDifference(await batched.score(prompt, images), await scorer.score(prompt, images))).toBeLessThan(1e-4);
    } finally {
      await batched.release();
    }
  });
});

describe("prompt tokens", () => {
  it("are the ids of the reference tokenizer (openai/CLIP's, on the same vocabulary)", () => {
    for (const prompt of fixture.prompts) expect(scorer.promptIds(prompt.text)).toEqual(prompt.inputIds);
  });

  it("of a prompt over 77 tokens are cut to 77 ending in <|endoftext|>", () => {
    const config = JSON.parse(readFileSync(path.join(folder, "config.json"), "utf8")) as { text_config: { eos_token_id: number } };
    const endOfText = config.text_config.eos_token_id;
    const long = fixture.prompts.find((prompt) => prompt.tokenCount + 2 > 77)!;
    const ids = scorer.promptIds(long.text);
    expect(ids).toHaveLength(77);
    expect(ids.at(-1)).toBe(endOfText);
    expect(ids.filter((id) => id === endOfText)).toHaveLength(1);
  });
});

it("refuses work after release, and release twice is fine", async () => {
  const released = await loadClipScorer(folder);
  await released.release();
  await released.release();
  await expect(released.embedText("a cat")).rejects.toThrow(/released/);
});

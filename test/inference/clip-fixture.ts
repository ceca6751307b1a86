/**
 * test/fixtures/clip-scores.json (made by tools/reference/clip_reference.py: transformers'
 * CLIPImageProcessor with PIL and CLIPModel, in PyTorch, on the generated demo CLIP's weights), its
 * test images rebuilt from their formulas, and the comparison the CLIP tests use.
 */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import type { PilResample } from "../../src/inference/clip/pil-resample.ts";
import { testImage } from "./clip-test-images.ts";

export interface ClipFixture {
  model: { preset: "tiny" | "small"; weightsSha256: string };
  pilResizes: { image: string; width: number; height: number; outWidth: number; outHeight: number; resample: PilResample; sha256: string }[];
  cropSampleStride: number;
  images: { name: string; width: number; height: number; cropSha256: string; cropSample: number[]; pixelValuesSha256: string; pixelValuesChannelMeans: number[] }[];
  /** `textEmbeds` and `imageEmbeds` are projected, not normalized (CLIPTextModelWithProjection's, CLIPVisionModelWithProjection's). */
  prompts: { text: string; tokenCount: number; inputIds: number[]; textEmbeds: number[] }[];
  imageEmbeds: number[][];
  /** scores[prompt][image]: 100 × cosine. */
  scores: number[][];
}

export const clipFixture = JSON.parse(readFileSync(new URL("../fixtures/clip-scores.json", import.meta.url), "utf8")) as ClipFixture;

export const clipFixtureImages = clipFixture.images.map((image) => testImage(image.name, image.width, image.height));

/** The largest |actual − expected| over equally long arrays. */
export function maxAbsDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  return worst;
}

/**
 * The generated CLIP folder is a transformers.js CLIP folder: its own AutoTokenizer,
 * AutoProcessor and model classes load it, the combined model.onnx agrees with the separate
 * towers, and generation is deterministic and marked as a demo.
 */
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openClipFolder } from "../../src/inference/clip/clip-folder.ts";
import { preprocessImages } from "../../src/inference/clip/clip-image-processor.ts";
import { clipScore } from "../../src/inference/clip/clip-score.ts";
import { loadClipScorer } from "../../src/inference/clip/clip-scorer.ts";
import { isDemoModelFolder } from "../../src/models/demo-marker.ts";
import { configureTransformers } from "../../src/inference/clip/transformers-environment.ts";
import { transformers } from "../../src/inference/clip/transformers.ts";
import { makeDemoClip } from "../../src/models/demo/write-clip.ts";
import { listFiles } from "../demo-models/demo-model-support.ts";
import { makeTempDir } from "../support/temp-dir.ts";
import { testImage } from "./clip-test-images.ts";

// The instance Atelier configures (transformers-environment.ts).
const { AutoProcessor, AutoTokenizer, CLIPModel, RawImage, Tensor } = transformers;

let root: string;
let folder: string;

beforeAll(async () => {
  root = await makeTempDir("atelier-clip-layout");
  folder = path.join(root, "clip");
  await makeDemoClip({ preset: "tiny", outDir: folder });
  configureTransformers();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

it("writes Xenova/clip-vit-base-patch32's files, marked as a demo model", async () => {
  expect(await listFiles(folder)).toEqual([
    "config.json",
    "demo-model.json",
    "merges.txt",
    "onnx/model.onnx",
    "onnx/text_model.onnx",
    "onnx/vision_model.onnx",
    "preprocessor_config.json",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
  ]);
  expect(isDemoModelFolder(folder)).toBe(true);
});

it("is deterministic: a second generation has the same bytes, and replaces the folder atomically", async () => {
  const again = path.join(root, "again");
  const progress: string[] = [];
  await makeDemoClip({ preset: "tiny", outDir: again, onProgress: (done, total, what) => progress.push(`${done}/${total} ${what}`) });
  await makeDemoClip({ preset: "tiny", outDir: again });
  expect(progress.at(-1)).toBe("5/5 onnx/model.onnx");
  for (const file of await listFiles(folder)) {
    const [first, second] = await Promise.all([readFile(path.join(folder, file)), readFile(path.join(again, file))]);
    expect(first.equals(second), file).toBe(true);
  }
  expect((await listFiles(root)).filter((file) => file.includes(".partial-"))).toEqual([]);
});

describe("through transformers.js' own classes", () => {
  it("AutoTokenizer encodes with <|startoftext|> … <|endoftext|>", async () => {
    const tokenizer = await AutoTokenizer.from_pretrained(folder, { local_files_only: true });
    const ids = tokenizer.encode("a photo of a cat");
    expect(ids[0]).toBe(tokenizer.bos_token_id);
    expect(ids.at(-1)).toBe(tokenizer.eos_token_id);
    expect(tokenizer.decode(ids, { skip_special_tokens: true })).toBe("a photo of a cat");
  });

  it("AutoProcessor makes 224×224 pixel values close to ours (its own resize is not PIL's)", async () => {
    const processor = await AutoProcessor.from_pretrained(folder, { local_files_only: true });
    const image = testImage("gradient", 64, 64);
    const { pixel_values } = (await processor(new RawImage(new Uint8ClampedArray(image.data), 64, 64, 3))) as { pixel_values: InstanceType<typeof Tensor> };
    expect(pixel_values.dims).toEqual([1, 3, 224, 224]);
    const ours = preprocessImages([image], (await openClipFolder(folder, "fp32")).imageProcessor);
    const theirs = pixel_values.data as Float32Array;
    const meanAbs = ours.data.reduce((sum, v, i) => sum + Math.abs(v - theirs[i]!), 0) / theirs.length;
    // Seen: 0.047 (about 3 gray levels): same steps, a different bicubic. A swapped channel order or a
    // missing normalization gives differences of order 1.
    expect(meanAbs).toBeLessThan(0.15);
  });

  it("CLIPModel (onnx/model.onnx) gives exp(logit_scale) × our cosine, and normalized embeddings", async () => {
    const model = await CLIPModel.from_pretrained(folder, { dtype: "fp32", local_files_only: true });
    const scorer = await loadClipScorer(folder);
    try {
      const images = [testImage("checker", 64, 64), testImage("stripes", 80, 48)];
      const ids = scorer.promptIds("a red car");
      const shape = [1, ids.length];
      const pixels = preprocessImages(images, scorer.folder.imageProcessor);
      const outputs = (await model({
        input_ids: new Tensor("int64", BigInt64Array.from(ids, BigInt), shape),
        attention_mask: new Tensor("int64", new BigInt64Array(ids.length).fill(1n), shape),
        pixel_values: new Tensor("float32", pixels.data, [...pixels.dims]),
      })) as Record<string, InstanceType<typeof Tensor>>;
      const config = JSON.parse(await readFile(path.join(folder, "config.json"), "utf8")) as { logit_scale_init_value: number };
      const scores = await scorer.score("a red car", images);
      const logits = [...(outputs["logits_per_image"]!.data as Float32Array)];
      logits.forEach((logit, i) => expect(logit).toBeCloseTo((Math.exp(config.logit_scale_init_value) * scores[i]!) / 100, 4));
      const textEmbeds = outputs["text_embeds"]!.data as Float32Array;
      expect(clipScore(textEmbeds, textEmbeds)).toBeCloseTo(100, 4);
      expect(Math.hypot(...textEmbeds)).toBeCloseTo(1, 5);
    } finally {
      await Promise.all([model.dispose(), scorer.release()]);
    }
  });
});

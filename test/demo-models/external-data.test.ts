/**
 * UNet weights in an external data file (unet/model.onnx_data, optimum's layout for graphs over
 * 2 GB, which the full-size sd15 preset uses): the file is laid out as onnx.save_model writes it,
 * and Atelier's unchanged loader runs it to the same pixels as the inline-weights model, in fp32
 * and fp16. The tiny preset stands in for sd15, which is too big to make in a test.
 */
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeStableDiffusion, loadStableDiffusion } from "../../src/inference/models/stable-diffusion-model.ts";
import type { GenerationRequest } from "../../src/inference/pipeline/generation-request.ts";
import { generate } from "../../src/inference/pipeline/stable-diffusion-pipeline.ts";
import { ClipTokenizer } from "../../src/inference/tokenizer/clip-tokenizer.ts";
import { demoModelDefinition, makeDemoStableDiffusion } from "../../src/models/demo/stable-diffusion.ts";
import { EXPORT_PROFILES } from "../../src/models/demo/export-profiles.ts";
import { tokenizerFiles } from "../../src/models/demo/stable-diffusion-files.ts";
import { readModelProto } from "./demo-model-support.ts";
import { makeTempDir } from "../support/temp-dir.ts";

const REQUEST: GenerationRequest = {
  prompt: "a lighthouse at dusk",
  negativePrompt: "",
  samples: 2,
  seed: 7,
  steps: 3,
  guidanceScale: 7.5,
  width: 64,
  height: 64,
  scheduler: "EULER",
};

let temp: string | undefined;
async function tempDir(): Promise<string> {
  temp ??= await makeTempDir("atelier-external-data");
  return temp;
}
afterAll(async () => {
  if (temp) await rm(temp, { recursive: true, force: true });
});

async function pixelsOf(dir: string): Promise<Buffer[]> {
  const model = await loadStableDiffusion(dir);
  try {
    return (await generate(model, REQUEST)).map((sample) => Buffer.from(sample.image.data));
  } finally {
    await model.release();
  }
}

describe.each(["float32", "float16"] as const)("tiny preset, %s, UNet weights in unet/model.onnx_data", (dtype) => {
  it("lays the file out as onnx.save_model does, and generates the inline model's pixels", async () => {
    const root = await tempDir();
    const inline = path.join(root, `inline-${dtype}`);
    const external = path.join(root, `external-${dtype}`);
    await makeDemoStableDiffusion({ preset: "tiny", outDir: inline, dtype });
    await makeDemoStableDiffusion({ preset: "tiny", outDir: external, dtype, externalUnetWeights: true });

    // Every initializer of 1024 bytes or more is external, back to back in creation order.
    const proto = await readModelProto(path.join(external, "unet/model.onnx"));
    const inlineProto = await readModelProto(path.join(inline, "unet/model.onnx"));
    let expectedOffset = 0;
    for (const [i, tensor] of proto.graph!.initializer!.entries()) {
      const original = inlineProto.graph!.initializer![i]!;
      expect(tensor.name).toBe(original.name);
      const bytes = original.rawData!.byteLength;
      if (bytes < 1024) {
        expect(tensor.dataLocation ?? 0, tensor.name!).toBe(0);
        continue;
      }
      const entries = Object.fromEntries(tensor.externalData!.map((entry) => [entry.key, entry.value]));
      expect(entries, tensor.name!).toEqual({ location: "model.onnx_data", offset: String(expectedOffset), length: String(bytes) });
      expect(tensor.dataLocation).toBe(1);
      expectedOffset += bytes;
    }
    expect(expectedOffset).toBeGreaterThan(0);
    expect((await stat(path.join(external, "unet/model.onnx_data"))).size).toBe(expectedOffset);

    const [fromInline, fromExternal] = [await pixelsOf(inline), await pixelsOf(external)];
    fromExternal.forEach((image, i) => expect(image.equals(fromInline[i]!), `sample ${i}`).toBe(true));

    // The memory estimate at submission counts the external weights: the two folders weigh the same.
    const [inlineBytes, externalBytes] = await Promise.all([inline, external].map(async (dir) => (await describeStableDiffusion(dir)).memory.weightBytes));
    expect(externalBytes!).toBeGreaterThan(expectedOffset);
    expect(Math.abs(externalBytes! - inlineBytes!) / inlineBytes!).toBeLessThan(0.01);
  });
});

describe("sd15 definition (nothing generated)", () => {
  it("has SD 1.5's text encoder shape and CLIP's own 49,408-token vocabulary", async () => {
    const model = demoModelDefinition("sd15");
    expect(model.text).toMatchObject({ vocabSize: 49408, hiddenSize: 768, intermediateSize: 3072, numHiddenLayers: 12, numAttentionHeads: 12 });
    expect(model.tokenizer.vocab.get("<|startoftext|>")).toBe(49406);
    expect(model.tokenizer.vocab.get("<|endoftext|>")).toBe(49407);

    // The tokenizer/ folder written from it reads back as openai/CLIP's tokenizer.
    const dir = path.join(await tempDir(), "sd15-tokenizer");
    await mkdir(dir, { recursive: true });
    for (const [name, text] of Object.entries(tokenizerFiles(model.tokenizer, EXPORT_PROFILES["optimum-1.23"]))) {
      await writeFile(path.join(dir, name), text);
    }
    const written = await ClipTokenizer.fromFolder(dir);
    const clip = await ClipTokenizer.fromClipBpeFile(path.resolve("test/fixtures/clip-bpe/bpe_simple_vocab_16e6.txt.gz"));
    const prompt = "An astronaut riding a horse on Mars, highly detailed!";
    expect([...written.encode(prompt)]).toEqual([...clip.encode(prompt)]);
    expect(JSON.parse(await readFile(path.join(dir, "vocab.json"), "utf8"))["cat</w>"]).toBe(2368);
  });
});

import sharp from "sharp";
import { describe, expect, it } from "vitest";
import type { RgbImage } from "../../src/inference/pipeline/decoded-image.ts";
import { encodePng, encodeThumbnail } from "../../src/inference/output/encode-image.ts";
import { VERSION } from "../../src/version.ts";
import { formatParameters, parseParameters, type ImageParameters } from "../../src/inference/output/generation-parameters-text.ts";
import { readTextChunks } from "../../src/inference/output/png-text-chunks.ts";

const parameters: ImageParameters = {
  prompt: "a lighthouse at dusk, oil painting",
  negativePrompt: "blurry, low quality",
  steps: 20,
  scheduler: "EULER_ANCESTRAL",
  guidanceScale: 7.5,
  seed: 1234567890123,
  width: 64,
  height: 48,
  model: "demo-tiny",
};

function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
  return { width, height, data };
}

describe("generation parameters text", () => {
  it("is written in AUTOMATIC1111's format", () => {
    expect(formatParameters(parameters)).toBe(
      "a lighthouse at dusk, oil painting\n" +
        "Negative prompt: blurry, low quality\n" +
        "Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 1234567890123, Size: 64x48, Model: demo-tiny, " +
        `RNG: CPU, Version: Atelier ${VERSION}`,
    );
  });

  it("omits the negative prompt line when there is none and quotes values with separators", () => {
    const text = formatParameters({ ...parameters, negativePrompt: "", model: "my, model: v2" });
    expect(text).toBe(`a lighthouse at dusk, oil painting\nSteps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 1234567890123, Size: 64x48, Model: "my, model: v2", RNG: CPU, Version: Atelier ${VERSION}`);
    expect(parseParameters(text).values.get("Model")).toBe("my, model: v2");
  });

  it("parses back what it wrote", () => {
    const parsed = parseParameters(formatParameters({ ...parameters, prompt: "line one\nline two" }));
    expect(parsed.prompt).toBe("line one\nline two");
    expect(parsed.negativePrompt).toBe("blurry, low quality");
    expect(Object.fromEntries(parsed.values)).toEqual({
      Steps: "20",
      Sampler: "Euler a",
      "CFG scale": "7.5",
      Seed: "1234567890123",
      Size: "64x48",
      Model: "demo-tiny",
      RNG: "CPU",
      Version: `Atelier ${VERSION}`,
    });
  });
});

describe("PNG output", () => {
  it("round-trips the parameters chunk and keeps the pixels", async () => {
    const image = gradient(64, 48);
    const png = await encodePng(image, formatParameters(parameters));
    expect(readTextChunks(png).get("parameters")).toBe(formatParameters(parameters));
    const decoded = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(decoded.info).toMatchObject({ width: 64, height: 48, channels: 3 });
    expect(new Uint8Array(decoded.data)).toEqual(image.data);
  });

  it("stores non-Latin-1 prompts as UTF-8 iTXt", async () => {
    const text = formatParameters({ ...parameters, prompt: "灯台 🐱 at dusk" });
    const png = await encodePng(gradient(8, 8), text);
    expect(png.includes(Buffer.from("iTXtparameters"))).toBe(true);
    expect(readTextChunks(png).get("parameters")).toBe(text);
    await expect(sharp(png).metadata()).resolves.toMatchObject({ format: "png", width: 8 });
  });

  it("is byte-identical for the same image and parameters", async () => {
    const a = await encodePng(gradient(32, 32), formatParameters(parameters));
    const b = await encodePng(gradient(32, 32), formatParameters(parameters));
    expect(a.equals(b)).toBe(true);
  });

  it("makes a WebP thumbnail no larger than 256 px", async () => {
    const thumbnail = await encodeThumbnail(gradient(512, 384));
    await expect(sharp(thumbnail).metadata()).resolves.toMatchObject({ format: "webp", width: 256, height: 192 });
  });
});

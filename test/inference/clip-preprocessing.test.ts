/**
 * The parts of CLIP preprocessing the fixture does not reach: the legacy and default forms of
 * preprocessor_config.json, output sizes, padding crops and the other PIL filters' invariants.
 * Bit-exactness against PIL itself is in clip-scorer.test.ts.
 */
import { describe, expect, it } from "vitest";
import { centerCrop, preprocessImages, resizedSize } from "../../src/inference/clip/clip-image-processor.ts";
import { parseClipImageProcessorConfig } from "../../src/inference/clip/image-processor-config.ts";
import { PIL_RESAMPLE, resizeLikePil } from "../../src/inference/clip/pil-resample.ts";
import { testImage } from "./clip-test-images.ts";

describe("parseClipImageProcessorConfig", () => {
  it("reads openai/clip-vit-base-patch32's legacy file (int sizes, feature extractor keys) as transformers does", () => {
    const config = parseClipImageProcessorConfig({
      crop_size: 224,
      do_center_crop: true,
      do_normalize: true,
      do_resize: true,
      feature_extractor_type: "CLIPFeatureExtractor",
      image_mean: [0.48145466, 0.4578275, 0.40821073],
      image_std: [0.26862954, 0.26130258, 0.27577711],
      resample: 3,
      size: 224,
    });
    expect(config.size).toEqual({ shortestEdge: 224 });
    expect(config.cropSize).toEqual({ height: 224, width: 224 });
    expect(config.doRescale).toBe(true);
    expect(config.rescaleFactor).toBe(1 / 255);
  });

  it("fills CLIPImageProcessor's defaults for an empty file", () => {
    const config = parseClipImageProcessorConfig({});
    expect(config).toMatchObject({ doResize: true, size: { shortestEdge: 224 }, resample: 3, cropSize: { height: 224, width: 224 }, imageStd: [0.26862954, 0.26130258, 0.27577711] });
  });

  it("names the bad key, the value and what is allowed", () => {
    expect(() => parseClipImageProcessorConfig({ resample: 0 })).toThrow("resample must be one of 1 (LANCZOS), 2 (BILINEAR), 3 (BICUBIC), 4 (BOX), 5 (HAMMING), got 0");
    expect(() => parseClipImageProcessorConfig({ size: { longest_edge: 224 } })).toThrow('size must have "shortest_edge" or "height" and "width"');
    expect(() => parseClipImageProcessorConfig({ image_mean: [0.5, 0.5] })).toThrow("image_mean must be a number or a list of 3 numbers");
    expect(() => parseClipImageProcessorConfig({ do_resize: "yes" })).toThrow('do_resize must be true or false, got "yes"');
  });
});

describe("resize and crop geometry", () => {
  it("scales the shortest edge and truncates the other, like get_resize_output_image_size", () => {
    expect(resizedSize(64, 64, { shortestEdge: 224 })).toEqual({ width: 224, height: 224 });
    expect(resizedSize(80, 48, { shortestEdge: 224 })).toEqual({ width: 373, height: 224 });
    expect(resizedSize(260, 300, { shortestEdge: 224 })).toEqual({ width: 224, height: 258 });
    expect(resizedSize(80, 48, { height: 10, width: 20 })).toEqual({ width: 20, height: 10 });
  });

  it("pads with zeros when the crop is larger than the image, the odd pixel of padding going before, as transformers does", () => {
    const image = { width: 2, height: 1, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
    const cropped = centerCrop(image, 5, 2);
    // top = floor((1 - 2) / 2) = -1, left = floor((2 - 5) / 2) = -2
    expect([...cropped.data]).toEqual([...new Array(15).fill(0), 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0]);
  });

  it("keeps flat colour flat with every filter, when up- and downscaling", () => {
    const flat = { width: 13, height: 7, data: new Uint8Array(13 * 7 * 3).fill(173) };
    for (const resample of Object.values(PIL_RESAMPLE)) {
      for (const [width, height] of [[40, 29], [5, 3]] as const) {
        expect(new Set(resizeLikePil(flat, width, height, resample).data)).toEqual(new Set([173]));
      }
    }
  });

  it("returns a copy for the same size, as Pillow does", () => {
    const image = testImage("texture", 9, 6);
    const same = resizeLikePil(image, 9, 6, PIL_RESAMPLE.BICUBIC);
    expect(same.data).toEqual(image.data);
    expect(same.data).not.toBe(image.data);
  });
});

describe("preprocessImages", () => {
  const config = parseClipImageProcessorConfig({ size: { shortest_edge: 8 }, crop_size: { height: 8, width: 8 } });

  it("stacks images channels-first and normalizes with float32 mean and std", () => {
    const white = { width: 4, height: 4, data: new Uint8Array(48).fill(255) };
    const { data, dims } = preprocessImages([white, white], config);
    expect(dims).toEqual([2, 3, 8, 8]);
    const red = Math.fround(Math.fround(1 - Math.fround(0.48145466)) / Math.fround(0.26862954));
    expect(data[0]).toBe(red);
    expect(data[2 * 3 * 64 - 1]).toBe(Math.fround(Math.fround(1 - Math.fround(0.40821073)) / Math.fround(0.27577711)));
  });

  it("refuses images that end at different sizes, and malformed images", () => {
    const uncropped = parseClipImageProcessorConfig({ size: { shortest_edge: 8 }, do_center_crop: false });
    expect(() => preprocessImages([testImage("gradient", 4, 4), testImage("gradient", 8, 4)], uncropped)).toThrow("images differ in size after preprocessing");
    expect(() => preprocessImages([{ width: 4, height: 4, data: new Uint8Array(10) }], config)).toThrow("needs 48 bytes, got 10");
  });
});

/**
 * transformers' CLIPImageProcessor.preprocess (the PIL-based processor) on RGB images: resize
 * (PIL resampling), center crop (zero padding when the crop is larger), rescale, normalize,
 * channels first. Numerics follow it exactly: the rescale multiplies in float64 and rounds to
 * float32, the normalization subtracts and divides in float32 with float32 mean/std.
 */
import type { RgbImage } from "../pipeline/decoded-image.ts";
import type { ClipImageProcessorConfig, ResizeTarget } from "./image-processor-config.ts";
import { resizeLikePil } from "./pil-resample.ts";

/** A [batch, 3, height, width] float32 batch, as the vision model takes it. */
export interface PixelValues {
  readonly data: Float32Array;
  readonly dims: readonly [number, number, number, number];
}

/** The model input for `images`, which must all come out of resize + crop at the same size. */
export function preprocessImages(images: readonly RgbImage[], config: ClipImageProcessorConfig): PixelValues {
  if (images.length === 0) throw new Error("preprocessImages needs at least one image");
  const prepared = images.map((image) => resizeAndCrop(image, config));
  const { width, height } = prepared[0]!;
  const mismatch = prepared.find((image) => image.width !== width || image.height !== height);
  if (mismatch) {
    throw new Error(`images differ in size after preprocessing (${width}×${height} and ${mismatch.width}×${mismatch.height}); enable do_center_crop`);
  }
  const tables = valueTables(config);
  const plane = width * height;
  const data = new Float32Array(images.length * 3 * plane);
  prepared.forEach((image, index) => {
    for (let c = 0; c < 3; c++) {
      const table = tables[c]!;
      const offset = (index * 3 + c) * plane;
      for (let p = 0; p < plane; p++) data[offset + p] = table[image.data[p * 3 + c]!]!;
    }
  });
  return { data, dims: [images.length, 3, height, width] };
}

/** The 8-bit image the float steps start from: resized and center-cropped as configured. */
export function resizeAndCrop(image: RgbImage, config: ClipImageProcessorConfig): RgbImage {
  checkImage(image);
  let current = image;
  if (config.doResize) {
    const { width, height } = resizedSize(image.width, image.height, config.size);
    current = resizeLikePil(current, width, height, config.resample);
  }
  return config.doCenterCrop ? centerCrop(current, config.cropSize.width, config.cropSize.height) : current;
}

/** get_resize_output_image_size: the shortest edge to the target, the other edge scaled and truncated. */
export function resizedSize(width: number, height: number, target: ResizeTarget): { width: number; height: number } {
  if (!("shortestEdge" in target)) return { width: target.width, height: target.height };
  const edge = target.shortestEdge;
  if (width <= height) return { width: edge, height: Math.trunc((edge * height) / width) };
  return { width: Math.trunc((edge * width) / height), height: edge };
}

/** image_transforms.center_crop: offsets floor((size − crop) / 2); pixels outside the image are 0. */
export function centerCrop(image: RgbImage, width: number, height: number): RgbImage {
  const top = Math.floor((image.height - height) / 2);
  const left = Math.floor((image.width - width) / 2);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sourceY = y + top;
    if (sourceY < 0 || sourceY >= image.height) continue;
    const from = Math.max(0, -left);
    const to = Math.min(width, image.width - left);
    if (to <= from) continue;
    const start = (sourceY * image.width + left + from) * 3;
    data.set(image.data.subarray(start, start + (to - from) * 3), (y * width + from) * 3);
  }
  return { width, height, data };
}

/** Per channel, the float32 model value of each byte: rescale and normalize depend only on the byte. */
function valueTables(config: ClipImageProcessorConfig): Float32Array[] {
  return [0, 1, 2].map((c) => {
    const mean = Math.fround(config.imageMean[c]!);
    const std = Math.fround(config.imageStd[c]!);
    return Float32Array.from({ length: 256 }, (_, byte) => {
      const value = config.doRescale ? Math.fround(byte * config.rescaleFactor) : byte;
      return config.doNormalize ? Math.fround(Math.fround(value - mean) / std) : value;
    });
  });
}

function checkImage(image: RgbImage): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`image size must be positive integers, got ${width}×${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new Error(`an RGB image of ${width}×${height} needs ${width * height * 3} bytes, got ${data.length}`);
  }
}

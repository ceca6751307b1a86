/**
 * VAE output → 8-bit RGB, as diffusers' image processor does it: `(x * 0.5 + 0.5).clamp(0, 1)` in the
 * VAE's dtype (float16 for an fp16 export), then `(x * 255).round()` in float32 with numpy's
 * round-half-to-even, channels moved last.
 */
import { roundToHalf } from "../float16.ts";

/** One image as interleaved RGB bytes, row-major, width × height × 3. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Splits a [batch, 3, H, W] decoder output into images. */
export function toRgbImages(decoded: Float32Array, dims: readonly number[], dtype: string): RgbImage[] {
  const [batch, channels, height, width] = dims as [number, number, number, number];
  if (channels !== 3) throw new Error(`The VAE decoder produced ${channels} channels; expected 3 (RGB)`);
  const denormalize = dtype === "float16" ? denormalizeHalf : denormalizeSingle;
  const plane = height * width;
  return Array.from({ length: batch }, (_, b) => {
    const data = new Uint8Array(plane * 3);
    for (let c = 0; c < 3; c++) {
      const offset = (b * 3 + c) * plane;
      for (let p = 0; p < plane; p++) data[p * 3 + c] = toByte(denormalize(decoded[offset + p]!));
    }
    return { width, height, data };
  });
}

function denormalizeSingle(x: number): number {
  return clamp01(Math.fround(Math.fround(x * 0.5) + 0.5));
}

function denormalizeHalf(x: number): number {
  return clamp01(roundToHalf(roundToHalf(x * 0.5) + 0.5));
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** numpy: (x * 255).round().astype("uint8"), with x * 255 in float32 and ties rounded to even. */
function toByte(x: number): number {
  const scaled = Math.fround(x * 255);
  const floor = Math.floor(scaled);
  const rest = scaled - floor;
  return rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
}

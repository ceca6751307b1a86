/**
 * Pillow's `Image.resize` for 8-bit RGB images (libImaging/Resample.c, ImagingResample), so CLIP
 * preprocessing sees the same pixels as transformers' CLIPImageProcessor, which resizes with PIL.
 * Separable: a horizontal pass, rounded to 8 bits, then a vertical pass. The filter's support
 * widens by the scale when downscaling (antialiasing), and weights are normalized, then turned
 * into 22-bit fixed-point integers, exactly as Pillow does; sums are exact integers here as they
 * are in C's int32. Checked bit-exact against Pillow 9.4 (test/fixtures/clip-scores.json).
 */
import type { RgbImage } from "../pipeline/decoded-image.ts";

/** PIL's resampling filter codes, as preprocessor_config.json's `resample` stores them. */
export const PIL_RESAMPLE = { LANCZOS: 1, BILINEAR: 2, BICUBIC: 3, BOX: 4, HAMMING: 5 } as const;
export type PilResample = (typeof PIL_RESAMPLE)[keyof typeof PIL_RESAMPLE];

interface Filter {
  readonly support: number;
  readonly weight: (x: number) => number;
}

const sinc = (x: number): number => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

/**
 * Pillow's filters. BICUBIC, BILINEAR and BOX use only arithmetic, so their weights are bit-exact;
 * LANCZOS and HAMMING call sin/cos, whose last bit could differ from the C library's (they matched
 * Pillow on every case of the fixture).
 */
const FILTERS: Readonly<Record<PilResample, Filter>> = {
  [PIL_RESAMPLE.BOX]: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  [PIL_RESAMPLE.BILINEAR]: { support: 1, weight: (x) => Math.max(1 - Math.abs(x), 0) },
  [PIL_RESAMPLE.BICUBIC]: { support: 2, weight: bicubic },
  [PIL_RESAMPLE.LANCZOS]: { support: 3, weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
  [PIL_RESAMPLE.HAMMING]: { support: 1, weight: hamming },
};

/** Keys cubic convolution with a = -0.5, written in Pillow's order of operations. */
function bicubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

function hamming(x: number): number {
  const t = Math.abs(x);
  if (t === 0) return 1;
  if (t >= 1) return 0;
  const radians = t * Math.PI;
  // Pillow writes the constants as C floats (0.54f, 0.46f).
  return (Math.sin(radians) / radians) * (Math.fround(0.54) + Math.fround(0.46) * Math.cos(radians));
}

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);
const ONE = 1 << PRECISION_BITS;

/** For each output index: first input index, tap count, and `taps` fixed-point weights. */
interface Coefficients {
  readonly taps: number;
  readonly starts: Int32Array;
  readonly counts: Int32Array;
  readonly weights: Int32Array;
}

/** precompute_coeffs + normalize_coeffs_8bpc for resizing `inSize` samples to `outSize`. */
function coefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const starts = new Int32Array(outSize);
  const counts = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const raw = new Float64Array(taps);
  const inverseScale = 1 / filterScale;
  for (let out = 0; out < outSize; out++) {
    const center = (out + 0.5) * scale;
    const first = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.trunc(center + support + 0.5), inSize) - first;
    let total = 0;
    for (let i = 0; i < count; i++) {
      raw[i] = filter.weight((i + first - center + 0.5) * inverseScale);
      total += raw[i]!;
    }
    for (let i = 0; i < count; i++) {
      const normalized = total !== 0 ? raw[i]! / total : raw[i]!;
      weights[out * taps + i] = Math.trunc(normalized < 0 ? -0.5 + normalized * ONE : 0.5 + normalized * ONE);
    }
    starts[out] = first;
    counts[out] = count;
  }
  return { taps, starts, counts, weights };
}

/** clip8: the accumulator's integer part, clamped to a byte (the shift floors, as C's >> does on int). */
function toByte(sum: number): number {
  const value = Math.floor(sum / ONE);
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/**
 * One pass of ImagingResampleHorizontal/Vertical_8bpc over interleaved RGB: along rows (lines are
 * rows, samples 3 bytes apart) or along columns (lines are columns, samples a row apart).
 */
function resamplePass(source: Uint8Array, target: Uint8Array, lines: number, c: Coefficients, layout: PassLayout): void {
  for (let line = 0; line < lines; line++) {
    const sourceLine = line * layout.sourceLineStep;
    const targetLine = line * layout.targetLineStep;
    for (let out = 0; out < c.starts.length; out++) {
      const first = sourceLine + c.starts[out]! * layout.sourceStride;
      const weightsAt = out * c.taps;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let i = 0; i < c.counts[out]!; i++) {
        const k = c.weights[weightsAt + i]!;
        const at = first + i * layout.sourceStride;
        r += source[at]! * k;
        g += source[at + 1]! * k;
        b += source[at + 2]! * k;
      }
      const to = targetLine + out * layout.targetStride;
      target[to] = toByte(r);
      target[to + 1] = toByte(g);
      target[to + 2] = toByte(b);
    }
  }
}

/** Where a pass reads and writes: steps between lines, and between samples along a line. */
interface PassLayout {
  readonly sourceLineStep: number;
  readonly sourceStride: number;
  readonly targetLineStep: number;
  readonly targetStride: number;
}

/** `Image.resize((width, height), resample)` of an RGB image; the same size returns a copy, as Pillow does. */
export function resizeLikePil(image: RgbImage, width: number, height: number, resample: PilResample): RgbImage {
  const filter = FILTERS[resample];
  let current: RgbImage = image;
  if (width !== current.width) {
    const data = new Uint8Array(width * current.height * 3);
    const layout = { sourceLineStep: current.width * 3, sourceStride: 3, targetLineStep: width * 3, targetStride: 3 };
    resamplePass(current.data, data, current.height, coefficients(current.width, width, filter), layout);
    current = { width, height: current.height, data };
  }
  if (height !== current.height) {
    const data = new Uint8Array(width * height * 3);
    const layout = { sourceLineStep: 3, sourceStride: width * 3, targetLineStep: 3, targetStride: width * 3 };
    resamplePass(current.data, data, width, coefficients(current.height, height, filter), layout);
    current = { width, height, data };
  }
  return current === image ? { width, height, data: image.data.slice() } : current;
}

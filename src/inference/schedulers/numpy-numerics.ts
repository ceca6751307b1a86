/**
 * The numpy routines diffusers uses to lay out timesteps and sigmas, with numpy's exact arithmetic:
 * float64 `round`, `linspace`, `arange` and `interp` (so that rounding and the length of an `arange`
 * come out as numpy's do), and numpy's own float32 `log` kernel.
 */

/** `numpy.round` / `torch.round`: to nearest, ties to even (0.5 → 0, 1.5 → 2, 2.5 → 2). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** `numpy.linspace(start, stop, num, endpoint)`: `i * step + start`, the endpoint (if any) set exactly. */
export function numpyLinspace(start: number, stop: number, num: number, endpoint = true): number[] {
  const divisions = endpoint ? num - 1 : num;
  const step = (stop - start) / divisions;
  const values = Array.from({ length: num }, (_, i) => (divisions > 0 ? i * step : i * (stop - start)) + start);
  if (endpoint && num > 1) values[num - 1] = stop;
  return values;
}

/**
 * `numpy.arange(start, stop, step)` for floats: length `ceil((stop - start) / step)`, then numpy's fill,
 * which re-derives the step as `(start + step) - start`. (That length can exceed the intended count by
 * one, e.g. `arange(1000, 0, -1000 / 61)` has 62 values; diffusers inherits this.)
 */
export function numpyArange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  return Array.from({ length }, (_, i) => (i === 1 ? start + step : start + i * delta));
}

/** `numpy.interp(x, numpy.arange(fp.length), fp)`: linear interpolation on the grid 0, 1, …, clamped at both ends. */
export function interpOnUnitGrid(x: number, fp: ArrayLike<number>): number {
  const last = fp.length - 1;
  if (x <= 0) return fp[0]!;
  if (x >= last) return fp[last]!;
  const j = Math.floor(x);
  if (j === x) return fp[j]!;
  const slope = fp[j + 1]! - fp[j]!;
  return slope * (x - j) + fp[j]!;
}

/** Coefficients of numpy's float32 log kernel: log(1+x) ≈ P(x)/Q(x) (`npy_simd_data.h`), as float32. */
const LOG_P = [0.0, 9.999999999999998702752e-1, 2.112677543073053063722, 1.480000633576506585156,
  3.808837741388407920751e-1, 2.589979117907922693523e-2].map(Math.fround);
const LOG_Q = [1.0, 2.612677543073109236779, 2.453006071784736363091, 9.864942958519418960339e-1,
  1.546476374983906719538e-1, 5.875095403124574342950e-3].map(Math.fround);
const LN2_F32 = Math.fround(Math.LN2);
const SQRT1_2_F32 = Math.fround(Math.SQRT1_2);
const FLT_MIN = 2 ** -126;

/**
 * `numpy.log` on float32 input as numpy's AVX2/AVX-512F kernel computes it (`simd_log_FLOAT`): split
 * x = m·2^e with m in (√½, √2], then a rational polynomial in m − 1 with fused multiply-adds. It is
 * not correctly rounded (up to ~4 ulp), and diffusers' σ → t inversion sees the difference.
 */
export function numpyLogFloat32(x: number): number {
  if (Number.isNaN(x) || x < 0) return Number.NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  const denormal = x < FLT_MIN;
  const bits = float32Bits(denormal ? x * 2 ** 100 : x);
  let exponent = (bits >>> 23) - 126 - (denormal ? 100 : 0);
  let mantissa = bitsToFloat32((bits & 0x7fffff) | (126 << 23));
  if (mantissa <= SQRT1_2_F32) {
    mantissa = Math.fround(mantissa + mantissa);
    exponent -= 1;
  }
  const m = Math.fround(mantissa - 1);
  const numerator = LOG_P.reduceRight((acc, coefficient) => fmaFloat32(acc, m, coefficient));
  const denominator = LOG_Q.reduceRight((acc, coefficient) => fmaFloat32(acc, m, coefficient));
  return fmaFloat32(exponent, LN2_F32, Math.fround(numerator / denominator));
}

/** A float32 fused multiply-add a·b + c with a single rounding. */
export function fmaFloat32(a: number, b: number, c: number): number {
  const product = a * b; // exact: two 24-bit significands fit in 53 bits
  const sum = product + c;
  const rounded = Math.fround(sum);
  const virtualC = sum - product;
  const error = product - (sum - virtualC) + (c - virtualC); // exact: sum + error = a·b + c
  if (error === 0 || sum === rounded) return rounded;
  const other = 2 * sum - rounded;
  if (Math.fround(other) !== other) return rounded; // sum is no float32 midpoint: the rounding was right
  return error > 0 ? Math.max(rounded, other) : Math.min(rounded, other);
}

const bitsView = new DataView(new ArrayBuffer(4));

function float32Bits(x: number): number {
  bitsView.setFloat32(0, x);
  return bitsView.getUint32(0);
}

function bitsToFloat32(bits: number): number {
  bitsView.setUint32(0, bits);
  return bitsView.getFloat32(0);
}

import { Mt19937 } from "./mt19937.ts";
import { roundToHalf } from "../float16.ts";

/**
 * PyTorch's CPU random source, reproduced so that a seed means the same Stable Diffusion noise
 * as in diffusers, ComfyUI or A1111 ("RNG source: CPU"), which draw it with
 * `torch.randn(shape, generator=torch.Generator("cpu").manual_seed(seed), dtype=...)`.
 *
 * What `torch.randn` does on the CPU (ATen `native/cpu/DistributionTemplates.h`, `normal_kernel`):
 * - 16 or more elements: draw one uniform per element first, then Box-Muller over blocks of 16
 *   (element j and j+8 of a block come from the pair (u[j], u[j+8])); when the count is not a
 *   multiple of 16, draw 16 fresh uniforms for the LAST 16 elements and transform them again.
 *   float32 runs the AVX2 kernel (avx_mathfun's float polynomials) on x86-64 AVX2/AVX-512 CPUs
 *   and a libm kernel elsewhere; float16 always runs the libm kernel, rounding to half after each
 *   step as `c10::Half` arithmetic does.
 * - fewer than 16 elements (any dtype): double-precision Box-Muller, one value per call; the
 *   second value of each pair is kept in the generator and returned by its next scalar draw, even
 *   a draw in a later `randn` call. Draws of 16+ elements neither use nor clear it.
 */

/** Element types `randn` can reproduce. */
export type RandnDtype = "float32" | "float16";

/** PyTorch's two CPU kernels for float32 `randn` of 16+ elements (they differ by at most ~2e-6). */
export type TorchCpuKernel = "avx2" | "libm";

export interface TorchGeneratorOptions {
  /**
   * Which CPU kernel's float32 numbers to reproduce: "avx2" is what PyTorch runs on x86-64 CPUs
   * with AVX2 (or AVX-512) and is reproduced bit for bit; "libm" is what it runs on CPUs or
   * builds without AVX2 (ARM/Apple silicon, `ATEN_CPU_CAPABILITY=default`), reproduced within one
   * float32 ulp: libm's `logf`/`cosf`/`sinf` are not correctly rounded and vary by platform.
   * @default "avx2"
   */
  cpuKernel?: TorchCpuKernel;
}

const SEED_LIMIT = 1n << 64n;
const LOW_32_BITS = 0xffffffffn;
const FLOAT_DIGITS = 24;
const HALF_DIGITS = 11;
const BLOCK = 16;
const HALF_BLOCK = 8;
const CPU_KERNELS: readonly string[] = ["avx2", "libm"] satisfies TorchCpuKernel[];
const DTYPES: readonly string[] = ["float32", "float16"] satisfies RandnDtype[];

/**
 * A `torch.Generator("cpu")` after `manual_seed(seed)`. Only the seed's low 32 bits reach the
 * Mersenne Twister, so seeds that differ by a multiple of 2^32 give the same noise
 * (e.g. 5 and 2^32 + 5), exactly as in PyTorch.
 */
export class TorchGenerator {
  /** The seed as given (PyTorch's `initial_seed()`). */
  readonly initialSeed: bigint;
  private readonly engine: Mt19937;
  private readonly cpuKernel: TorchCpuKernel;
  /** ATen's `next_double_normal_sample`: the unused half of the last scalar Box-Muller pair. */
  private spareNormal: number | undefined = undefined;

  /** @param seed an integer in [0, 2^64), as a number or a bigint */
  constructor(seed: number | bigint, options: TorchGeneratorOptions = {}) {
    this.initialSeed = parseSeed(seed);
    this.engine = new Mt19937(Number(this.initialSeed & LOW_32_BITS));
    this.cpuKernel = parseCpuKernel(options.cpuKernel ?? "avx2");
  }

  /**
   * `torch.randn(shape, generator=this, dtype=dtype)` for any shape of `count` elements, in
   * row-major order; successive calls continue the stream as successive torch calls do.
   * float16 values come back rounded to half precision (stored in a Float32Array).
   */
  randn(count: number, dtype: RandnDtype = "float32"): Float32Array {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`randn count must be a non-negative integer, got ${String(count)}`);
    }
    if (!DTYPES.includes(dtype)) {
      throw new RangeError(`randn dtype must be one of ${DTYPES.join(", ")}, got ${String(dtype)}`);
    }
    const out = new Float32Array(count);
    if (count < BLOCK) this.fillScalar(out, dtype);
    else if (dtype === "float16") this.fillBlocks(out, HALF_DIGITS, boxMullerLibmHalf);
    else this.fillBlocks(out, FLOAT_DIGITS, this.cpuKernel === "avx2" ? boxMullerAvx2 : boxMullerLibmFloat);
    return out;
  }

  /** ATen's `normal_fill`: uniforms first, Box-Muller per block, the ragged tail redrawn. */
  private fillBlocks(out: Float32Array, digits: number, transform: BlockTransform): void {
    this.fillUniform(out, 0, digits);
    const count = out.length;
    for (let start = 0; start + BLOCK <= count; start += BLOCK) transform(out, start);
    if (count % BLOCK !== 0) {
      this.fillUniform(out, count - BLOCK, digits);
      transform(out, count - BLOCK);
    }
  }

  private fillUniform(out: Float32Array, from: number, digits: number): void {
    for (let i = from; i < out.length; i++) out[i] = this.engine.nextUniform32(digits);
  }

  /** The serial path: one double normal per element, cast to the element type. */
  private fillScalar(out: Float32Array, dtype: RandnDtype): void {
    const round = dtype === "float16" ? roundToHalf : Math.fround;
    // static_cast<Half>(double) goes through float first; out[] does the final float rounding.
    for (let i = 0; i < out.length; i++) out[i] = round(Math.fround(this.nextDoubleNormal()));
  }

  /** ATen's `normal_distribution<double>` with the cached spare sample. */
  private nextDoubleNormal(): number {
    const spare = this.spareNormal;
    if (spare !== undefined) {
      this.spareNormal = undefined;
      return spare;
    }
    const u1 = this.engine.nextUniformDouble();
    const u2 = this.engine.nextUniformDouble();
    const radius = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    this.spareNormal = radius * Math.sin(theta);
    return radius * Math.cos(theta);
  }
}

function parseSeed(seed: number | bigint): bigint {
  const allowed = "an integer in [0, 2^64 - 1] (a number or a bigint)";
  if (typeof seed === "bigint") {
    if (seed >= 0n && seed < SEED_LIMIT) return seed;
  } else if (typeof seed === "number" && Number.isInteger(seed) && seed >= 0 && seed < 2 ** 64) {
    return BigInt(seed);
  }
  throw new RangeError(`Invalid seed ${String(seed)}: the seed must be ${allowed}`);
}

function parseCpuKernel(kernel: string): TorchCpuKernel {
  if (CPU_KERNELS.includes(kernel)) return kernel as TorchCpuKernel;
  throw new RangeError(`Invalid cpuKernel ${kernel}: allowed are ${CPU_KERNELS.join(", ")}`);
}

/** Turns 16 uniforms at data[start..start+16) into 16 normals, in place. */
type BlockTransform = (data: Float32Array, start: number) => void;

const fround = Math.fround;
const TWO_PI_FLOAT = fround(2 * Math.PI);

/** `normal_fill_16_AVX2`: every step in float32, log/sin/cos from avx_mathfun. */
function boxMullerAvx2(data: Float32Array, start: number): void {
  for (let j = start; j < start + HALF_BLOCK; j++) {
    const radius = fround(Math.sqrt(-2 * logAvx2(fround(1 - data[j]!))));
    sinCosAvx2(fround(TWO_PI_FLOAT * data[j + HALF_BLOCK]!));
    data[j] = radius * sinCos.cos;
    data[j + HALF_BLOCK] = radius * sinCos.sin;
  }
}

/**
 * The generic `normal_fill_16<scalar_t>`: float libm math, each named intermediate stored in
 * the element type (`round`). theta is 2π (double) times u2, cast to the element type.
 */
function boxMullerLibm(data: Float32Array, start: number, round: (x: number) => number): void {
  for (let j = start; j < start + HALF_BLOCK; j++) {
    const radius = round(fround(Math.sqrt(fround(-2 * fround(Math.log(fround(1 - data[j]!)))))));
    const theta = round(fround(2 * Math.PI * data[j + HALF_BLOCK]!));
    data[j] = round(fround(radius * fround(Math.cos(theta))));
    data[j + HALF_BLOCK] = round(fround(radius * fround(Math.sin(theta))));
  }
}

function boxMullerLibmFloat(data: Float32Array, start: number): void {
  boxMullerLibm(data, start, fround);
}

function boxMullerLibmHalf(data: Float32Array, start: number): void {
  boxMullerLibm(data, start, roundToHalf);
}

// ---- avx_mathfun.h (cephes) log and sincos, lane by lane in float32 ----
// PyTorch's build lets GCC contract a product into the add or subtract that is its only use
// (-ffp-contract=fast), so those steps are fused multiply-adds here; verified bit for bit
// against PyTorch 1.13's AVX2 kernel.

/** Single-precision fused multiply-add. a*b is exact in double; the sum's rounding in double
 * before fround could in theory double-round (not once in 262144 values checked bit for bit). */
function fma32(a: number, b: number, c: number): number {
  return fround(a * b + c);
}

const floatBits = new Float32Array(1);
const floatBitsAsUint = new Uint32Array(floatBits.buffer);
const SQRT_HALF = fround(0.707106781186547524);
const LOG_POLY = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1,
  -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(fround);
const LOG_Q1 = fround(-2.1219444e-4);
const LOG_Q2 = fround(0.693359375);

/** `log256_ps` for one positive normal float. */
function logAvx2(value: number): number {
  floatBits[0] = value;
  const bits = floatBitsAsUint[0]!;
  floatBitsAsUint[0] = (bits & 0x807fffff) | 0x3f000000; // mantissa scaled into [0.5, 1)
  let x = floatBits[0]!;
  let exponent = (bits >>> 23) - 126;
  if (x < SQRT_HALF) {
    exponent -= 1;
    x = fround(fround(x - 1) + x);
  } else {
    x = fround(x - 1);
  }
  const z = fround(x * x);
  let y = LOG_POLY[0]!;
  for (let k = 1; k < LOG_POLY.length; k++) y = fma32(y, x, LOG_POLY[k]!);
  y = fround(y * x);
  y = fma32(y, z, fround(exponent * LOG_Q1));
  y = fround(y - z * 0.5);
  return fma32(exponent, LOG_Q2, fround(x + y));
}

const FOUR_OVER_PI = fround(1.27323954473516);
const MINUS_DP1 = fround(-0.78515625);
const MINUS_DP2 = fround(-2.4187564849853515625e-4);
const MINUS_DP3 = fround(-3.77489497744594108e-8);
const SIN_P0 = fround(-1.9515295891e-4);
const SIN_P1 = fround(8.3321608736e-3);
const SIN_P2 = fround(-1.6666654611e-1);
const COS_P0 = fround(2.443315711809948e-5);
const COS_P1 = fround(-1.388731625493765e-3);
const COS_P2 = fround(4.166664568298827e-2);

/** Scratch result of `sinCosAvx2`, so the hot loop allocates nothing. */
const sinCos = { sin: 0, cos: 0 };

/** `sincos256_ps` for one non-negative float (theta in [0, 2π)). */
function sinCosAvx2(theta: number): void {
  const octant = (Math.trunc(fround(theta * FOUR_OVER_PI)) + 1) & ~1;
  let x = fma32(octant, MINUS_DP1, theta);
  x = fma32(octant, MINUS_DP2, x);
  x = fma32(octant, MINUS_DP3, x);
  const z = fround(x * x);
  let cosPoly = fma32(fma32(COS_P0, z, COS_P1), z, COS_P2);
  cosPoly = fround(fma32(fround(cosPoly * z), z, -z * 0.5) + 1);
  const sinPoly = fma32(fround(fma32(fma32(SIN_P0, z, SIN_P1), z, SIN_P2) * z), x, x);
  const swapPolynomials = (octant & 2) !== 0;
  const sin = swapPolynomials ? cosPoly : sinPoly;
  const cos = swapPolynomials ? sinPoly : cosPoly;
  sinCos.sin = octant & 4 ? -sin : sin;
  sinCos.cos = (octant - 2) & 4 ? cos : -cos;
}


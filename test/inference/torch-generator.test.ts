/**
 * TorchGenerator against PyTorch's own numbers (test/fixtures/torch-randn.json, made by
 * tools/reference/torch_randn.py with PyTorch 1.13's CPU generator on an AVX2 build).
 *
 * Tolerances: float32 values within 2e-6 absolute (PyTorch's libm and V8's Math differ in the
 * last bits of double log/sin/cos); the AVX2 kernel (16+ float32 elements) is emulated step by
 * step in float32 and must match bit for bit; float16 values within one half-precision ulp.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Mt19937 } from "../../src/inference/random/mt19937.ts";
import { type RandnDtype, type TorchCpuKernel, TorchGenerator } from "../../src/inference/random/torch-generator.ts";

interface Summary {
  head: number[];
  tail: number[];
  stride: number;
  strided: number[];
  sum: number;
  sumOfSquares: number;
  float32Sha256: string;
}
interface DrawCase {
  seed: string;
  count: number;
  dtype: RandnDtype;
  values?: number[];
  summary?: Summary;
}
interface Fixture {
  torchVersion: string;
  cpuCapability: string;
  draws: DrawCase[];
  float16Draws: DrawCase[];
  sequences: { seed: string; draws: { count: number; dtype: RandnDtype; values: number[] }[] }[];
  mersenneTwister: { seed: string; uint32: number[]; float32From: number; float32: number[]; float64: number[] }[];
  libmKernel: { cpuCapability: string; draws: DrawCase[] };
}

const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/torch-randn.json", import.meta.url), "utf8"),
) as Fixture;

const FLOAT32_TOLERANCE = 2e-6;
const VECTOR_MIN_COUNT = 16;

function maxAbsDiff(actual: ArrayLike<number>, expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  for (let i = 0; i < expected.length; i++) max = Math.max(max, Math.abs(actual[i]! - expected[i]!));
  return max;
}

/** One step of the half-precision grid at |x| (subnormal step below 2^-14). */
function halfUlp(x: number): number {
  return 2 ** (Math.max(Math.floor(Math.log2(Math.abs(x) || 2 ** -14)), -14) - 10);
}

function sha256OfFloat32(values: Float32Array): string {
  return createHash("sha256").update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest("hex");
}

/** Checks a draw against its case; float16 within one half ulp, float32 within `tolerance`. */
function expectMatches(actual: Float32Array, expected: DrawCase, tolerance = FLOAT32_TOLERANCE): void {
  const label = `seed ${expected.seed} randn(${expected.count}, ${expected.dtype})`;
  const pairs = expected.values ? [[actual, expected.values] as const] : summaryPairs(actual, expected.summary!);
  for (const [got, want] of pairs) {
    if (expected.dtype === "float16") {
      want.forEach((value, i) => expect(Math.abs(got[i]! - value), label).toBeLessThanOrEqual(halfUlp(value)));
    } else {
      expect(maxAbsDiff(got, want), label).toBeLessThanOrEqual(tolerance);
    }
  }
  if (expected.summary) expectStatistics(actual, expected.summary, label);
}

function summaryPairs(actual: Float32Array, summary: Summary) {
  const strided = Array.from({ length: summary.strided.length }, (_, k) => actual[k * summary.stride]!);
  return [
    [actual.subarray(0, summary.head.length), summary.head],
    [actual.subarray(actual.length - summary.tail.length), summary.tail],
    [strided, summary.strided],
  ] as const;
}

/** Sums agree to 1e-4: every value within 2e-6 moves the sum of 16384 by at most 0.033, but
 * differences are rare and of both signs, so a real drift shows far beyond this. */
function expectStatistics(actual: Float32Array, summary: Summary, label: string): void {
  let sum = 0;
  let sumOfSquares = 0;
  for (const value of actual) {
    sum += value;
    sumOfSquares += value * value;
  }
  expect(Math.abs(sum - summary.sum), label).toBeLessThan(1e-4);
  expect(Math.abs(sumOfSquares - summary.sumOfSquares), label).toBeLessThan(1e-4);
}

describe("Mt19937", () => {
  it.each(fixture.mersenneTwister)("reproduces PyTorch's engine outputs and uniforms for seed $seed", (expected) => {
    const seed32 = Number(BigInt(expected.seed) & 0xffffffffn);
    const raw = new Mt19937(seed32);
    expect(expected.uint32.map(() => raw.nextUint32())).toEqual(expected.uint32);

    const floats = new Mt19937(seed32);
    const drawn = Array.from({ length: expected.float32From + expected.float32.length }, () => floats.nextUniform32(24));
    expect(drawn.slice(expected.float32From)).toEqual(expected.float32.map(Math.fround));

    const doubles = new Mt19937(seed32);
    expect(expected.float64.map(() => doubles.nextUniformDouble())).toEqual(expected.float64);
  });
});

describe("TorchGenerator.randn", () => {
  it(`was checked against torch ${fixture.torchVersion} (${fixture.cpuCapability})`, () => {
    expect(fixture.cpuCapability).toBe("AVX2");
  });

  it.each(fixture.draws)("matches torch.randn($count) for seed $seed", (expected) => {
    const actual = new TorchGenerator(BigInt(expected.seed)).randn(expected.count);
    expectMatches(actual, expected);
  });

  it("reproduces the AVX2 kernel (16+ float32 elements) bit for bit", () => {
    for (const expected of fixture.draws.filter((d) => d.count >= VECTOR_MIN_COUNT)) {
      const actual = new TorchGenerator(BigInt(expected.seed)).randn(expected.count);
      if (expected.values) expect(actual).toEqual(Float32Array.from(expected.values));
      else expect(sha256OfFloat32(actual), `seed ${expected.seed}`).toBe(expected.summary!.float32Sha256);
    }
  });

  it.each(fixture.float16Draws)("matches torch.randn($count, dtype=float16) for seed $seed", (expected) => {
    const actual = new TorchGenerator(BigInt(expected.seed)).randn(expected.count, "float16");
    expectMatches(actual, expected);
  });

  it.each(fixture.libmKernel.draws)("matches the libm kernel (no AVX2) for randn($count), seed $seed", (expected) => {
    const kernel: TorchCpuKernel = "libm";
    const actual = new TorchGenerator(BigInt(expected.seed), { cpuKernel: kernel }).randn(expected.count);
    expectMatches(actual, expected);
  });

  it.each(fixture.sequences)("continues the stream across calls like torch (seed $seed)", (expected) => {
    const generator = new TorchGenerator(BigInt(expected.seed));
    for (const [call, draw] of expected.draws.entries()) {
      const actual = generator.randn(draw.count, draw.dtype);
      expectMatches(actual, { ...draw, seed: `${expected.seed} call ${call}` });
    }
  });

  it("gives the same noise for seeds that differ by 2^32, as torch does", () => {
    const five = new TorchGenerator(5).randn(256);
    expect(new TorchGenerator(2 ** 32 + 5).randn(256)).toEqual(five);
    expect(new TorchGenerator((1n << 40n) + 5n).randn(256)).toEqual(five);
    expect(new TorchGenerator(6).randn(256)).not.toEqual(five);
  });

  it("accepts every seed from 0 to 2^64 - 1", () => {
    expect(new TorchGenerator(0).initialSeed).toBe(0n);
    expect(new TorchGenerator((1n << 64n) - 1n).initialSeed).toBe((1n << 64n) - 1n);
    expect(new TorchGenerator(2 ** 63).initialSeed).toBe(1n << 63n);
  });

  it.each([-1, -1n, 1.5, Number.NaN, Infinity, 2 ** 64, 1n << 64n])("rejects the seed %s, naming the range", (seed) => {
    expect(() => new TorchGenerator(seed)).toThrowError(
      new RangeError(`Invalid seed ${String(seed)}: the seed must be an integer in [0, 2^64 - 1] (a number or a bigint)`),
    );
  });

  it("rejects a bad count, dtype or kernel with a message naming it", () => {
    const generator = new TorchGenerator(0);
    expect(() => generator.randn(-1)).toThrowError(/count must be a non-negative integer, got -1/);
    expect(() => generator.randn(2.5)).toThrowError(/got 2.5/);
    expect(() => generator.randn(4, "bfloat16" as RandnDtype)).toThrowError(/float32, float16, got bfloat16/);
    expect(() => new TorchGenerator(0, { cpuKernel: "neon" as TorchCpuKernel })).toThrowError(/neon: allowed are avx2, libm/);
  });

  it("draws nothing for an empty shape", () => {
    const generator = new TorchGenerator(0);
    expect(generator.randn(0)).toHaveLength(0);
    expect(generator.randn(1)).toEqual(new TorchGenerator(0).randn(1));
  });
});

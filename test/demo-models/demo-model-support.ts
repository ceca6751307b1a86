/**
 * Helpers shared by the demo-model tests: temp folders, reading float32/float16 outputs,
 * rebuilding the reference script's input patterns, and the weights checksum the reference
 * script records (sha256 over sorted names: name, NUL, little-endian float32 bytes).
 */
import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { float32ToHalf, halfToFloat32 } from "../../src/inference/float16.ts";

/** Every file under `root` (relative paths, sorted). */
export async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

/** The reference script's inputs: float32(sin(i · 0.731 + phase) · scale). */
export interface PatternSpec {
  readonly shape: number[];
  readonly phase: number;
  readonly scale: number;
}

export function pattern(spec: PatternSpec): Float32Array {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.731 + spec.phase) * spec.scale);
}

/** A float tensor of the session's float type. */
export function floatTensor(type: "float32" | "float16", values: Float32Array, dims: readonly number[]): ort.Tensor {
  return type === "float16" ? new ort.Tensor("float16", float32ToHalf(values), dims) : new ort.Tensor("float32", values, dims);
}

/** A float32 view of a float32 or float16 output. */
export function floats(tensor: ort.Tensor): Float32Array {
  if (tensor.type === "float16") return halfToFloat32(tensor.data as Uint16Array);
  if (tensor.type === "float32") return tensor.data as Float32Array;
  throw new Error(`expected a float tensor, got ${tensor.type}`);
}

/** Largest |actual − expected|, and the largest |expected| (to state errors relative to scale). */
export function maxError(actual: ArrayLike<number>, expected: ArrayLike<number>): { abs: number; scale: number } {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != expected ${expected.length}`);
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    abs = Math.max(abs, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return { abs, scale };
}

/** Summary of a float output: finite? how spread? */
export function summarize(values: Float32Array): { finite: boolean; min: number; max: number; std: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let squares = 0;
  let finite = true;
  for (const v of values) {
    if (!Number.isFinite(v)) finite = false;
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
    squares += v * v;
  }
  const mean = sum / values.length;
  return { finite, min, max, std: Math.sqrt(Math.max(squares / values.length - mean * mean, 0)) };
}

/** Decodes an ONNX file's ModelProto. */
export async function readModelProto(path: string): Promise<onnxProto.onnx.ModelProto> {
  return onnxProto.onnx.ModelProto.decode(await readFile(path));
}

/** sha256 over the float32 initializers of the given fp32 models (same definition as the reference script). */
export async function weightsChecksum(modelPaths: readonly string[]): Promise<string> {
  const tensors = new Map<string, Uint8Array>();
  for (const path of modelPaths) {
    for (const tensor of (await readModelProto(path)).graph?.initializer ?? []) {
      if (tensor.dataType !== 1 || !tensor.name || !tensor.rawData) {
        throw new Error(`${path}: initializer ${tensor.name} is not a named float32 tensor with raw data`);
      }
      tensors.set(tensor.name, tensor.rawData);
    }
  }
  const hash = createHash("sha256");
  for (const name of [...tensors.keys()].sort()) {
    hash.update(Buffer.concat([Buffer.from(name, "utf8"), Buffer.from([0])]));
    hash.update(tensors.get(name)!);
  }
  return hash.digest("hex");
}

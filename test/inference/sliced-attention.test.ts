/**
 * Sliced attention (src/inference/ort/sliced-attention.ts): each way exports spell attention is
 * rewritten into a Scan over rows that onnxruntime runs to the same values, and what is not
 * attention that can be sliced (a masked softmax, scores read twice) is left as it was.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { createModelSession, type HostTensor } from "../../src/inference/ort/runtime.ts";
import { sliceAttention } from "../../src/inference/ort/sliced-attention.ts";
import { attr, GraphBuilder, type FloatType } from "../../src/models/demo/onnx/graph-builder.ts";
import { demoModelFolder, disposeDemoModels } from "../support/demo-model.ts";

afterAll(() => disposeDemoModels());

const { onnx } = onnxProto;
const opTypes = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes).graph!.node!.map((node) => node.opType);

/** Deterministic values in [-2, 2). */
function values(length: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length }, () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 31 - 1) * 2);
}

function builder(floatType: FloatType = "float32"): GraphBuilder {
  return new GraphBuilder({
    opset: 14,
    floatType,
    parameters: () => {
      throw new Error("no parameters here");
    },
  });
}

/** Runs a model given as bytes on named float32 inputs, returning its first output. */
async function run(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const tensors = Object.fromEntries(Object.entries(feeds).map(([name, { data, dims }]) => [name, new ort.Tensor("float32", data, dims)]));
    const results = await session.run(tensors);
    return results[session.outputNames[0]!]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(b.length).toBe(a.length);
  return a.reduce((max, value, i) => Math.max(max, Math.abs(value - b[i]!)), 0);
}

describe("sliceAttention on the ways attention is exported", () => {
  it("diffusers' older processors: [batch·heads, tokens, dim] scores scaled by a Mul", async () => {
    const g = builder();
    const [q, k, v] = ["q", "k", "v"].map((name) => g.input(name, "float32", ["rows", "tokens", 8]));
    const scores = g.op("Mul", [g.op("MatMul", [q!, g.op("Transpose", [k!], { perm: attr.ints([0, 2, 1]) })]), g.scalar(8 ** -0.5)]);
    g.output("context", g.op("MatMul", [g.op("Softmax", [scores], { axis: attr.int(-1) }), v!]), "float32", ["rows", "tokens", 8]);
    const bytes = g.serialize();

    const sliced = sliceAttention(bytes);
    expect(sliced.sliced).toBe(1);
    expect(opTypes(sliced.bytes)).toContain("Scan");
    expect(opTypes(sliced.bytes)).not.toContain("Softmax");
    const feeds = { q: { data: values(6 * 5 * 8, 1), dims: [6, 5, 8] }, k: { data: values(6 * 5 * 8, 2), dims: [6, 5, 8] }, v: { data: values(6 * 5 * 8, 3), dims: [6, 5, 8] } };
    expect(maxDifference(await run(bytes, feeds), await run(sliced.bytes, feeds))).toBeLessThan(1e-6);
  });

  it("[batch, heads, tokens, dim] with the scores divided by a Constant, keys and values of another length", async () => {
    const g = builder();
    const q = g.input("q", "float32", ["batch", 3, "queries", 4]);
    const k = g.input("k", "float32", ["batch", 3, "keys", 4]);
    const v = g.input("v", "float32", ["batch", 3, "keys", 6]);
    const divisor = g.op("Constant", [], { value_float: attr.float(2) });
    const scores = g.op("Div", [g.op("MatMul", [q, g.op("Transpose", [k], { perm: attr.ints([0, 1, 3, 2]) })]), divisor]);
    g.output("context", g.op("MatMul", [g.op("Softmax", [scores], { axis: attr.int(-1) }), v]), "float32", ["batch", 3, "queries", 6]);
    const bytes = g.serialize();

    const sliced = sliceAttention(bytes);
    expect(sliced.sliced).toBe(1);
    const feeds = { q: { data: values(2 * 3 * 7 * 4, 4), dims: [2, 3, 7, 4] }, k: { data: values(2 * 3 * 5 * 4, 5), dims: [2, 3, 5, 4] }, v: { data: values(2 * 3 * 5 * 6, 6), dims: [2, 3, 5, 6] } };
    const [expected, actual] = [await run(bytes, feeds), await run(sliced.bytes, feeds)];
    expect(actual.length).toBe(2 * 3 * 7 * 6);
    expect(maxDifference(expected, actual)).toBeLessThan(1e-6);
  });

  it("leaves a masked softmax and scores that something else reads as they are", () => {
    const masked = builder();
    const [q, k, v] = ["q", "k", "v"].map((name) => masked.input(name, "float32", [2, 5, 8]));
    const mask = masked.input("mask", "float32", [5, 5]);
    const scores = masked.op("Add", [masked.op("MatMul", [q!, masked.op("Transpose", [k!], { perm: attr.ints([0, 2, 1]) })]), mask]);
    masked.output("context", masked.op("MatMul", [masked.op("Softmax", [scores], { axis: attr.int(-1) }), v!]), "float32", [2, 5, 8]);
    const maskedBytes = masked.serialize();
    expect(sliceAttention(maskedBytes)).toEqual({ bytes: maskedBytes, sliced: 0 });

    const shared = builder();
    const [q2, k2, v2] = ["q", "k", "v"].map((name) => shared.input(name, "float32", [2, 5, 8]));
    const raw = shared.op("MatMul", [q2!, shared.op("Transpose", [k2!], { perm: attr.ints([0, 2, 1]) })]);
    shared.output("context", shared.op("MatMul", [shared.op("Softmax", [raw], { axis: attr.int(-1) }), v2!]), "float32", [2, 5, 8]);
    shared.output("scores", raw, "float32", [2, 5, 5]);
    expect(sliceAttention(shared.serialize()).sliced).toBe(0);
  });
});

describe("sliced attention in the demo UNets", () => {
  for (const dtype of ["float32", "float16"] as const) {
    it(`rewrites every attention of the ${dtype} UNet, and the UNet predicts the same noise`, async () => {
      const file = path.join(await demoModelFolder({ dtype }), "unet/model.onnx");
      const original = readFileSync(file);
      const softmaxes = opTypes(original).filter((op) => op === "Softmax").length;
      expect(softmaxes).toBeGreaterThan(0);
      expect(sliceAttention(original).sliced).toBe(softmaxes);

      const [plain, sliced] = await Promise.all([createModelSession(file), createModelSession(file, { sliceAttention: true })]);
      try {
        const hidden = Number(plain.inputs.get("encoder_hidden_states")!.shape[2]);
        const feeds: Record<string, HostTensor> = {
          sample: { data: values(2 * 4 * 8 * 8, 7), dims: [2, 4, 8, 8] },
          timestep: { data: Float32Array.of(999), dims: plain.inputs.get("timestep")!.shape.length === 0 ? [] : [1] },
          encoder_hidden_states: { data: values(2 * 77 * hidden, 8), dims: [2, 77, hidden] },
        };
        const [expected, actual] = await Promise.all([plain.run(feeds), sliced.run(feeds)]);
        const [a, b] = [Object.values(expected)[0]!.data, Object.values(actual)[0]!.data];
        const scale = a.reduce((max, value) => Math.max(max, Math.abs(value)), 0);
        expect(maxDifference(a, b) / scale).toBeLessThan(dtype === "float16" ? 2e-3 : 1e-5);
      } finally {
        await Promise.all([plain.release(), sliced.release()]);
      }
    });
  }
});

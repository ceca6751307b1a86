/**
 * The generated ONNX graphs compute what diffusers' UNet2DConditionModel / AutoencoderKL and
 * transformers' CLIPTextModel compute with the same weights. Reference numbers:
 * test/fixtures/demo-components.json, made by tools/reference/demo_components.py (diffusers
 * v0.35.2 with load_state_dict(strict=True) of our initializers, torch 1.13 float32 CPU).
 *
 * Tolerance: max |onnx − torch| ≤ 1e-5 · max |torch| + 1e-5 for float32 (differences come from
 * summation order only; seen: ≤ 3.5e-6 at output scales 0.6–3.2); the float16 export is held to
 * 5e-3 · max |torch| of the float32 reference (seen: 2.8e-3 at scale 2.6).
 */
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import fixture from "../fixtures/demo-components.json" with { type: "json" };
import type { ExporterGeneration } from "../../src/models/demo/export-profiles.ts";
import { makeDemoStableDiffusion } from "../../src/models/demo/stable-diffusion.ts";
import type { DemoPreset } from "../../src/models/demo/presets.ts";
import { floats, floatTensor, maxError, pattern, weightsChecksum, type PatternSpec } from "./demo-model-support.ts";
import { makeTempDir } from "../support/temp-dir.ts";

interface TensorRecord {
  shape: number[];
  data: number[];
}
const FP32_RTOL = 1e-5;
const FP32_ATOL = 1e-5;
const FP16_RTOL = 5e-3;

const REGENERATE = "regenerate the fixture: see the header of tools/reference/demo_components.py";

let temp: string;
beforeAll(async () => {
  temp = await makeTempDir("parity");
});

async function generate(preset: DemoPreset, exporter: ExporterGeneration, dtype: "float32" | "float16"): Promise<string> {
  const outDir = join(temp, `${preset}-${exporter}-${dtype}`);
  await makeDemoStableDiffusion({ preset, outDir, exporter, dtype });
  return outDir;
}

async function run(modelPath: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(modelPath);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function expectClose(actual: ort.Tensor, expected: TensorRecord, rtol: number, atol: number, what: string): void {
  expect(actual.dims, `${what} shape`).toEqual(expected.shape);
  const { abs, scale } = maxError(floats(actual), expected.data);
  expect(abs, `${what}: max abs error ${abs} vs output scale ${scale}`).toBeLessThanOrEqual(rtol * scale + atol);
}

function floatInput(type: "float32" | "float16", record: { pattern: PatternSpec }): ort.Tensor {
  return floatTensor(type, pattern(record.pattern), record.pattern.shape);
}

describe.each(["tiny", "small"] as const)("%s preset, optimum-1.23 float32, against diffusers/transformers", (preset) => {
  const reference = fixture.presets[preset];
  let folder: string;
  beforeAll(async () => {
    folder = await generate(preset, "optimum-1.23", "float32");
  }, 120_000);

  it("carries the weights the fixture was made from", async () => {
    const checksum = (...components: string[]) => weightsChecksum(components.map((c) => join(folder, c, "model.onnx")));
    expect(await checksum("text_encoder"), `text encoder weights changed: ${REGENERATE}`).toBe(reference.text_encoder.weightsSha256);
    expect(await checksum("unet"), `UNet weights changed: ${REGENERATE}`).toBe(reference.unet.weightsSha256);
    expect(await checksum("vae_encoder", "vae_decoder"), `VAE weights changed: ${REGENERATE}`).toBe(reference.vae.weightsSha256);
  });

  it("text encoder matches CLIPTextModel (last_hidden_state, pooler_output)", async () => {
    const ids = reference.text_encoder.inputs.input_ids;
    const out = await run(join(folder, "text_encoder", "model.onnx"), { input_ids: new ort.Tensor("int32", Int32Array.from(ids.data), ids.shape) });
    expectClose(out.last_hidden_state!, reference.text_encoder.outputs.last_hidden_state, FP32_RTOL, FP32_ATOL, "last_hidden_state");
    expectClose(out.pooler_output!, reference.text_encoder.outputs.pooler_output, FP32_RTOL, FP32_ATOL, "pooler_output");
  });

  it("UNet matches UNet2DConditionModel for per-sample and single timesteps", async () => {
    const { inputs, outputs } = reference.unet;
    const unet = join(folder, "unet", "model.onnx");
    const feeds = (timesteps: bigint[]) => ({
      sample: floatInput("float32", inputs.sample),
      timestep: new ort.Tensor("int64", BigInt64Array.from(timesteps), [timesteps.length]),
      encoder_hidden_states: floatInput("float32", inputs.encoder_hidden_states),
    });
    expectClose((await run(unet, feeds([951n, 1n]))).out_sample!, outputs.timesteps_951_1, FP32_RTOL, FP32_ATOL, "t=[951,1]");
    expectClose((await run(unet, feeds([500n]))).out_sample!, outputs.timestep_500_scalar, FP32_RTOL, FP32_ATOL, "t=[500]");
  });

  it("VAE decoder and encoder match AutoencoderKL.decode / encode().latent_dist.parameters", async () => {
    const { inputs, outputs } = reference.vae;
    const decoded = await run(join(folder, "vae_decoder", "model.onnx"), { latent_sample: floatInput("float32", inputs.latent_sample) });
    expectClose(decoded.sample!, outputs.decoded, FP32_RTOL, FP32_ATOL, "decoded sample");
    const encoded = await run(join(folder, "vae_encoder", "model.onnx"), { sample: floatInput("float32", inputs.sample) });
    expectClose(encoded.latent_parameters!, outputs.latent_parameters, FP32_RTOL, FP32_ATOL, "latent_parameters");
  });
});

describe("tiny preset, other export generations compute the same function", () => {
  const reference = fixture.presets.tiny;
  const cases = [
    { exporter: "optimum-1.24", dtype: "float32", rtol: FP32_RTOL, atol: FP32_ATOL },
    { exporter: "optimum-onnx", dtype: "float32", rtol: FP32_RTOL, atol: FP32_ATOL },
    { exporter: "optimum-1.24", dtype: "float16", rtol: FP16_RTOL, atol: 0 },
  ] as const;

  it.each(cases)("$exporter $dtype: scalar float timestep UNet, text encoder, VAE decoder", async ({ exporter, dtype, rtol, atol }) => {
    const folder = await generate("tiny", exporter, dtype);
    const { inputs, outputs } = reference.unet;
    const noise = await run(join(folder, "unet", "model.onnx"), {
      sample: floatInput(dtype, inputs.sample),
      timestep: floatTensor(dtype, Float32Array.of(500), []),
      encoder_hidden_states: floatInput(dtype, inputs.encoder_hidden_states),
    });
    expectClose(noise.out_sample!, outputs.timestep_500_scalar, rtol, atol, `${exporter} ${dtype} UNet`);
    const ids = reference.text_encoder.inputs.input_ids;
    const text = await run(join(folder, "text_encoder", "model.onnx"), {
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids.data, BigInt), ids.shape),
    });
    expectClose(text.pooler_output!, reference.text_encoder.outputs.pooler_output, rtol, atol, `${exporter} ${dtype} pooler_output`);
    const decoded = await run(join(folder, "vae_decoder", "model.onnx"), { latent_sample: floatInput(dtype, reference.vae.inputs.latent_sample) });
    expectClose(decoded.sample!, reference.vae.outputs.decoded, rtol, atol, `${exporter} ${dtype} decoded`);
  }, 60_000);
});

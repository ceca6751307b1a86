/**
 * The demo Stable Diffusion generator: deterministic bytes, the exact signatures of each real
 * exporter generation (names, dtypes, dims, as optimum's exporters/onnx/model_configs.py at tags
 * v1.23.3 and v1.24.0, optimum-onnx's, and diffusers' convert script write them; written out
 * here rather than derived from the generator's own tables), the folder layouts, and finite,
 * varied outputs from a tiny run of every component.
 */
import { existsSync } from "node:fs";
import { readFile, readdir, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExporterGeneration } from "../../src/models/demo/export-profiles.ts";
import { demoModelDefinition, makeDemoStableDiffusion } from "../../src/models/demo/stable-diffusion.ts";
import { floats, floatTensor, listFiles, readModelProto, summarize } from "./demo-model-support.ts";
import { makeTempDir } from "../support/temp-dir.ts";

type Float = "float32" | "float16";
type Signature = Record<string, [type: string, dims: (number | string)[]]>;
interface ComponentSignature {
  inputs: Signature;
  outputs: Signature;
}

/** What each exporter writes for the tiny preset (text width 32, 4 latent channels). */
function expectedSignatures(exporter: ExporterGeneration, f: Float): Record<string, ComponentSignature> {
  const optimumText = (ids: string): ComponentSignature => ({
    inputs: { input_ids: [ids, ["batch_size", "sequence_length"]] },
    outputs: { last_hidden_state: [f, ["batch_size", "sequence_length", 32]], pooler_output: [f, ["batch_size", 32]] },
  });
  const optimumUnet = (timestep: [string, string[]]): ComponentSignature => ({
    inputs: {
      sample: [f, ["batch_size", 4, "height", "width"]],
      timestep,
      encoder_hidden_states: [f, ["batch_size", "sequence_length", 32]],
    },
    outputs: { out_sample: [f, ["batch_size", 4, "height", "width"]] },
  });
  const optimumVae = (encIn: string[], encOut: string[], decIn: string[], decOut: string[]) => ({
    vae_encoder: { inputs: { sample: [f, ["batch_size", 3, ...encIn]] }, outputs: { latent_parameters: [f, ["batch_size", 8, ...encOut]] } },
    vae_decoder: { inputs: { latent_sample: [f, ["batch_size", 4, ...decIn]] }, outputs: { sample: [f, ["batch_size", 3, ...decOut]] } },
  }) as Record<string, ComponentSignature>;
  const legacyVae = optimumVae(["height", "width"], ["height_latent", "width_latent"], ["height_latent", "width_latent"], ["height", "width"]);
  switch (exporter) {
    case "optimum-1.23":
      return { text_encoder: optimumText("int32"), unet: optimumUnet(["int64", ["steps"]]), ...legacyVae };
    case "optimum-1.24":
      return { text_encoder: optimumText("int64"), unet: optimumUnet([f, []]), ...legacyVae };
    case "optimum-onnx":
      return {
        text_encoder: optimumText("int64"),
        unet: optimumUnet([f, []]),
        ...optimumVae(["sample_height", "sample_width"], ["sample_height / 8", "sample_width / 8"], ["latent_height", "latent_width"], ["latent_height * 8", "latent_width * 8"]),
      };
    case "diffusers-script":
      return {
        text_encoder: {
          inputs: { input_ids: ["int32", ["batch", "sequence"]] },
          outputs: { last_hidden_state: [f, ["batch", "sequence", 32]], pooler_output: [f, ["batch", 32]] },
        },
        unet: {
          inputs: {
            sample: [f, ["batch", "channels", "height", "width"]],
            timestep: [f, ["batch"]],
            encoder_hidden_states: [f, ["batch", "sequence", 32]],
          },
          outputs: { out_sample: [f, ["batch", 4, "height", "width"]] },
        },
        vae_encoder: {
          inputs: { sample: [f, ["batch", "channels", "height", "width"]] },
          outputs: { latent_sample: [f, ["latent_sample_dim_0", 4, "latent_sample_dim_2", "latent_sample_dim_3"]] },
        },
        vae_decoder: {
          inputs: { latent_sample: [f, ["batch", "channels", "height", "width"]] },
          outputs: { sample: [f, ["sample_dim_0", 3, "sample_dim_2", "sample_dim_3"]] },
        },
      };
  }
}

const EXPECTED_OPSET: Record<ExporterGeneration, number> = { "optimum-1.23": 14, "optimum-1.24": 14, "optimum-onnx": 18, "diffusers-script": 14 };

function signatureOf(metadata: readonly ort.InferenceSession.ValueMetadata[]): Signature {
  return Object.fromEntries(metadata.map((m) => [m.name, m.isTensor ? [m.type, [...m.shape]] : ["non-tensor", []]]));
}

let temp: string;
beforeAll(async () => {
  temp = await makeTempDir("generator");
});

describe("determinism and writing", () => {
  it("writes byte-identical folders on two runs (and reports the time)", async () => {
    const first = join(temp, "first");
    const second = join(temp, "second");
    const started = performance.now();
    await makeDemoStableDiffusion({ preset: "tiny", outDir: first });
    console.log(`tiny optimum-1.23 float32 generated in ${(performance.now() - started).toFixed(0)} ms`);
    await makeDemoStableDiffusion({ preset: "tiny", outDir: second });
    const names = await listFiles(first);
    expect(await listFiles(second)).toEqual(names);
    for (const name of names) {
      expect((await readFile(join(second, name))).equals(await readFile(join(first, name))), name).toBe(true);
    }
  });

  it("replaces an existing folder whole, reports progress, and leaves no staging folders", async () => {
    const outDir = join(temp, "replaced");
    await mkdir(outDir);
    await writeFile(join(outDir, "stale.txt"), "old");
    const progress: string[] = [];
    await makeDemoStableDiffusion({ preset: "tiny", outDir, onProgress: (done, total, what) => progress.push(`${done}/${total} ${what}`) });
    expect(existsSync(join(outDir, "stale.txt"))).toBe(false);
    expect(progress.at(-1)).toBe("7/7 unet/model.onnx");
    expect((await readdir(temp)).filter((name) => name.startsWith("."))).toEqual([]);
  });

  it("rejects an unknown preset, exporter or dtype by name", async () => {
    const outDir = join(temp, "never");
    // @ts-expect-error: testing the runtime check
    await expect(makeDemoStableDiffusion({ preset: "huge", outDir })).rejects.toThrow('preset must be one of tiny, small, sd15, got "huge"');
    // @ts-expect-error: testing the runtime check
    await expect(makeDemoStableDiffusion({ preset: "tiny", outDir, exporter: "optimum-2" })).rejects.toThrow(/exporter must be one of/);
    // @ts-expect-error: testing the runtime check
    await expect(makeDemoStableDiffusion({ preset: "tiny", outDir, dtype: "bf16" })).rejects.toThrow(/dtype must be "float32" or "float16"/);
    expect(existsSync(outDir)).toBe(false);
  });
});

describe("tokenizer", () => {
  it("is a dense CLIP BPE vocabulary whose size is the text encoder's vocab_size", async () => {
    const folder = join(temp, "tokenizer");
    await makeDemoStableDiffusion({ preset: "tiny", outDir: folder });
    const vocab = JSON.parse(await readFile(join(folder, "tokenizer", "vocab.json"), "utf8")) as Record<string, number>;
    const ids = Object.values(vocab).sort((a, b) => a - b);
    expect(ids).toEqual(ids.map((_, i) => i));
    const config = JSON.parse(await readFile(join(folder, "text_encoder", "config.json"), "utf8"));
    expect(config.vocab_size).toBe(ids.length);
    expect(vocab["<|endoftext|>"]).toBe(ids.length - 1);
    expect(vocab["<|startoftext|>"]).toBe(ids.length - 2);
    expect(vocab["!"]).toBe(0);
    expect(vocab["a</w>"]).toBe(256 + 64); // byte symbols, then their </w> forms, in CLIP's order
    const merges = (await readFile(join(folder, "tokenizer", "merges.txt"), "utf8")).split("\n");
    expect(merges[0]).toBe("#version: 0.2");
    expect(merges.length - 2).toBe(demoModelDefinition("tiny").tokenizer.merges.length);
    for (const word of ["photo</w>", "portrait</w>", "landscape</w>", "cat</w>"]) expect(vocab[word], word).toBeTypeOf("number");
    const tokenizerConfig = JSON.parse(await readFile(join(folder, "tokenizer", "tokenizer_config.json"), "utf8"));
    expect(tokenizerConfig).toMatchObject({ tokenizer_class: "CLIPTokenizer", model_max_length: 77, pad_token: "<|endoftext|>" });
  });
});

const VARIANTS = (["optimum-1.23", "optimum-1.24", "optimum-onnx", "diffusers-script"] as const).flatMap((exporter) =>
  (["float32", "float16"] as const).map((dtype) => ({ exporter, dtype })),
);

describe.each(VARIANTS)("tiny $exporter $dtype", ({ exporter, dtype }) => {
  let folder: string;
  const sessions: Record<string, ort.InferenceSession> = {};
  beforeAll(async () => {
    folder = join(temp, `${exporter}-${dtype}`);
    await makeDemoStableDiffusion({ preset: "tiny", outDir: folder, exporter, dtype });
    for (const component of ["text_encoder", "unet", "vae_encoder", "vae_decoder"]) {
      sessions[component] = await ort.InferenceSession.create(join(folder, component, "model.onnx"));
    }
  }, 60_000);
  afterAll(async () => {
    for (const session of Object.values(sessions)) await session.release();
  });

  it("has the session signatures and opset of that export generation", async () => {
    for (const [component, expected] of Object.entries(expectedSignatures(exporter, dtype))) {
      expect(signatureOf(sessions[component]!.inputMetadata), `${component} inputs`).toEqual(expected.inputs);
      expect(signatureOf(sessions[component]!.outputMetadata), `${component} outputs`).toEqual(expected.outputs);
      const proto = await readModelProto(join(folder, component, "model.onnx"));
      expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)]), component).toEqual([["", EXPECTED_OPSET[exporter]]]);
    }
  });

  it("has the folder layout of that exporter", async () => {
    const files = await listFiles(folder);
    const modelIndex = JSON.parse(await readFile(join(folder, "model_index.json"), "utf8"));
    const tokenizer = ["merges.txt", "special_tokens_map.json", "tokenizer_config.json", "vocab.json"].map((f) => `tokenizer/${f}`);
    const models = ["text_encoder", "unet", "vae_decoder", "vae_encoder"].map((c) => `${c}/model.onnx`);
    const common = ["demo-model.json", "model_index.json", "scheduler/scheduler_config.json", ...tokenizer, ...models];
    if (exporter === "diffusers-script") {
      expect(files).toEqual([...common, "unet/weights.pb"].sort());
      expect(modelIndex._class_name).toBe("OnnxStableDiffusionPipeline");
      expect(modelIndex.vae_decoder).toEqual(["onnxruntime", "OnnxRuntimeModel"]);
    } else {
      const configs = ["text_encoder", "unet", "vae_decoder", "vae_encoder"].map((c) => `${c}/config.json`);
      expect(files).toEqual([...common, ...configs].sort());
      expect(modelIndex).toMatchObject({ _class_name: "StableDiffusionPipeline", vae: ["diffusers", "AutoencoderKL"] });
      const vae = JSON.parse(await readFile(join(folder, "vae_decoder", "config.json"), "utf8"));
      expect(vae).toMatchObject({ _class_name: "AutoencoderKL", scaling_factor: 0.18215, latent_channels: 4, block_out_channels: [16, 32, 32, 32] });
      expect(await readFile(join(folder, "vae_encoder", "config.json"), "utf8")).toBe(await readFile(join(folder, "vae_decoder", "config.json"), "utf8"));
      const unet = JSON.parse(await readFile(join(folder, "unet", "config.json"), "utf8"));
      expect(unet.sample_size * 2 ** (vae.block_out_channels.length - 1)).toBe(64);
    }
    const marker = JSON.parse(await readFile(join(folder, "demo-model.json"), "utf8"));
    expect(marker).toMatchObject({ demo: true, randomWeights: true, preset: "tiny", exporter, dtype });
    const scheduler = JSON.parse(await readFile(join(folder, "scheduler", "scheduler_config.json"), "utf8"));
    expect(scheduler).toMatchObject({ _class_name: "PNDMScheduler", beta_schedule: "scaled_linear", beta_start: 0.00085, beta_end: 0.012, steps_offset: 1, skip_prk_steps: true });
  });

  it("runs every component to finite, varied outputs of the right shapes", async () => {
    const idsType = sessions.text_encoder!.inputMetadata[0]!.isTensor ? (sessions.text_encoder!.inputMetadata[0] as { type: string }).type : "";
    const { vocab } = demoModelDefinition("tiny").tokenizer;
    const [start, end] = [vocab.get("<|startoftext|>")!, vocab.get("<|endoftext|>")!];
    const ids = Array.from({ length: 2 * 77 }, (_, i) => (i % 77 === 0 ? start : i % 77 < 6 ? 300 + i : end));
    const idsTensor = idsType === "int32" ? new ort.Tensor("int32", Int32Array.from(ids), [2, 77]) : new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [2, 77]);
    const text = await sessions.text_encoder!.run({ input_ids: idsTensor });
    expectVaried(text.last_hidden_state!, [2, 77, 32]);
    expectVaried(text.pooler_output!, [2, 32]);

    const values = (n: number, phase: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + phase));
    const timestepMeta = sessions.unet!.inputMetadata.find((m) => m.name === "timestep") as unknown as { type: string; shape: unknown[] };
    const timestep = timestepMeta.type === "int64"
      ? new ort.Tensor("int64", BigInt64Array.of(951n), [1])
      : floatTensor(dtype, exporter === "diffusers-script" ? Float32Array.of(951, 951, 951, 951, 951, 951, 951, 951) : Float32Array.of(951), timestepMeta.shape.length === 0 ? [] : [8]);
    const unet = await sessions.unet!.run({
      sample: floatTensor(dtype, values(8 * 4 * 64, 0), [8, 4, 8, 8]),
      timestep,
      encoder_hidden_states: floatTensor(dtype, values(8 * 77 * 32, 1), [8, 77, 32]),
    });
    expectVaried(unet.out_sample!, [8, 4, 8, 8]);

    const decoded = await sessions.vae_decoder!.run({ latent_sample: floatTensor(dtype, values(4 * 4 * 64, 2), [4, 4, 8, 8]) });
    expectVaried(decoded.sample!, [4, 3, 64, 64]);
    const encoded = await sessions.vae_encoder!.run({ sample: floatTensor(dtype, values(3 * 64 * 64, 3), [1, 3, 64, 64]) });
    const latentName = exporter === "diffusers-script" ? "latent_sample" : "latent_parameters";
    expectVaried(encoded[latentName]!, [1, exporter === "diffusers-script" ? 4 : 8, 8, 8]);
  });
});

function expectVaried(tensor: ort.Tensor, dims: number[]): void {
  expect(tensor.dims).toEqual(dims);
  const summary = summarize(floats(tensor));
  expect(summary.finite, JSON.stringify(summary)).toBe(true);
  expect(summary.std, JSON.stringify(summary)).toBeGreaterThan(0.05);
}

describe("old-layout VAE encoder output", () => {
  it("latent_sample is a fresh draw mean + std·noise each run, as torch.randn_like traced to RandomNormalLike", async () => {
    const folder = join(temp, "diffusers-script-vae");
    await makeDemoStableDiffusion({ preset: "tiny", outDir: folder, exporter: "diffusers-script" });
    const session = await ort.InferenceSession.create(join(folder, "vae_encoder", "model.onnx"));
    try {
      const image = new ort.Tensor("float32", Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.cos(i * 0.1)), [1, 3, 64, 64]);
      const first = floats((await session.run({ sample: image })).latent_sample!);
      const second = floats((await session.run({ sample: image })).latent_sample!);
      expect(first).not.toEqual(second);
    } finally {
      await session.release();
    }
  });
});

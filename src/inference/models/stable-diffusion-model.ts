/**
 * Loads a Stable Diffusion model folder in the layout optimum's ONNX export writes (also diffusers'
 * older conversion script): the file table below, the component configs, and one onnxruntime session
 * per component, created once and reused for every job (but the text encoder's on the CPU, opened
 * for each job: see loadStableDiffusion). Everything wrong with a folder is reported in one error.
 */
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { ClipTokenizer } from "../tokenizer/clip-tokenizer.ts";
import { createModelSession, type ModelSession, type RuntimeOptions } from "../ort/runtime.ts";
import { sessionPerRun } from "../ort/session-per-run.ts";
import { bindComponent, CONTRACTS } from "./component-contract.ts";
import { createTextEncoder, type TextEncoder } from "./text-encoder.ts";
import { createUnet, type Unet } from "./unet.ts";
import { createVaeDecoder, createVaeEncoder, type VaeDecoder, type VaeEncoder } from "./vae.ts";
import { defaultSchedulerName } from "./default-scheduler.ts";
import { parsePythonJson } from "./python-json.ts";
import type { SchedulerName } from "../schedulers/scheduler.ts";
import type { MemoryShape, ModelMemory } from "../pipeline/memory-budget.ts";
import { UserFacingError } from "../../errors.ts";

/** Component → model file, relative to the folder. The VAE encoder is only needed for image-to-image. */
const MODEL_FILES = {
  text_encoder: "text_encoder/model.onnx",
  unet: "unet/model.onnx",
  vae_decoder: "vae_decoder/model.onnx",
  vae_encoder: "vae_encoder/model.onnx",
} as const;
/**
 * Bytes per activation value on the CPU provider, 4 even for fp16 exports: onnxruntime's CPU provider
 * runs their heavy operators in fp32 (bench/RESULTS.md: the fp16 sd15 preset peaked as high as fp32).
 */
const CPU_ELEMENT_BYTES = 4;
const REQUIRED_FILES = ["model_index.json", "scheduler/scheduler_config.json", MODEL_FILES.text_encoder, MODEL_FILES.unet, MODEL_FILES.vae_decoder];

/**
 * What diffusers' OnnxStableDiffusionPipeline hard-codes for folders that carry no VAE config (the
 * conversion script's layout): SD 1.x's VAE scaling factor and a 512-pixel default size.
 */
const LEGACY_VAE_SCALING_FACTOR = 0.18215;
const LEGACY_DEFAULT_SIZE = 512;
/** SD 1.x's UNet and VAE widths, for the memory estimate of folders without configs. */
const LEGACY_UNET = { channels: 320, firstBlock: "CrossAttnDownBlock2D" };
const LEGACY_VAE_CHANNELS = 128;

export interface GenerationDefaults {
  steps: number;
  guidanceScale: number;
  width: number;
  height: number;
  scheduler: SchedulerName;
}

export interface StableDiffusionModel {
  readonly dir: string;
  readonly tokenizer: ClipTokenizer;
  readonly textEncoder: TextEncoder;
  readonly unet: Unet;
  readonly vaeDecoder: VaeDecoder;
  readonly vaeEncoder: VaeEncoder | undefined;
  /** scheduler/scheduler_config.json as written; each scheduler applies its own defaults to it. */
  readonly schedulerConfig: Readonly<Record<string, unknown>>;
  /** Latents are divided by this before decoding (vae config `scaling_factor`). */
  readonly vaeScalingFactor: number;
  /** Image pixels per latent pixel: 2^(number of VAE blocks - 1). */
  readonly vaeScaleFactor: number;
  /** Width and height must be multiples of this (VAE scale factor × UNet downsampling). */
  readonly sizeMultiple: number;
  readonly latentChannels: number;
  readonly defaults: GenerationDefaults;
  /** Notes about fallbacks taken while loading (e.g. a missing VAE config). */
  readonly warnings: readonly string[];
  /** What the memory estimate of a batch reads; undefined when the sessions run on a GPU (activations are not in host memory). */
  readonly memoryShape: MemoryShape | undefined;
  release(): Promise<void>;
}

/** Thrown when a folder is not a usable Stable Diffusion export; lists every problem found. */
export class ModelLoadError extends UserFacingError {
  override readonly name = "ModelLoadError";
  constructor(
    readonly dir: string,
    readonly problems: readonly string[],
  ) {
    super(`${dir} is not a usable Stable Diffusion ONNX model:\n  - ${problems.join("\n  - ")}`);
  }
}

export async function loadStableDiffusion(dir: string, runtime: RuntimeOptions = {}): Promise<StableDiffusionModel> {
  const missing = REQUIRED_FILES.filter((file) => !existsSync(path.join(dir, file)));
  const [tokenizer, configs] = await Promise.all([
    ClipTokenizer.fromFolder(path.join(dir, "tokenizer")).catch((error: Error) => error),
    missing.length === 0 ? readConfigs(dir).catch((error: Error) => error) : undefined,
  ]);
  const problems = [
    ...missing.map((file) => `missing ${file}`),
    ...[tokenizer, configs].flatMap((result) => (result instanceof ModelLoadError ? result.problems : result instanceof Error ? [result.message] : [])),
  ];
  if (problems.length > 0 || !configs || configs instanceof Error || tokenizer instanceof Error) throw new ModelLoadError(dir, problems);

  const onCpu = (runtime.executionProviders ?? ["cpu"])[0] === "cpu";
  const sessions = await openSessions(dir, runtime);
  if (onCpu) {
    // The text encoder runs once per job, first. Kept open on the CPU, its prepacked weights (0.33
    // GB for SD 1.5) stayed resident beside the UNet's working memory and then the VAE decoder's:
    // the 512×512 image peaked at 1.32× the weights. Opened for each job's prompts instead (from
    // the saved optimized graph, 0.25–1.6 s at that size), it peaks at 1.24× (bench/RESULTS.md).
    const file = path.join(dir, MODEL_FILES.text_encoder);
    sessions.text_encoder = await sessionPerRun(sessions.text_encoder, () => createModelSession(file, runtime));
  }
  const components = bindComponents(sessions);
  if (components.problems.length > 0) {
    await releaseAll(sessions);
    throw new ModelLoadError(dir, components.problems);
  }
  const layout = describeLayout(configs);
  return {
    dir,
    tokenizer,
    ...components.wrappers,
    schedulerConfig: configs.scheduler,
    ...layout,
    memoryShape: onCpu ? memoryShape(configs, layout.vaeScaleFactor, CPU_ELEMENT_BYTES) : undefined,
    release: () => releaseAll(sessions),
  };
}

function bindComponents(sessions: Sessions) {
  const textEncoder = bindComponent("text_encoder", CONTRACTS.text_encoder, sessions.text_encoder);
  const unet = bindComponent("unet", CONTRACTS.unet, sessions.unet);
  const vaeDecoder = bindComponent("vae_decoder", CONTRACTS.vae_decoder, sessions.vae_decoder);
  const vaeEncoder = sessions.vae_encoder && bindComponent("vae_encoder", CONTRACTS.vae_encoder, sessions.vae_encoder);
  return {
    problems: [textEncoder, unet, vaeDecoder, vaeEncoder].flatMap((bound) => bound?.problems ?? []),
    wrappers: {
      textEncoder: createTextEncoder(sessions.text_encoder, textEncoder.binding),
      unet: createUnet(sessions.unet, unet.binding),
      vaeDecoder: createVaeDecoder(sessions.vae_decoder, vaeDecoder.binding),
      vaeEncoder: vaeEncoder && sessions.vae_encoder ? createVaeEncoder(sessions.vae_encoder, vaeEncoder.binding) : undefined,
    },
  };
}

export type StableDiffusionLayout = ReturnType<typeof describeLayout>;

/**
 * What a folder's configs say about sizes, scales and defaults, and what its jobs need in host
 * memory on the CPU provider, without opening a session (enough to check a job).
 */
export async function describeStableDiffusion(dir: string): Promise<StableDiffusionLayout & { memory: ModelMemory }> {
  const [configs, weightBytes] = await Promise.all([readConfigs(dir), componentBytes(dir)]);
  const layout = describeLayout(configs);
  return { ...layout, memory: { shape: memoryShape(configs, layout.vaeScaleFactor, CPU_ELEMENT_BYTES), weightBytes } };
}

/** Bytes of every file in the component folders a worker loads: graphs, external weights, configs. */
async function componentBytes(dir: string): Promise<number> {
  const folders = Object.values(MODEL_FILES).filter((file) => existsSync(path.join(dir, file))).map((file) => path.join(dir, path.dirname(file)));
  const sizes = await Promise.all(
    folders.map(async (folder) => {
      // stat, not the directory entry: a hub cache's snapshot files are links to its blobs.
      const files = await Promise.all((await fs.readdir(folder)).map((name) => fs.stat(path.join(folder, name))));
      return files.reduce((sum, file) => sum + (file.isFile() ? file.size : 0), 0);
    }),
  );
  return sizes.reduce((sum, size) => sum + size, 0);
}

/** Sizes and scales from the component configs, with diffusers' ONNX-pipeline fallbacks when a folder has none. */
function describeLayout(configs: Configs) {
  const warnings: string[] = [];
  let vaeScalingFactor = configs.vae?.scaling_factor;
  if (vaeScalingFactor === undefined) {
    vaeScalingFactor = LEGACY_VAE_SCALING_FACTOR;
    warnings.push(`vae_decoder/config.json gives no scaling_factor: using ${LEGACY_VAE_SCALING_FACTOR}, as diffusers' ONNX pipeline does`);
  }
  const vaeScaleFactor = 2 ** ((configs.vae?.block_out_channels?.length ?? 4) - 1);
  // Each UNet down block but the last halves the latents; exported graphs only take sizes that divide evenly.
  const unetDownsampling = 2 ** ((configs.unet?.block_out_channels?.length ?? 4) - 1);
  const defaultSize = configs.unet?.sample_size ? configs.unet.sample_size * vaeScaleFactor : LEGACY_DEFAULT_SIZE;
  return {
    vaeScalingFactor,
    vaeScaleFactor,
    // diffusers' check_inputs requires multiples of 8 whatever the model.
    sizeMultiple: Math.max(8, vaeScaleFactor * unetDownsampling),
    latentChannels: configs.unet?.in_channels ?? configs.vae?.latent_channels ?? 4,
    defaults: { steps: 50, guidanceScale: 7.5, width: defaultSize, height: defaultSize, scheduler: defaultSchedulerName(configs.scheduler) },
    warnings,
  };
}

/** The sizes batchMemoryBytes reads: whether the full-resolution UNet block has attention, widths. */
function memoryShape(configs: Configs, vaeScaleFactor: number, elementBytes: number): MemoryShape {
  const unet = configs.unet;
  const firstBlock = unet?.down_block_types?.[0] ?? LEGACY_UNET.firstBlock;
  return {
    fullResolutionAttention: firstBlock.startsWith("CrossAttn"),
    unetChannels: unet?.block_out_channels?.[0] ?? LEGACY_UNET.channels,
    vaeChannels: configs.vae?.block_out_channels?.[0] ?? LEGACY_VAE_CHANNELS,
    vaeScaleFactor,
    elementBytes,
  };
}

async function releaseAll(sessions: Sessions): Promise<void> {
  await Promise.all(Object.values(sessions).map((session) => session?.release()));
}

type Sessions = Record<Exclude<keyof typeof MODEL_FILES, "vae_encoder">, ModelSession> & { vae_encoder?: ModelSession };

async function openSessions(dir: string, runtime: RuntimeOptions): Promise<Sessions> {
  const entries = Object.entries(MODEL_FILES).filter(([, file]) => existsSync(path.join(dir, file)));
  // The UNet's attention is sliced on the CPU: its full-resolution scores are the biggest tensors of a run.
  const opened = await Promise.allSettled(entries.map(([component, file]) => createModelSession(path.join(dir, file), { ...runtime, sliceAttention: component === "unet" })));
  const failures = opened.flatMap((result, i) => (result.status === "rejected" ? [`${entries[i]![1]}: ${String(result.reason)}`] : []));
  if (failures.length > 0) {
    await Promise.all(opened.map((result) => (result.status === "fulfilled" ? result.value.release() : undefined)));
    throw new ModelLoadError(dir, failures);
  }
  return Object.fromEntries(entries.map(([component], i) => [component, (opened[i] as PromiseFulfilledResult<ModelSession>).value])) as Sessions;
}

interface UnetConfig {
  sample_size?: number;
  in_channels?: number;
  block_out_channels?: number[];
  down_block_types?: string[];
}
interface VaeConfig {
  scaling_factor?: number;
  block_out_channels?: number[];
  latent_channels?: number;
}

type Configs = Awaited<ReturnType<typeof readConfigs>>;

async function readConfigs(dir: string) {
  return {
    scheduler: await readSchedulerConfig(dir),
    unet: (await readOptionalJson(dir, "unet/config.json")) as UnetConfig | undefined,
    vae: (await readOptionalJson(dir, "vae_decoder/config.json")) as VaeConfig | undefined,
  };
}

/** scheduler/scheduler_config.json of a model folder, as diffusers saved it. */
export async function readSchedulerConfig(dir: string): Promise<Record<string, unknown>> {
  return (await readJson(dir, "scheduler/scheduler_config.json")) as Record<string, unknown>;
}

/** A component config: absent in diffusers' conversion-script layout (fallbacks apply), but if present it must parse. */
async function readOptionalJson(dir: string, file: string): Promise<unknown> {
  return existsSync(path.join(dir, file)) ? readJson(dir, file) : undefined;
}

async function readJson(dir: string, file: string): Promise<unknown> {
  const text = await fs.readFile(path.join(dir, file), "utf8");
  try {
    return parsePythonJson(text);
  } catch (error) {
    throw new ModelLoadError(dir, [`${file} is not valid JSON: ${(error as Error).message}`]);
  }
}

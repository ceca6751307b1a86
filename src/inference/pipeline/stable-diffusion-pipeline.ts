/**
 * Text → images with a loaded Stable Diffusion model, step for step as diffusers'
 * StableDiffusionPipeline.__call__ with one torch CPU generator per sample:
 *
 *   1. check the request
 *   2. encode prompt and negative prompt (77 tokens each) once for the whole job
 *   for each batch of samples:
 *   3. scheduler from the model's config, set its timesteps
 *   4. initial latents: each sample's own generator, × the scheduler's init noise sigma
 *   5. denoising loop: scale → UNet on [uncond, cond] → guidance → scheduler step → progress
 *   6. decode latents ÷ the VAE scaling factor → 8-bit RGB, one image at a time
 */
import type { StableDiffusionModel } from "../models/stable-diffusion-model.ts";
import { createScheduler } from "../schedulers/index.ts";
import { applyGuidance, duplicateForGuidance } from "./classifier-free-guidance.ts";
import { toRgbImages, type RgbImage } from "./decoded-image.ts";
import { checkGenerationRequest, type GenerationRequest } from "./generation-request.ts";
import { guidanceScaleEmbedding } from "./guidance-embedding.ts";
import { latentPreview } from "./latent-preview.ts";
import { availableMemoryBytes, fittingBatchSize } from "./memory-budget.ts";
import { SampleNoise } from "./sample-noise.ts";

export interface GenerateOptions {
  /**
   * Most samples denoised together in one UNet run (guidance doubles the UNet batch); on CPU, fewer
   * when a batch this big would not fit in free memory (see memory-budget.ts). @default 1
   */
  batchSize?: number;
  /** Checked before the first step and after every step; an abort rejects with the signal's reason and stops the onStep events. */
  signal?: AbortSignal;
  /** Called after every step, once per sample in the batch. A throw aborts the generation. */
  onStep?: (event: StepEvent) => void;
}

export interface StepEvent {
  sampleIndex: number;
  /** 1-based. */
  step: number;
  totalSteps: number;
  timestep: number;
  /** A small WebP data URL of this sample's current latents; computed only when called. Undefined for non-4-channel latent spaces. */
  preview: (() => Promise<string>) | undefined;
}

export interface GeneratedSample {
  sampleIndex: number;
  seed: number;
  image: RgbImage;
  /** Wall time of each stage for this sample's batch, in milliseconds. */
  timingsMs: { textEncoder: number; denoise: number; vaeDecode: number };
}

interface PromptEmbeddings {
  /** [negative, prompt] when guiding, [prompt] otherwise; each [1, sequence, hidden]. */
  rows: Float32Array[];
  sequence: number;
  hidden: number;
  ms: number;
}

export async function generate(
  model: StableDiffusionModel,
  request: GenerationRequest,
  options: GenerateOptions = {},
): Promise<GeneratedSample[]> {
  const samples: GeneratedSample[] = [];
  for await (const sample of generateSamples(model, request, options)) samples.push(sample);
  return samples;
}

/**
 * The same generation, yielding each batch's samples as soon as they are decoded, so a caller can
 * store them while the next batch denoises. `sampleIndices` makes only those samples (each still
 * from its own seed + index, so it is the same image as in a full run): a retried job makes the
 * samples it lacks.
 */
export async function* generateSamples(
  model: StableDiffusionModel,
  request: GenerationRequest,
  options: GenerateOptions & { sampleIndices?: readonly number[] } = {},
): AsyncGenerator<GeneratedSample> {
  checkGenerationRequest(request, model.sizeMultiple);
  const wanted = options.sampleIndices ?? range(0, request.samples);
  const outOfRange = wanted.find((index) => !Number.isInteger(index) || index < 0 || index >= request.samples);
  if (outOfRange !== undefined) throw new RangeError(`sampleIndices must be whole numbers in 0..${request.samples - 1}, got ${outOfRange}`);
  if (wanted.length === 0) return;
  const guided = usesClassifierFreeGuidance(model, request);
  const wantedBatch = Math.max(1, Math.min(options.batchSize ?? 1, wanted.length));
  // Before anything runs: a batch that would not fit is made smaller, a sample that would not fit is refused.
  const batchSize = model.memoryShape ? fittingBatchSize(model.memoryShape, request, guided, wantedBatch, availableMemoryBytes()) : wantedBatch;
  const embeddings = await encodePrompt(model, request, guided);
  for (let first = 0; first < wanted.length; first += batchSize) {
    yield* await generateBatch(model, request, embeddings, guided, wanted.slice(first, first + batchSize), options);
  }
}

/** As diffusers: guidance above 1, unless the UNet takes the guidance scale as an embedding (LCM-distilled). */
function usesClassifierFreeGuidance(model: StableDiffusionModel, request: GenerationRequest): boolean {
  return request.guidanceScale > 1 && !model.unet.takesGuidanceEmbedding;
}

async function encodePrompt(model: StableDiffusionModel, request: GenerationRequest, guided: boolean): Promise<PromptEmbeddings> {
  const started = performance.now();
  const texts = guided ? [request.negativePrompt, request.prompt] : [request.prompt];
  const ids = concat(texts.map((text) => model.tokenizer.encode(text)), Int32Array);
  const { data, dims } = await model.textEncoder.encode(ids, texts.length);
  const [, sequence, hidden] = dims;
  const rows = texts.map((_, i) => data.subarray(i * sequence * hidden, (i + 1) * sequence * hidden));
  return { rows, sequence, hidden, ms: performance.now() - started };
}

/** Everything one batch of samples shares. */
interface Batch {
  model: StableDiffusionModel;
  request: GenerationRequest;
  embeddings: PromptEmbeddings;
  guided: boolean;
  /** Sample indices in this batch, in order. */
  indices: number[];
  /** [batch, channels, height / 8, width / 8] */
  latentDims: number[];
  options: GenerateOptions;
}

async function generateBatch(
  model: StableDiffusionModel,
  request: GenerationRequest,
  embeddings: PromptEmbeddings,
  guided: boolean,
  indices: number[],
  options: GenerateOptions,
): Promise<GeneratedSample[]> {
  const latentDims = [indices.length, model.latentChannels, request.height / model.vaeScaleFactor, request.width / model.vaeScaleFactor];
  const batch: Batch = { model, request, embeddings, guided, indices, latentDims, options };

  const denoiseStarted = performance.now();
  const latents = await denoise(batch);
  const denoiseMs = performance.now() - denoiseStarted;

  const decodeStarted = performance.now();
  const images = await decodeOneByOne(model, latents, latentDims);
  const timingsMs = { textEncoder: embeddings.ms, denoise: denoiseMs, vaeDecode: performance.now() - decodeStarted };
  return indices.map((sampleIndex, i) => ({ sampleIndex, seed: request.seed + sampleIndex, image: images[i]!, timingsMs }));
}

/**
 * Step 6 for each sample on its own, as diffusers' `enable_vae_slicing`: the same pixels as one
 * batched decode, and the decoder's full-resolution feature maps (about 1 GB at 512×512 on the CPU)
 * held for one image at a time.
 */
async function decodeOneByOne(model: StableDiffusionModel, latents: Float32Array, latentDims: number[]): Promise<RgbImage[]> {
  const [samples, ...perSample] = latentDims as [number, ...number[]];
  const size = latents.length / samples;
  const images: RgbImage[] = [];
  for (let i = 0; i < samples; i++) {
    const decoded = await model.vaeDecoder.decode(divide(latents.subarray(i * size, (i + 1) * size), model.vaeScalingFactor), [1, ...perSample]);
    images.push(...toRgbImages(decoded.data, decoded.dims, decoded.dtype));
  }
  return images;
}

/** Steps 3 to 5: scheduler, initial latents, the denoising loop. Returns the final latents. */
async function denoise(batch: Batch): Promise<Float32Array> {
  const { model, request, guided, indices, latentDims, options } = batch;
  const scheduler = createScheduler(request.scheduler, model.schedulerConfig);
  scheduler.setTimesteps(request.steps);
  const noise = new SampleNoise(indices.map((i) => request.seed + i), latentDims[1]! * latentDims[2]! * latentDims[3]!);
  // diffusers multiplies by init_noise_sigma read after set_timesteps (for Euler it depends on the sigmas).
  let latents = scale(noise.draw(), scheduler.initNoiseSigma);

  const unetBatch = guided ? 2 * indices.length : indices.length;
  const unetInput = unetConditioning(batch, unetBatch);
  const timesteps = scheduler.timesteps;
  options.signal?.throwIfAborted();
  for (const [i, timestep] of timesteps.entries()) {
    const modelInput = scheduler.scaleModelInput(guided ? duplicateForGuidance(latents) : latents, timestep);
    const prediction = await model.unet.predict({ ...unetInput, sample: modelInput, sampleDims: [unetBatch, ...latentDims.slice(1)], timestep });
    const guidedPrediction = guided ? applyGuidance(prediction, request.guidanceScale) : prediction;
    latents = scheduler.step(guidedPrediction, timestep, latents, { randn: noise.draw }).prevSample;
    reportStep(batch, latents, i + 1, timesteps.length, timestep);
    // Checked after each step, the last one included: an abort from onStep never yields images.
    options.signal?.throwIfAborted();
  }
  return latents;
}

/** The UNet inputs that stay the same across steps: text embeddings, and the guidance embedding for LCM-distilled UNets. */
function unetConditioning(batch: Batch, unetBatch: number) {
  const { model, request, embeddings, indices } = batch;
  // [uncond × n, cond × n]: prompt-major, unconditional first, as diffusers concatenates.
  const encoderHiddenStates = concat(embeddings.rows.flatMap((row) => Array<Float32Array>(indices.length).fill(row)), Float32Array);
  const size = model.unet.guidanceEmbeddingSize;
  const timestepCond =
    model.unet.takesGuidanceEmbedding && size !== undefined
      ? { data: guidanceScaleEmbedding(request.guidanceScale, size, unetBatch), dims: [unetBatch, size] }
      : undefined;
  return { encoderHiddenStates, encoderDims: [unetBatch, embeddings.sequence, embeddings.hidden], ...(timestepCond && { timestepCond }) };
}

function reportStep(batch: Batch, latents: Float32Array, step: number, totalSteps: number, timestep: number): void {
  const { options, indices, latentDims, model } = batch;
  if (!options.onStep) return;
  const previewable = model.latentChannels === 4;
  for (const [i, sampleIndex] of indices.entries()) {
    // An abort from one sample's event silences the rest of the batch's events for this step.
    if (options.signal?.aborted) return;
    options.onStep({
      sampleIndex,
      step,
      totalSteps,
      timestep,
      preview: previewable ? () => latentPreview(latents, latentDims, i) : undefined,
    });
  }
}

function scale(values: Float32Array, factor: number): Float32Array {
  const f = Math.fround(factor);
  return values.map((value) => value * f);
}

/** A true division, as torch 1.13 computes `latents / scaling_factor` (not a multiply by the reciprocal). */
function divide(values: Float32Array, divisor: number): Float32Array {
  const d = Math.fround(divisor);
  return values.map((value) => value / d);
}

function concat<T extends Float32Array | Int32Array>(parts: T[], kind: { new (length: number): T }): T {
  const out = new kind(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

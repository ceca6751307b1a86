/**
 * What a submitted job may ask for. Every limit is a setting (ATELIER_MAX_*; see src/config.ts), and
 * `checkJobParameters` reports every broken one at once, each naming the parameter (as the GraphQL
 * API spells it), the value and what is allowed, before anything is written.
 */
import { SCHEDULER_NAMES, type GenerationRequest } from "../inference/pipeline/generation-request.ts";
import { gigabytes, leastJobMemoryBytes, type ModelMemory } from "../inference/pipeline/memory-budget.ts";
import type { SchedulerName } from "../inference/schedulers/scheduler.ts";
import { UserFacingError } from "../errors.ts";

export interface JobLimits {
  /** Most characters in a prompt (and in a negative prompt), after trimming. */
  promptCharacters: number;
  samples: number;
  steps: number;
  guidanceScale: number;
  /** Longest side in pixels (the shortest allowed is 64). */
  side: number;
  /** Most pixels in one image, in millions (width × height ≤ megapixels × 2^20). */
  megapixels: number;
  /** Memory a worker has for a model and one sample's batch (CPU provider): jobs that need more are refused. */
  workerMemoryBytes: number;
}

/** The smallest side a job may ask for, whatever the model. */
const MIN_SIDE = 64;
/** Seeds are exact integers in a JSON number; sample i uses seed + i. */
const MAX_SEED = Number.MAX_SAFE_INTEGER;

/** What a caller asks for; omitted fields take the model's defaults. */
export interface JobInput {
  prompt: string;
  negativePrompt?: string | null | undefined;
  samples?: number | null | undefined;
  seed?: number | null | undefined;
  steps?: number | null | undefined;
  guidanceScale?: number | null | undefined;
  width?: number | null | undefined;
  height?: number | null | undefined;
  scheduler?: string | null | undefined;
  model?: string | null | undefined;
}

/** Everything a job runs with, checked and complete: the pipeline's request, plus the model's name. */
export interface JobParameters extends Omit<GenerationRequest, "negativePrompt"> {
  /** null when none was given. */
  negativePrompt: string | null;
  model: string;
}

/** What the limits need to know about the model a job names. */
export interface ModelRules {
  name: string;
  /** Width and height must be multiples of this. */
  sizeMultiple: number;
  schedulers: readonly SchedulerName[];
  defaults: { steps: number; guidanceScale: number; width: number; height: number; scheduler: SchedulerName };
  /** What a job of this model needs in host memory; undefined when it runs on a GPU (not estimated). */
  memory?: ModelMemory | undefined;
}

export interface ParameterProblem {
  parameter: keyof JobInput;
  value: unknown;
  /** What is allowed, e.g. "must be a whole number between 1 and 16". */
  allowed: string;
}

/** Thrown when a job breaks the limits; the message lists every problem, each as `parameter=value: allowed`. */
export class JobParametersError extends UserFacingError {
  override readonly name = "JobParametersError";
  constructor(readonly problems: readonly ParameterProblem[]) {
    super(`Invalid job: ${problems.map((p) => `${p.parameter}=${JSON.stringify(p.value)}: ${p.allowed}`).join("; ")}`);
  }
}

/** Samples when the caller gives none (the API contract's default). */
export const DEFAULT_SAMPLES = 4;

/**
 * @param model the rules of the model the input names, or undefined when it names none that exists
 * @param availableModels names to list when the model does not exist
 * @param randomSeed used when the input gives no seed
 */
export function checkJobParameters(
  input: JobInput,
  model: ModelRules | undefined,
  limits: JobLimits,
  availableModels: readonly string[],
  randomSeed: () => number,
): JobParameters {
  const problems: ParameterProblem[] = [];
  const problem = (parameter: keyof JobInput, value: unknown, allowed: string | undefined) => {
    if (allowed) problems.push({ parameter, value, allowed });
  };
  const prompt = typeof input.prompt === "string" ? input.prompt.trim() : "";
  problem("prompt", input.prompt, textRule(prompt, 1, limits.promptCharacters));
  const negativePrompt = input.negativePrompt?.trim() || null;
  problem("negativePrompt", input.negativePrompt, textRule(negativePrompt ?? "", 0, limits.promptCharacters));
  const samples = input.samples ?? DEFAULT_SAMPLES;
  problem("samples", samples, wholeRule(samples, 1, limits.samples));
  const seed = input.seed ?? randomSeed();
  problem("seed", seed, wholeRule(seed, 0, MAX_SEED) ?? (seed > MAX_SEED - (samples - 1) ? `plus samples - 1 must be at most ${MAX_SEED} (sample i uses seed + i)` : undefined));
  problem("guidanceScale", input.guidanceScale, input.guidanceScale == null ? undefined : numberRule(input.guidanceScale, 0, limits.guidanceScale));
  problem("steps", input.steps, input.steps == null ? undefined : wholeRule(input.steps, 1, limits.steps));
  if (!model) {
    problem("model", input.model, `must be one of the models: ${availableModels.join(", ")}`);
    throw new JobParametersError(problems);
  }
  const width = input.width ?? model.defaults.width;
  const height = input.height ?? model.defaults.height;
  problem("width", width, sideRule(width, model, limits));
  problem("height", height, sideRule(height, model, limits));
  const maxPixels = Math.round(limits.megapixels * 2 ** 20);
  if (problems.every((p) => p.parameter !== "width" && p.parameter !== "height") && width * height > maxPixels) {
    problem("width", `${width}x${height}`, `width × height must be at most ${limits.megapixels} megapixels (${maxPixels} pixels), got ${width * height}`);
  }
  const guidanceScale = input.guidanceScale ?? model.defaults.guidanceScale;
  if (problems.length === 0) problem("width", `${width}x${height}`, memoryRule(width, height, guidanceScale, model, limits));
  const scheduler = input.scheduler ?? model.defaults.scheduler;
  problem("scheduler", scheduler, (model.schedulers as readonly string[]).includes(scheduler) ? undefined : `must be one of ${model.schedulers.join(", ")}`);
  if (problems.length > 0) throw new JobParametersError(problems);
  return {
    prompt,
    negativePrompt,
    samples,
    seed,
    steps: input.steps ?? model.defaults.steps,
    guidanceScale,
    width,
    height,
    scheduler: scheduler as SchedulerName,
    model: model.name,
  };
}

/** All of Atelier's schedulers run on every Stable Diffusion model. */
export const ALL_SCHEDULERS: readonly SchedulerName[] = SCHEDULER_NAMES;

function textRule(text: string, min: number, max: number): string | undefined {
  if (text.length < min) return min === 1 ? "must not be empty" : `must be at least ${min} characters`;
  return text.length > max ? `must be at most ${max} characters after trimming, got ${text.length}` : undefined;
}

function numberRule(value: number, min: number, max: number): string | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= min && value <= max ? undefined : `must be a number between ${min} and ${max}`;
}

function wholeRule(value: number, min: number, max: number): string | undefined {
  return Number.isInteger(value) && value >= min && value <= max ? undefined : `must be a whole number between ${min} and ${max}`;
}

/**
 * Whether a worker can hold the model and one sample at this size (larger jobs are split into
 * batches that fit by the worker; a single sample cannot be split). Guidance doubles the UNet batch.
 */
function memoryRule(width: number, height: number, guidanceScale: number, model: ModelRules, limits: JobLimits): string | undefined {
  if (!model.memory) return undefined;
  const needs = leastJobMemoryBytes(model.memory, { width, height }, guidanceScale > 1);
  if (needs <= limits.workerMemoryBytes) return undefined;
  return (
    `a ${width}×${height} image with model ${model.name} needs about ${gigabytes(needs)} of memory ` +
    `(${gigabytes(model.memory.weightBytes)} of weights, the rest to denoise one sample), more than a worker has ` +
    `(${gigabytes(limits.workerMemoryBytes)}, ATELIER_WORKER_MEMORY_GB): ask for a smaller size`
  );
}

function sideRule(value: number, model: ModelRules, limits: JobLimits): string | undefined {
  const min = Math.ceil(MIN_SIDE / model.sizeMultiple) * model.sizeMultiple;
  const ok = Number.isInteger(value) && value >= min && value <= limits.side && value % model.sizeMultiple === 0;
  return ok ? undefined : `must be a multiple of ${model.sizeMultiple} between ${min} and ${limits.side} for model ${model.name}`;
}

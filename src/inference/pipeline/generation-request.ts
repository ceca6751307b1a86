/**
 * What a generation asks for, and the one rule table every boundary checks it against (the CLI, the
 * GraphQL API and the pipeline itself). Every broken rule is reported at once, each naming the field,
 * the value and what is allowed.
 */
import type { SchedulerName } from "../schedulers/scheduler.ts";
import { UserFacingError } from "../../errors.ts";

export const SCHEDULER_NAMES: readonly SchedulerName[] = ["PNDM", "DDIM", "EULER", "EULER_ANCESTRAL", "DPM_PP_2M", "DPM_PP_2M_KARRAS", "LCM"];

export interface GenerationRequest {
  prompt: string;
  /** "" means none, as diffusers encodes a missing negative prompt. */
  negativePrompt: string;
  /** N images of this prompt; sample i uses seed + i. */
  samples: number;
  seed: number;
  steps: number;
  /** Classifier-free guidance applies when > 1. */
  guidanceScale: number;
  width: number;
  height: number;
  scheduler: SchedulerName;
}

export const GENERATION_LIMITS = {
  samples: { min: 1, max: 64 },
  steps: { min: 1, max: 1000 },
  guidanceScale: { min: 0, max: 100 },
  /** The smallest size a model takes is its size multiple (at least 8, as diffusers requires). */
  size: { min: 8, max: 2048 },
  /** Seeds are exact integers in a JSON number: 0 … 2^53 − 1 (for seed + i too). */
  seed: { min: 0, max: Number.MAX_SAFE_INTEGER },
  promptCharacters: { max: 10_000 },
} as const;

/** One broken rule: the field and what it must be, e.g. { field: "width", rule: "must be a multiple of 64 …, got 500" }. */
export interface RequestProblem {
  field: keyof GenerationRequest;
  rule: string;
}

/** Thrown when a request breaks the rules; each boundary words `problems` with its own names for the fields. */
export class GenerationRequestError extends UserFacingError {
  override readonly name = "GenerationRequestError";
  constructor(readonly problems: readonly RequestProblem[]) {
    super(`Invalid generation request: ${problems.map((problem) => `${problem.field} ${problem.rule}`).join("; ")}`);
  }
}

/**
 * @param sizeMultiple width and height must be multiples of this: the VAE scale factor times the
 *   UNet's downsampling (64 for SD 1.x/2.x exports, whose graphs were traced at such sizes), and
 *   never less than 8, the multiple diffusers' check_inputs requires.
 */
export function checkGenerationRequest(request: GenerationRequest, sizeMultiple: number): void {
  const problems: RequestProblem[] = [];
  const check = (field: keyof GenerationRequest, rule: string | undefined) => rule && problems.push({ field, rule });
  check("prompt", promptRule(request.prompt));
  check("negativePrompt", promptRule(request.negativePrompt));
  check("samples", integerRule(request.samples, GENERATION_LIMITS.samples));
  check("seed", integerRule(request.seed, GENERATION_LIMITS.seed) ?? seedRangeRule(request));
  check("steps", integerRule(request.steps, GENERATION_LIMITS.steps));
  check("guidanceScale", rangeRule(request.guidanceScale, GENERATION_LIMITS.guidanceScale));
  check("width", sizeRule(request.width, sizeMultiple));
  check("height", sizeRule(request.height, sizeMultiple));
  if (!(SCHEDULER_NAMES as readonly string[]).includes(request.scheduler)) check("scheduler", `must be one of ${SCHEDULER_NAMES.join(", ")}, got ${JSON.stringify(request.scheduler)}`);
  if (problems.length > 0) throw new GenerationRequestError(problems);
}

function rangeRule(value: number, limits: { min: number; max: number }): string | undefined {
  return Number.isFinite(value) && value >= limits.min && value <= limits.max ? undefined : `must be between ${limits.min} and ${limits.max}, got ${value}`;
}

function integerRule(value: number, limits: { min: number; max: number }): string | undefined {
  return Number.isInteger(value) ? rangeRule(value, limits) : `must be a whole number between ${limits.min} and ${limits.max}, got ${value}`;
}

/** Sample i uses seed + i, which must stay an exact integer too. */
function seedRangeRule(request: GenerationRequest): string | undefined {
  const last = request.seed + Math.max(0, request.samples - 1);
  return Number.isInteger(request.samples) && last > GENERATION_LIMITS.seed.max
    ? `plus samples - 1 must be at most ${GENERATION_LIMITS.seed.max} (sample i uses seed + i), got ${request.seed} with ${request.samples} samples`
    : undefined;
}

function sizeRule(value: number, multiple: number): string | undefined {
  const { max } = GENERATION_LIMITS.size;
  return Number.isInteger(value) && value >= multiple && value <= max && value % multiple === 0
    ? undefined
    : `must be a multiple of ${multiple} between ${multiple} and ${max} for this model, got ${value}`;
}

function promptRule(value: string): string | undefined {
  const { max } = GENERATION_LIMITS.promptCharacters;
  return value.length <= max ? undefined : `must be at most ${max} characters, got ${value.length}`;
}

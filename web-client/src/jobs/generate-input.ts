/**
 * What `generate` is sent: from the Create form, or from a job to run again. Empty fields are
 * left out, so the server applies the model's defaults; the server also checks every limit (they
 * are its settings), and its messages are shown beside the fields.
 */
import type { GenerateInput, JobDetailsFragment, Scheduler } from "../generated/graphql.ts";

/** The Create form as typed: numbers as the text in their fields. */
export interface GenerateForm {
  prompt: string;
  negativePrompt: string;
  model: string;
  /** "" for the model's own. */
  scheduler: Scheduler | "";
  samples: string;
  steps: string;
  guidanceScale: string;
  width: string;
  height: string;
  seed: string;
  randomSeed: boolean;
}

export function formInput(form: GenerateForm): GenerateInput {
  return {
    prompt: form.prompt,
    negativePrompt: form.negativePrompt.trim() || undefined,
    model: form.model || undefined,
    scheduler: form.scheduler || undefined,
    samples: number(form.samples),
    steps: number(form.steps),
    guidanceScale: number(form.guidanceScale),
    width: number(form.width),
    height: number(form.height),
    seed: form.randomSeed ? undefined : number(form.seed),
  };
}

/** The job's parameters again; with `sameSeed`, the same images (generation is deterministic). */
export function rerunInput(job: JobDetailsFragment, { sameSeed }: { sameSeed: boolean }): GenerateInput {
  return {
    prompt: job.prompt.text,
    negativePrompt: job.negativePrompt,
    model: job.model.name,
    scheduler: job.scheduler,
    samples: job.samples,
    steps: job.steps,
    guidanceScale: job.guidanceScale,
    width: job.width,
    height: job.height,
    seed: sameSeed ? job.seed : undefined,
  };
}

/** A seed to show when "random" is turned off: any of the 2^32 the server would pick from. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

function number(text: string): number | undefined {
  return text.trim() === "" ? undefined : Number(text);
}

/**
 * `submitJob`: checks the parameters against the limits and the model, then in ONE transaction
 * upserts the Prompt by its normalized text, creates the Job row, puts it on the queue and announces
 * it (the NOTIFY is delivered on commit, and wakes idle workers). Nothing is written when a
 * parameter is wrong, and a crash can neither lose the job nor queue one without a row.
 */
import { randomInt } from "node:crypto";
import type { Db } from "../db/prisma.ts";
import type { JobStatusEvent } from "../events/job-event.ts";
import { checkJobParameters, type JobInput, type JobParameters } from "./job-limits.ts";
import type { JobPlatform } from "./job-platform.ts";
import type { CatalogModel } from "./model-catalog.ts";
import { normalizePromptText } from "./prompt-text.ts";

/** Random seeds come from 0 … 2^32 − 1: PyTorch's generator, which other tools reproduce, uses the low 32 bits. */
const RANDOM_SEED_LIMIT = 2 ** 32;

export async function submitJob(platform: JobPlatform, input: JobInput): Promise<Db.Job> {
  const model = await platform.catalog.find(input.model);
  const available = model ? [] : (await platform.catalog.list()).map((candidate) => candidate.name);
  const parameters = checkJobParameters(input, model, platform.limits, available, () => randomInt(RANDOM_SEED_LIMIT));
  const notes = truncationNotes(parameters, model!);

  return platform.prisma.$transaction(async (tx) => {
    const normalizedText = normalizePromptText(parameters.prompt);
    const prompt = await tx.prompt.upsert({ where: { normalizedText }, create: { text: parameters.prompt, normalizedText }, update: {} });
    const job = await tx.job.create({
      data: {
        promptId: prompt.id,
        negativePrompt: parameters.negativePrompt,
        samples: parameters.samples,
        seed: BigInt(parameters.seed),
        steps: parameters.steps,
        guidanceScale: parameters.guidanceScale,
        width: parameters.width,
        height: parameters.height,
        scheduler: parameters.scheduler,
        modelName: parameters.model,
        clipModelName: platform.clipModelName,
        notes,
      },
    });
    await platform.queue.enqueue(job.id, tx);
    const event: JobStatusEvent = { type: "status", jobId: job.id, status: job.status, progress: 0, errorMessage: null };
    await platform.events.publish(event, tx);
    return job;
  });
}

/** CLIP's text encoder reads 77 tokens (start, 75, end): say so when a prompt is longer, as diffusers warns. */
function truncationNotes(parameters: JobParameters, model: CatalogModel): string[] {
  const limit = model.tokenizer.modelMaxLength;
  return [
    ["prompt", parameters.prompt],
    ["negative prompt", parameters.negativePrompt ?? ""],
  ].flatMap(([what, text]) => {
    const tokens = model.tokenizer.tokenize(text!).length + 2;
    return tokens > limit ? [`The ${what} is ${tokens} tokens long; the text encoder reads only the first ${limit} (start and end included), so the rest is ignored.`] : [];
  });
}

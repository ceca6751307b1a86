/**
 * `atelier generate "prompt"`: text → ranked images on this machine, without server or database.
 * Writes one PNG per sample (with its parameters embedded) and prints a ranked table, or with
 * `--json` one JSON object on stdout.
 */
import { randomInt } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { Option, type Command } from "commander";
import { loadConfig } from "../config.ts";
import { GENERATION_LIMITS, GenerationRequestError, type GenerationRequest } from "../inference/pipeline/generation-request.ts";
import { SCHEDULER_NAMES, type SchedulerName } from "../inference/schedulers/scheduler.ts";
import type { RankedImage } from "../inference/text-to-image.ts";
import type { OpenedModels } from "../models/open-models.ts";
import { decimalNumber, wholeNumber } from "./option-parsers.ts";
import { createProgressBar } from "./progress-bar.ts";
import { formatTable } from "./text-table.ts";
import { UserFacingError } from "../errors.ts";

interface GenerateFlags {
  negative: string;
  samples: number;
  seed?: number;
  steps?: number;
  guidance?: number;
  width?: number;
  height?: number;
  scheduler?: SchedulerName;
  model?: string;
  clipModel?: string;
  batch?: number;
  out: string;
  json?: boolean;
}

/** The flag a user typed for each request field, so errors speak the CLI's language. */
const FLAG_FOR_FIELD: Record<keyof GenerationRequest, string> = {
  prompt: "<prompt>",
  negativePrompt: "--negative",
  samples: "--samples",
  seed: "--seed",
  steps: "--steps",
  guidanceScale: "--guidance",
  width: "--width",
  height: "--height",
  scheduler: "--scheduler",
};

/** Random seeds are drawn from 0 … 2^32 − 1: PyTorch's generator only uses the low 32 bits. */
const RANDOM_SEED_LIMIT = 2 ** 32;

export function registerGenerateCommand(program: Command): void {
  const { samples, steps, guidanceScale, size, seed } = GENERATION_LIMITS;
  program
    .command("generate")
    .description("Generate images from a prompt on this machine (no server or database needed), ranked by CLIP score.")
    .argument("<prompt>", "what to draw")
    .option("--negative <text>", "negative prompt: what to steer away from", "")
    .option("--samples <n>", `number of images (${samples.min}-${samples.max}); sample i uses seed + i`, wholeNumber(samples.min, samples.max), 4)
    .option("--seed <n>", `seed (${seed.min}-${seed.max}); random when omitted`, wholeNumber(seed.min, seed.max))
    .option("--steps <n>", `denoising steps (${steps.min}-${steps.max}); default from the model`, wholeNumber(steps.min, steps.max))
    .option("--guidance <scale>", `classifier-free guidance scale (${guidanceScale.min}-${guidanceScale.max}); default from the model`, decimalNumber(guidanceScale.min, guidanceScale.max))
    .option("--width <px>", "image width, a multiple of the model's size step; default from the model", wholeNumber(size.min, size.max))
    .option("--height <px>", "image height, a multiple of the model's size step; default from the model", wholeNumber(size.min, size.max))
    .addOption(new Option("--scheduler <name>", "denoising scheduler; default from the model").choices(SCHEDULER_NAMES))
    .option("--model <dir|name>", "Stable Diffusion model (default: ATELIER_SD_MODEL)")
    .option("--clip-model <dir|name>", "CLIP model for scoring (default: ATELIER_CLIP_MODEL)")
    .option("--batch <n>", "samples per UNet run (default: ATELIER_BATCH_SIZE)", wholeNumber(1, 64))
    .option("--out <dir>", "folder for the PNG files", "atelier-images")
    .option("--json", "print one JSON object (images ranked, with files) instead of a table")
    .action((prompt: string, flags: GenerateFlags) => runGenerate(prompt, flags));
}

async function runGenerate(prompt: string, flags: GenerateFlags): Promise<void> {
  const config = loadConfig();
  // Loaded on use, so that `atelier serve --help` does not pay for onnxruntime and sharp.
  const { openModels } = await import("../models/open-models.ts");
  const models = await openModels(config.models, { stableDiffusion: flags.model, clip: flags.clipModel });
  try {
    for (const notice of models.notices) process.stderr.write(`${notice}\n`);
    const defaults = models.stableDiffusion.defaults;
    const request: GenerationRequest = {
      prompt,
      negativePrompt: flags.negative,
      samples: flags.samples,
      seed: flags.seed ?? randomInt(RANDOM_SEED_LIMIT),
      steps: flags.steps ?? defaults.steps,
      guidanceScale: flags.guidance ?? defaults.guidanceScale,
      width: flags.width ?? defaults.width,
      height: flags.height ?? defaults.height,
      scheduler: flags.scheduler ?? defaults.scheduler,
    };
    const images = await generateWithProgress(models, request, flags.batch ?? config.models.batchSize);
    const files = await writeImages(images, flags.out, request);
    process.stdout.write(flags.json ? `${JSON.stringify(jsonReport(models.modelName, models.clipName, request, images, files), null, 2)}\n` : table(images, files));
  } catch (error) {
    if (error instanceof GenerationRequestError) {
      throw new CliUsageError(error.problems.map((problem) => `${FLAG_FOR_FIELD[problem.field]} ${problem.rule}`).join("\n"));
    }
    throw error;
  } finally {
    await models.release();
  }
}

/** A bad flag value found after parsing (one that depends on the model); printed without a stack trace. */
export class CliUsageError extends UserFacingError {
  override readonly name = "CliUsageError";
}

async function generateWithProgress(models: OpenedModels, request: GenerationRequest, batchSize: number) {
  const { textToImage } = await import("../inference/text-to-image.ts");
  const bar = createProgressBar("Generating", " steps");
  let done = 0;
  try {
    return await textToImage(models, request, {
      batchSize,
      onStep: (event) => bar.update(++done, request.samples * event.totalSteps, `sample ${event.sampleIndex + 1}/${request.samples}`),
    });
  } finally {
    bar.stop();
  }
}

async function writeImages(images: RankedImage[], outDir: string, request: GenerationRequest): Promise<string[]> {
  await fs.mkdir(outDir, { recursive: true });
  const stem = slug(request.prompt);
  return Promise.all(
    images.map(async (image) => {
      const file = path.resolve(outDir, `${stem}-${image.seed}.png`);
      await fs.writeFile(file, image.png);
      return file;
    }),
  );
}

function slug(prompt: string): string {
  return prompt.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 48) || "image";
}

function jsonReport(model: string, clipModel: string, request: GenerationRequest, images: RankedImage[], files: string[]) {
  return {
    ...request,
    model,
    clipModel,
    images: images.map((image, i) => ({
      rank: image.rank,
      sampleIndex: image.sampleIndex,
      seed: image.seed,
      clipScore: image.clipScore,
      file: files[i],
      width: image.width,
      height: image.height,
      timingsMs: image.timingsMs,
    })),
  };
}

function table(images: RankedImage[], files: string[]): string {
  const rows = images.map((image, i) => [String(image.rank), String(image.sampleIndex), String(image.seed), image.clipScore.toFixed(2), files[i]!]);
  return formatTable(["rank", "sample", "seed", "CLIP score", "file"], rows);
}

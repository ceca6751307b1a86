/**
 * `atelier inspect …`: the numbers Atelier computes, printed as JSON for comparison with diffusers'
 * and CLIP's own code (token ids, scheduler timesteps and sigmas).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { Option, type Command } from "commander";
import { SCHEDULER_NAMES, type SchedulerName } from "../inference/schedulers/scheduler.ts";
import { wholeNumber } from "./option-parsers.ts";

export function registerInspectCommand(program: Command): void {
  const inspect = program.command("inspect").description("Print Atelier's intermediate numbers as JSON, to compare with diffusers and CLIP.");

  inspect
    .command("tokenize")
    .description("Token ids the text encoder receives for a text (BOS, tokens, EOS, padding to the model's length).")
    .requiredOption("--model <dir>", "Stable Diffusion model folder (its tokenizer/ is used), or a tokenizer folder")
    .argument("<text>", "the text to tokenize")
    .action(async (text: string, flags: { model: string }) => {
      const { ClipTokenizer } = await import("../inference/tokenizer/clip-tokenizer.ts");
      const tokenizer = await ClipTokenizer.fromFolder(tokenizerFolder(flags.model));
      process.stdout.write(`${JSON.stringify(Array.from(tokenizer.encode(text)))}\n`);
    });

  inspect
    .command("scheduler")
    .description("Timesteps, sigmas and init noise sigma of a scheduler built from the model's scheduler_config.json.")
    .requiredOption("--model <dir>", "Stable Diffusion model folder")
    .addOption(new Option("--scheduler <name>", "scheduler").choices(SCHEDULER_NAMES).makeOptionMandatory())
    .requiredOption("--steps <n>", "inference steps", wholeNumber(1, 1000))
    .action(async (flags: { model: string; scheduler: SchedulerName; steps: number }) => {
      const { createScheduler } = await import("../inference/schedulers/index.ts");
      const { readSchedulerConfig } = await import("../inference/models/stable-diffusion-model.ts");
      const scheduler = createScheduler(flags.scheduler, await readSchedulerConfig(flags.model));
      scheduler.setTimesteps(flags.steps);
      const report = {
        timesteps: Array.from(scheduler.timesteps),
        ...(scheduler.sigmas && { sigmas: Array.from(scheduler.sigmas) }),
        initNoiseSigma: scheduler.initNoiseSigma,
      };
      process.stdout.write(`${JSON.stringify(report)}\n`);
    });
}

/** A model folder's tokenizer/, or the folder itself when it is a tokenizer folder. */
function tokenizerFolder(dir: string): string {
  const nested = path.join(dir, "tokenizer");
  return existsSync(nested) ? nested : dir;
}

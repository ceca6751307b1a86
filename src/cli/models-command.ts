/**
 * `atelier models …`: list the models Atelier knows, generate the demo models, pull real ones from
 * the Hugging Face Hub.
 */
import path from "node:path";
import { Option, type Command } from "commander";
import { loadConfig } from "../config.ts";
import { pullRepository } from "../models/hub-download.ts";
import { listModels, type ModelListing } from "../models/list-models.ts";
import { parseModelReference } from "../models/model-reference.ts";
import { DEFAULT_EXPORTER, EXPORTER_GENERATIONS, type ExporterGeneration } from "../models/demo/export-profiles.ts";
import { DEMO_PRESETS, STABLE_DIFFUSION_PRESETS, type DemoPreset, type StableDiffusionPreset } from "../models/demo/presets.ts";
import { createProgressBar } from "./progress-bar.ts";
import { formatTable } from "./text-table.ts";

type Progress = (done: number, total: number, what: string) => void;

export function registerModelsCommand(program: Command): void {
  const models = program
    .command("models")
    .description("List models (demo models are marked: random weights, images are noise); see the subcommands.")
    .option("--json", "print the list as JSON")
    .action(async (flags: { json?: boolean }) => {
      const listing = await listModels(loadConfig().models);
      process.stdout.write(flags.json ? `${JSON.stringify(listing, null, 2)}\n` : modelsTable(listing));
    });

  models
    .command("make-demo")
    .description("Generate the demo Stable Diffusion and CLIP models (random weights, real layouts). Deterministic: same bytes every run.")
    .addOption(
      new Option("--preset <preset>", "size of the models (sd15: Stable Diffusion 1.5's full size, no CLIP model; 4.3 GB in fp32, 2.1 GB in fp16)")
        .choices(STABLE_DIFFUSION_PRESETS)
        .default("tiny"),
    )
    .option("--out <dir>", "parent folder for demo-sd-<preset>/ and demo-clip-<preset>/ (default: <data dir>/models)")
    .addOption(new Option("--exporter <generation>", "which real exporter's layout the Stable Diffusion folder copies").choices(EXPORTER_GENERATIONS).default(DEFAULT_EXPORTER))
    .addOption(new Option("--dtype <dtype>", "float type of the Stable Diffusion weights and inputs").choices(["float32", "float16"]).default("float32"))
    .action(async (flags: { preset: StableDiffusionPreset; out?: string; exporter: ExporterGeneration; dtype: "float32" | "float16" }) => {
      const parent = path.resolve(flags.out ?? loadConfig().models.dir);
      const { makeDemoStableDiffusion } = await import("../models/demo/stable-diffusion.ts");
      const { makeDemoClip } = await import("../models/demo/write-clip.ts");
      // A non-default layout gets its own folder name, so it never replaces the demo model Atelier runs.
      const variant = flags.exporter === DEFAULT_EXPORTER && flags.dtype === "float32" ? "" : `-${flags.exporter}-${flags.dtype}`;
      // CLIP has no full-size preset: sd15 makes the Stable Diffusion folder only.
      const clipPreset = DEMO_PRESETS.find((preset): preset is DemoPreset => preset === flags.preset);
      const jobs = [
        { dir: path.join(parent, `demo-sd-${flags.preset}${variant}`), make: (outDir: string, onProgress: Progress) => makeDemoStableDiffusion({ preset: flags.preset, outDir, exporter: flags.exporter, dtype: flags.dtype, onProgress }) },
        ...(clipPreset ? [{ dir: path.join(parent, `demo-clip-${clipPreset}`), make: (outDir: string, onProgress: Progress) => makeDemoClip({ preset: clipPreset, outDir, onProgress }) }] : []),
      ];
      for (const job of jobs) {
        const bar = createProgressBar(`Making ${path.basename(job.dir)}`);
        try {
          await job.make(job.dir, (done, total, what) => bar.update(done, total, what));
        } finally {
          bar.stop();
        }
        process.stderr.write(`${job.dir}\n`);
      }
      process.stderr.write("Demo models have random weights: their images are noise and their CLIP scores are meaningless.\n");
    });

  models
    .command("pull")
    .description("Download a model repo from the Hugging Face Hub (HF_ENDPOINT, HF_TOKEN) into <data dir>/models/hub/.")
    .argument("<repo>", 'repo id, e.g. "Xenova/clip-vit-base-patch32"')
    .option("--revision <rev>", "branch, tag or commit", "main")
    .action(async (repo: string, flags: { revision: string }) => {
      const config = loadConfig();
      const reference = parseModelReference(repo, config.models.dir);
      if (reference.kind !== "hub") throw new Error(`"${repo}" is not a Hugging Face repo id (org/name)`);
      const bar = createProgressBar(`Pulling ${repo}`, " bytes");
      try {
        const { files } = await pullRepository(repo, reference.dir, {
          endpoint: config.models.hub.endpoint,
          token: config.models.hub.token,
          revision: flags.revision,
          onProgress: (progress) => bar.update(progress.bytes, progress.totalBytes, progress.file),
        });
        bar.stop();
        process.stderr.write(`${repo}: ${files.length} files in ${reference.dir}\n`);
      } finally {
        bar.stop();
      }
    });
}

function modelsTable(listing: ModelListing[]): string {
  const rows = listing.map((model) => [
    model.name,
    model.kind,
    model.present ? "yes" : "no",
    [...model.configuredAs, ...(model.demo ? ["DEMO: random weights, images are noise, scores meaningless"] : [])].join(" · "),
  ]);
  return formatTable(["name", "kind", "on disk", "notes"], rows);
}

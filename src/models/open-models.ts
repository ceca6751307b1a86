/**
 * The Stable Diffusion and CLIP models a process generates with, resolved from the configuration
 * (or a CLI override), made available on disk, and loaded into onnxruntime sessions once.
 */
import type { ModelsConfig } from "../config.ts";
import { loadClipScorer } from "../inference/clip/clip-scorer.ts";
import { loadStableDiffusion } from "../inference/models/stable-diffusion-model.ts";
import type { TextToImageModels } from "../inference/text-to-image.ts";
import { isDemoModelFolder } from "./demo-marker.ts";
import { ensureModel, type GenerationProgress } from "./ensure-model.ts";
import { parseModelReference } from "./model-reference.ts";

export interface OpenedModels extends TextToImageModels {
  clipName: string;
  /** Things the user should know, e.g. that a demo model makes noise. */
  notices: string[];
  release(): Promise<void>;
}

export interface OpenModelsOptions {
  /** Model references that replace the configured ones (CLI flags). */
  stableDiffusion?: string | undefined;
  clip?: string | undefined;
  /** Progress of generating a demo model on first use. */
  onProgress?: (model: string) => GenerationProgress;
}

export async function openModels(config: ModelsConfig, options: OpenModelsOptions = {}): Promise<OpenedModels> {
  const sdReference = parseModelReference(options.stableDiffusion ?? config.stableDiffusion, config.dir);
  const clipReference = parseModelReference(options.clip ?? config.clip, config.dir);
  const sdDir = await ensureModel(sdReference, options.onProgress?.(sdReference.name));
  const clipDir = await ensureModel(clipReference, options.onProgress?.(clipReference.name));
  const stableDiffusion = await loadStableDiffusion(sdDir, config.runtime);
  const clip = await loadClipScorer(clipDir, { batchSize: config.batchSize }).catch(async (error: unknown) => {
    await stableDiffusion.release();
    throw error;
  });
  return {
    stableDiffusion,
    clip,
    modelName: sdReference.name,
    clipName: clipReference.name,
    notices: [...demoNotices([sdReference.name, sdDir], [clipReference.name, clipDir]), ...stableDiffusion.warnings],
    release: async () => {
      await Promise.all([stableDiffusion.release(), clip.release()]);
    },
  };
}

function demoNotices(...models: [name: string, dir: string][]): string[] {
  return models
    .filter(([, dir]) => isDemoModelFolder(dir))
    .map(
      ([name]) =>
        `Note: ${name} is a generated demo model with random weights: its images are noise and its CLIP scores are meaningless. ` +
        `See "Real models" in the README to use Stable Diffusion and CLIP.`,
    );
}

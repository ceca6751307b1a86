/**
 * A whole generation, as the CLI and the workers run it: denoise N samples, score each against the
 * prompt with CLIP, rank them, and encode the files (PNG with its parameters, WebP thumbnail).
 */
import type { ClipScorer } from "./clip/clip-scorer.ts";
import { rankByScore } from "./clip/rank-by-score.ts";
import type { StableDiffusionModel } from "./models/stable-diffusion-model.ts";
import { encodeSampleFiles } from "./output/encode-image.ts";
import type { GenerationRequest } from "./pipeline/generation-request.ts";
import { generate, type GenerateOptions } from "./pipeline/stable-diffusion-pipeline.ts";

export interface TextToImageModels {
  stableDiffusion: StableDiffusionModel;
  clip: ClipScorer;
  /** The Stable Diffusion model's name as users know it; written into each PNG's parameters. */
  modelName: string;
}

export interface RankedImage {
  sampleIndex: number;
  seed: number;
  /** 1 = best CLIP score in this generation; ties go to the lower sample index. */
  rank: number;
  /** 100 × cosine(CLIP image embedding, CLIP text embedding). */
  clipScore: number;
  width: number;
  height: number;
  png: Buffer;
  thumbnail: Buffer;
  timingsMs: { textEncoder: number; denoise: number; vaeDecode: number; clip: number; encode: number };
}

/** Images come back in rank order. */
export async function textToImage(models: TextToImageModels, request: GenerationRequest, options: GenerateOptions = {}): Promise<RankedImage[]> {
  const samples = await generate(models.stableDiffusion, request, options);
  options.signal?.throwIfAborted();

  const scoringStarted = performance.now();
  const scores = await models.clip.score(request.prompt, samples.map((sample) => sample.image));
  const clipMs = (performance.now() - scoringStarted) / samples.length;
  const ranks = rankByScore(scores);

  const ranked = await Promise.all(
    samples.map(async (sample, i) => {
      const encodingStarted = performance.now();
      const { png, thumbnail } = await encodeSampleFiles(sample.image, { ...request, seed: sample.seed, model: models.modelName });
      return {
        sampleIndex: sample.sampleIndex,
        seed: sample.seed,
        rank: ranks[i]!,
        clipScore: scores[i]!,
        width: sample.image.width,
        height: sample.image.height,
        png,
        thumbnail,
        timingsMs: { ...sample.timingsMs, clip: clipMs, encode: performance.now() - encodingStarted },
      };
    }),
  );
  return ranked.sort((a, b) => a.rank - b.rank);
}

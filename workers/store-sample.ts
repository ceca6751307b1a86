/**
 * One finished sample, made durable: scored by CLIP, encoded (PNG with its generation parameters,
 * WebP thumbnail), written to the image store under content-addressed keys, and recorded as its
 * Image row. The keys are noted as pending before the objects are written and the note is removed
 * with the row's insert (src/jobs/pending-objects.ts), so an object a dying worker wrote without
 * its row is found and deleted. A sample that already has its row is never written twice.
 */
import { createHash } from "node:crypto";
import type { Db } from "../src/db/prisma.ts";
import type { ClipScorer } from "../src/inference/clip/clip-scorer.ts";
import { clipScore } from "../src/inference/clip/clip-score.ts";
import { encodeSampleFiles } from "../src/inference/output/encode-image.ts";
import type { GeneratedSample } from "../src/inference/pipeline/stable-diffusion-pipeline.ts";
import type { JobPlatform } from "../src/jobs/job-platform.ts";
import { notePendingObjects } from "../src/jobs/pending-objects.ts";
import { contentKey } from "../src/storage/image-store.ts";

export interface SampleContext {
  platform: JobPlatform;
  job: Db.Job & { prompt: Db.Prompt };
  clip: ClipScorer;
  /** The prompt's CLIP text embedding, computed once per job. */
  textEmbedding: Float32Array;
}

export async function storeSample(context: SampleContext, sample: GeneratedSample): Promise<Db.Image> {
  const { platform, job } = context;
  const scoringStarted = performance.now();
  const [imageEmbedding] = await context.clip.embedImages([sample.image]);
  const score = clipScore(context.textEmbedding, imageEmbedding!);
  const clipMs = performance.now() - scoringStarted;

  const encodingStarted = performance.now();
  const { png, thumbnail } = await encodeSampleFiles(sample.image, {
    prompt: job.prompt.text,
    negativePrompt: job.negativePrompt ?? "",
    steps: job.steps,
    scheduler: job.scheduler,
    guidanceScale: job.guidanceScale,
    seed: sample.seed,
    width: job.width,
    height: job.height,
    model: job.modelName,
  });
  const encodeMs = performance.now() - encodingStarted;
  const sha256 = createHash("sha256").update(png).digest("hex");
  const storageKey = contentKey(sha256, "png");
  const thumbnailKey = contentKey(createHash("sha256").update(thumbnail).digest("hex"), "webp");

  await notePendingObjects(platform.prisma, job.id, [storageKey, thumbnailKey]);
  await Promise.all([platform.store.put(storageKey, png, "image/png"), platform.store.put(thumbnailKey, thumbnail, "image/webp")]);
  return platform.prisma.$transaction(async (tx) => {
    const image = await tx.image.upsert({
      where: { jobId_sampleIndex: { jobId: job.id, sampleIndex: sample.sampleIndex } },
      update: {},
      create: {
        jobId: job.id,
        promptId: job.promptId,
        sampleIndex: sample.sampleIndex,
        seed: BigInt(sample.seed),
        clipScore: score,
        clipEmbedding: Array.from(normalized(imageEmbedding!)),
        width: sample.image.width,
        height: sample.image.height,
        format: "png",
        storageKey,
        thumbnailKey,
        byteSize: png.length,
        sha256,
        timingsMs: { ...sample.timingsMs, clip: clipMs, encode: encodeMs },
      },
    });
    await tx.pendingObject.deleteMany({ where: { jobId: job.id, key: { in: [storageKey, thumbnailKey] } } });
    return image;
  });
}

function normalized(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  const scale = 1 / Math.sqrt(norm);
  return vector.map((value) => value * scale);
}

/**
 * Batching per request (DataLoader): every Job, Prompt and Image a query names by id, every job's
 * images, every prompt's best image and every waiting job's queue standing are fetched with one SQL
 * query (two for standings) per kind however many the response holds, so a gallery page with its jobs and prompts, or a page of prompts with their
 * best images, costs a constant number of queries (a prompt's counts are columns of its row).
 *
 * Rows found by id are cached for the loaders' life. What changes while jobs run (a job's images,
 * a prompt's best image, a queue standing) is batched but not cached: a subscription keeps one context,
 * so one set of loaders, for all its events, and its last event must not show the first one's images.
 */
import DataLoader from "dataloader";
import { IMAGE_ROW_COLUMNS, WITHOUT_EMBEDDING, type Db, type ImageRow, type PrismaClient } from "../db/prisma.ts";
import { queueStandings, type QueueStanding } from "../jobs/gallery.ts";
import type { JobPlatform } from "../jobs/job-platform.ts";

export interface Loaders {
  job: DataLoader<string, Db.Job | null>;
  prompt: DataLoader<string, Db.Prompt | null>;
  image: DataLoader<string, ImageRow | null>;
  /** A job's images, rank 1 first, unranked ones last by sample index. */
  imagesOfJob: DataLoader<string, ImageRow[]>;
  /** A prompt's best image by CLIP score (ties by id, as in its gallery), or null. */
  bestImageOfPrompt: DataLoader<string, ImageRow | null>;
  /** A QUEUED job's place in the queue and wait, or null once it is not waiting. */
  queueStanding: DataLoader<string, QueueStanding | null>;
}

export function createLoaders(platform: JobPlatform): Loaders {
  const { prisma } = platform;
  return {
    job: byId((ids) => prisma.job.findMany({ where: { id: { in: ids } } })),
    prompt: byId((ids) => prisma.prompt.findMany({ where: { id: { in: ids } } })),
    image: byId((ids) => prisma.image.findMany({ where: { id: { in: ids } }, omit: WITHOUT_EMBEDDING })),
    imagesOfJob: uncached(async (jobIds) => {
      const images = await prisma.image.findMany({ where: { jobId: { in: [...jobIds] } }, orderBy: [{ rank: { sort: "asc", nulls: "last" } }, { sampleIndex: "asc" }], omit: WITHOUT_EMBEDDING });
      return jobIds.map((jobId) => images.filter((image) => image.jobId === jobId));
    }),
    bestImageOfPrompt: uncached(async (promptIds) => {
      const best = await bestImages(prisma, [...new Set(promptIds)]);
      const byPrompt = new Map(best.map((image) => [image.promptId, image]));
      return promptIds.map((promptId) => byPrompt.get(promptId) ?? null);
    }),
    queueStanding: uncached(async (jobIds) => {
      const standings = await queueStandings(platform, jobIds);
      return jobIds.map((jobId) => standings.get(jobId) ?? null);
    }),
  };
}

function byId<T extends { id: string }>(fetch: (ids: string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    const rows = await fetch([...ids]);
    const found = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

function uncached<V>(batch: (keys: readonly string[]) => Promise<V[]>): DataLoader<string, V> {
  return new DataLoader(batch, { cache: false });
}

/**
 * The first image of each prompt's gallery order, in one query. Prisma's `distinct` picks rows in
 * the client after reading every image of the prompts; DISTINCT ON reads one per prompt, walking
 * the ("promptId", "clipScore" DESC, id) index. The columns are the Image table's own (but the embedding), so each row
 * comes back as Prisma types them (uuid and text as strings, int8 as bigint, timestamptz as Date).
 */
function bestImages(prisma: PrismaClient, promptIds: string[]): Promise<ImageRow[]> {
  return prisma.$queryRaw<ImageRow[]>`
    SELECT DISTINCT ON ("promptId") ${IMAGE_ROW_COLUMNS} FROM "Image"
    WHERE "promptId" = ANY(${promptIds}::uuid[])
    ORDER BY "promptId", "clipScore" DESC, id`;
}

/**
 * Batching per request (DataLoader): every Job, Prompt and Image a query names by id, every job's
 * images, and every prompt's best image are fetched with one SQL query per kind however many the
 * response holds, so a gallery page with its jobs and prompts, or a page of prompts with their
 * best images, costs a constant number of queries (a prompt's counts are columns of its row).
 *
 * Rows found by id are cached for the loaders' life. What grows while a job runs (a job's images,
 * a prompt's best image) is batched but not cached: a subscription keeps one context,
 * so one set of loaders, for all its events, and its last event must not show the first one's images.
 */
import DataLoader from "dataloader";
import type { Db, PrismaClient } from "../db/prisma.ts";

export interface Loaders {
  job: DataLoader<string, Db.Job | null>;
  prompt: DataLoader<string, Db.Prompt | null>;
  image: DataLoader<string, Db.Image | null>;
  /** A job's images, rank 1 first, unranked ones last by sample index. */
  imagesOfJob: DataLoader<string, Db.Image[]>;
  /** A prompt's best image by CLIP score (ties by id, as in its gallery), or null. */
  bestImageOfPrompt: DataLoader<string, Db.Image | null>;
}

export function createLoaders(prisma: PrismaClient): Loaders {
  return {
    job: byId((ids) => prisma.job.findMany({ where: { id: { in: ids } } })),
    prompt: byId((ids) => prisma.prompt.findMany({ where: { id: { in: ids } } })),
    image: byId((ids) => prisma.image.findMany({ where: { id: { in: ids } } })),
    imagesOfJob: uncached(async (jobIds) => {
      const images = await prisma.image.findMany({ where: { jobId: { in: [...jobIds] } }, orderBy: [{ rank: { sort: "asc", nulls: "last" } }, { sampleIndex: "asc" }] });
      return jobIds.map((jobId) => images.filter((image) => image.jobId === jobId));
    }),
    bestImageOfPrompt: uncached(async (promptIds) => {
      const best = await bestImages(prisma, [...new Set(promptIds)]);
      const byPrompt = new Map(best.map((image) => [image.promptId, image]));
      return promptIds.map((promptId) => byPrompt.get(promptId) ?? null);
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
 * the ("promptId", "clipScore" DESC, id) index. The columns are the Image table's own, so each row
 * comes back as Prisma types them (uuid and text as strings, int8 as bigint, timestamptz as Date).
 */
function bestImages(prisma: PrismaClient, promptIds: string[]): Promise<Db.Image[]> {
  return prisma.$queryRaw<Db.Image[]>`
    SELECT DISTINCT ON ("promptId") * FROM "Image"
    WHERE "promptId" = ANY(${promptIds}::uuid[])
    ORDER BY "promptId", "clipScore" DESC, id`;
}

/**
 * Batching per request (DataLoader): every Job, Prompt and Image a query names by id, and every
 * job's images, are fetched with one SQL query per kind however many the response holds, so a
 * gallery page with its jobs and prompts costs a constant number of queries.
 */
import DataLoader from "dataloader";
import type { Db, PrismaClient } from "../db/prisma.ts";

export interface Loaders {
  job: DataLoader<string, Db.Job | null>;
  prompt: DataLoader<string, Db.Prompt | null>;
  image: DataLoader<string, Db.Image | null>;
  /** A job's images, rank 1 first, unranked ones last by sample index. */
  imagesOfJob: DataLoader<string, Db.Image[]>;
}

export function createLoaders(prisma: PrismaClient): Loaders {
  return {
    job: byId((ids) => prisma.job.findMany({ where: { id: { in: ids } } })),
    prompt: byId((ids) => prisma.prompt.findMany({ where: { id: { in: ids } } })),
    image: byId((ids) => prisma.image.findMany({ where: { id: { in: ids } } })),
    imagesOfJob: new DataLoader(async (jobIds) => {
      const images = await prisma.image.findMany({ where: { jobId: { in: [...jobIds] } }, orderBy: [{ rank: { sort: "asc", nulls: "last" } }, { sampleIndex: "asc" }] });
      return jobIds.map((jobId) => images.filter((image) => image.jobId === jobId));
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

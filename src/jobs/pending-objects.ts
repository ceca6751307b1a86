/**
 * Write-ahead notes for image-store objects, so no object outlives its row. A worker notes an
 * object's key before writing it and removes the note in the transaction that inserts the Image
 * row; deleting an image notes its keys in the transaction that deletes the row. Whatever note is
 * left (the process died in between) names an object that may have no row: `deletePendingObjects`
 * deletes such objects, unless a row or another job's note still refers to the key (identical
 * images share content-addressed keys).
 */
import type { Db } from "../db/prisma.ts";
import type { JobPlatform } from "./job-platform.ts";

type Writer = Pick<Db.Prisma.TransactionClient, "pendingObject">;

export async function notePendingObjects(db: Writer, jobId: string, keys: readonly string[]): Promise<void> {
  await db.pendingObject.createMany({ data: keys.map((key) => ({ jobId, key })), skipDuplicates: true });
}

/** Settles the job's notes (only those of `keys` when given). Returns how many objects were deleted. */
export async function deletePendingObjects(platform: JobPlatform, jobId: string, keys?: readonly string[]): Promise<number> {
  const pending = await platform.prisma.pendingObject.findMany({ where: { jobId, ...(keys && { key: { in: [...keys] } }) } });
  let deleted = 0;
  for (const { key } of pending) {
    const [referenced, pendingElsewhere] = await Promise.all([
      platform.prisma.image.count({ where: { OR: [{ storageKey: key }, { thumbnailKey: key }] } }),
      platform.prisma.pendingObject.count({ where: { key, jobId: { not: jobId } } }),
    ]);
    if (referenced === 0 && pendingElsewhere === 0) {
      await platform.store.delete(key);
      deleted++;
    }
    // deleteMany: another caller settling the same note at the same moment is not an error.
    await platform.prisma.pendingObject.deleteMany({ where: { jobId, key } });
  }
  return deleted;
}

/**
 * Settles notes left behind for jobs no worker runs now (notes of a RUNNING job belong to its
 * worker's writes in progress). Run periodically by every worker. Returns how many objects went.
 */
export async function sweepPendingObjects(platform: JobPlatform, olderThanSeconds: number): Promise<number> {
  const cutoff = new Date(Date.now() - olderThanSeconds * 1000);
  const jobs = await platform.prisma.pendingObject.findMany({
    where: { createdAt: { lt: cutoff }, job: { status: { not: "RUNNING" } } },
    distinct: ["jobId"],
    select: { jobId: true },
  });
  let deleted = 0;
  for (const { jobId } of jobs) deleted += await deletePendingObjects(platform, jobId);
  return deleted;
}

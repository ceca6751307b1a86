/**
 * `deleteJob`: removes a finished job with its images, rows and objects together. The Prompt row
 * stays: other jobs may use it, and it is what a gallery is found by.
 *
 * The order is write-ahead, as in `deleteImage`, so no crash leaves an object that nothing will
 * delete:
 *  1. One transaction refuses a job a worker may still write for, notes every key of the job's
 *     images as a pending object of the job, and deletes the Image rows.
 *  2. The job's notes are settled (src/jobs/pending-objects.ts): each object is deleted unless
 *     another row, or another job's note, still names its key (identical images share
 *     content-addressed keys, so a twin job's images keep theirs).
 *  3. Only then the Job row goes. PendingObject rows cascade with it, so deleting it in step 1
 *     would drop the very notes that step 2 works from, and a crash in between would orphan the
 *     objects.
 * A crash after step 1 leaves the job's row without images, with its notes: the workers' sweep
 * deletes the objects, and calling deleteJob again finishes the job.
 */
import type { Db } from "../db/prisma.ts";
import { checkId, JobStateError, NotFoundError, type JobPlatform } from "./job-platform.ts";
import { deletePendingObjects, notePendingObjects } from "./pending-objects.ts";

/** Deletes the job; returns its row as it was. */
export async function deleteJob(platform: JobPlatform, jobId: string): Promise<Db.Job> {
  checkId(jobId, "job");
  const job = await platform.prisma.$transaction(async (tx) => {
    const found = await lockFinishedJob(tx, jobId);
    const images = await tx.image.findMany({ where: { jobId }, select: { storageKey: true, thumbnailKey: true } });
    await notePendingObjects(tx, jobId, images.flatMap((image) => [image.storageKey, image.thumbnailKey]));
    await tx.image.deleteMany({ where: { jobId } });
    return found;
  });
  // All the job's notes, also any an earlier attempt's crash left: they would cascade away with the row.
  await deletePendingObjects(platform, jobId);
  // deleteMany: a concurrent call for the same job may have removed the row already.
  await platform.prisma.job.deleteMany({ where: { id: jobId } });
  return job;
}

/**
 * The job's row, locked against a worker: one that still holds the job may store a sample (its
 * Image insert waits on this lock) and would write an object after we settled the notes.
 */
async function lockFinishedJob(tx: Db.Prisma.TransactionClient, jobId: string): Promise<Db.Job> {
  const [locked] = await tx.$queryRaw<{ status: Db.JobStatus; workerId: string | null }[]>`SELECT status, "workerId" FROM "Job" WHERE id = ${jobId}::uuid FOR UPDATE`;
  if (!locked) throw new NotFoundError(`No job has the id ${jobId}`);
  if (locked.status === "QUEUED" || locked.status === "RUNNING") throw new JobStateError(`Job ${jobId} is ${locked.status}; cancel it first`);
  // A cancelled RUNNING job keeps its worker until that worker has stopped and ranked what it kept.
  if (locked.workerId !== null) throw new JobStateError(`Job ${jobId} was cancelled and its worker is still stopping; try again in a few seconds`);
  return tx.job.findUniqueOrThrow({ where: { id: jobId } });
}

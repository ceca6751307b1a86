/**
 * The states a job moves through while workers run it, each change one transaction that also
 * updates the queue entry and announces the new status:
 *
 *   QUEUED ──startAttempt──▶ RUNNING ──finishJob──▶ SUCCEEDED
 *                              │  └──(cancelJob)──▶ CANCELED ──finishJob: rank the images kept
 *                              └──failAttempt──▶ QUEUED again, or FAILED after the last attempt
 *
 * A RUNNING job whose worker stopped heartbeating (killed, machine lost; workers/heartbeat-thread.ts
 * beats) is failed the same way by `recoverStaleJobs`, so another worker takes it up (and a job
 * cancelled while such a worker ran it is wrapped up there). Images are written once per (job,
 * sample index), so a job taken up again makes only the samples it lacks.
 */
import { rankByScore } from "../inference/clip/rank-by-score.ts";
import type { Db } from "../db/prisma.ts";
import type { JobPlatform } from "./job-platform.ts";

type Transaction = Db.Prisma.TransactionClient;

/**
 * Marks a claimed job RUNNING on this worker. Returns undefined when there is nothing to run: the
 * job was cancelled (or has finished) while its queue entry waited, so the entry is closed.
 */
export async function startAttempt(platform: JobPlatform, jobId: string, workerId: string): Promise<Db.Job | undefined> {
  return platform.prisma.$transaction(async (tx) => {
    // The database's clock, not this machine's, stamps heartbeats: workers on other machines compare them.
    // RUNNING too: pg-boss handed the entry out again only because whoever ran it is gone.
    const claimed = await tx.$executeRaw`
      UPDATE "Job" SET status = 'RUNNING', attempts = attempts + 1, "workerId" = ${workerId},
                       "heartbeatAt" = now(), "startedAt" = now(), "errorMessage" = NULL
      WHERE id = ${jobId}::uuid AND status IN ('QUEUED', 'RUNNING')`;
    if (claimed === 0) {
      await platform.queue.complete(jobId, tx);
      return undefined;
    }
    const started = await tx.job.findUniqueOrThrow({ where: { id: jobId } });
    await platform.events.publish({ type: "status", jobId, status: "RUNNING", progress: started.progress, errorMessage: null }, tx);
    return started;
  });
}

/**
 * Ends an attempt that made all its images (SUCCEEDED), or one whose job was cancelled meanwhile
 * (it stays CANCELED): either way the images kept are ranked and the queue entry is closed.
 */
export async function finishJob(platform: JobPlatform, jobId: string): Promise<Db.Job> {
  return platform.prisma.$transaction(async (tx) => {
    await rankImages(tx, jobId);
    const [succeeded] = await tx.job.updateManyAndReturn({
      where: { id: jobId, status: "RUNNING" },
      data: { status: "SUCCEEDED", progress: 1, finishedAt: new Date(), workerId: null, heartbeatAt: null },
    });
    await platform.queue.complete(jobId, tx);
    if (succeeded) {
      await platform.events.publish({ type: "status", jobId, status: "SUCCEEDED", progress: 1, errorMessage: null }, tx);
      return succeeded;
    }
    return tx.job.update({ where: { id: jobId }, data: { workerId: null, heartbeatAt: null } });
  });
}

/**
 * Ends a failed attempt: the job is QUEUED again for another worker, or FAILED with the error once
 * it has used its attempts. Only the worker that runs the job (or, for a dead worker, the recovery)
 * calls this; a job cancelled meanwhile stays CANCELED.
 */
export async function failAttempt(platform: JobPlatform, job: Pick<Db.Job, "id" | "attempts">, message: string, maxAttempts: number): Promise<Db.JobStatus> {
  return platform.prisma.$transaction((tx) => failAttemptIn(tx, platform, job, message, maxAttempts));
}

async function failAttemptIn(tx: Transaction, platform: JobPlatform, job: Pick<Db.Job, "id" | "attempts">, message: string, maxAttempts: number) {
  const final = job.attempts >= maxAttempts;
  const errorMessage = final && maxAttempts > 1 ? `${message} (attempt ${job.attempts} of ${maxAttempts})` : message;
  const [updated] = await tx.job.updateManyAndReturn({
    where: { id: job.id, status: "RUNNING" },
    data: final
      ? { status: "FAILED", errorMessage, finishedAt: new Date(), workerId: null, heartbeatAt: null }
      : { status: "QUEUED", errorMessage, workerId: null, heartbeatAt: null },
  });
  if (!updated) {
    // Cancelled meanwhile: close the entry and keep the images made so far, ranked.
    await rankImages(tx, job.id);
    await platform.queue.complete(job.id, tx);
    await tx.job.update({ where: { id: job.id }, data: { workerId: null, heartbeatAt: null } });
    return "CANCELED";
  }
  if (final) await rankImages(tx, job.id);
  await platform.queue.retryOrFail(job.id, message, tx);
  await platform.events.publish({ type: "status", jobId: job.id, status: updated.status, progress: updated.progress, errorMessage }, tx);
  return updated.status;
}

/**
 * RUNNING jobs whose worker has not heartbeated for `timeoutSeconds` are failed (and so taken up
 * again, or FAILED after their last attempt). Safe to run from every worker at once: each stale
 * job is locked by one of them. A worker passes its own id: it knows its own jobs are alive.
 * Returns the ids recovered.
 */
export async function recoverStaleJobs(platform: JobPlatform, timeoutSeconds: number, maxAttempts: number, ownWorkerId?: string): Promise<string[]> {
  const recovered: string[] = [];
  await platform.prisma.$transaction(async (tx) => {
    const stale = await tx.$queryRaw<{ id: string; attempts: number; workerId: string | null }[]>`
      SELECT id, attempts, "workerId" FROM "Job"
      WHERE status = 'RUNNING' AND "heartbeatAt" < now() - make_interval(secs => ${timeoutSeconds})
        AND "workerId" IS DISTINCT FROM ${ownWorkerId ?? ""}
      FOR UPDATE SKIP LOCKED`;
    for (const job of stale) {
      await failAttemptIn(tx, platform, job, `worker ${job.workerId ?? "?"} stopped heartbeating for over ${timeoutSeconds} s`, maxAttempts);
      recovered.push(job.id);
    }
    // Cancelled while running, and its worker died before wrapping up: rank what it kept, close the entry.
    const abandoned = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM "Job"
      WHERE status = 'CANCELED' AND "workerId" IS NOT NULL AND "heartbeatAt" < now() - make_interval(secs => ${timeoutSeconds})
      FOR UPDATE SKIP LOCKED`;
    for (const job of abandoned) {
      await rankImages(tx, job.id);
      await platform.queue.complete(job.id, tx);
      await tx.job.update({ where: { id: job.id }, data: { workerId: null, heartbeatAt: null } });
      recovered.push(job.id);
    }
  });
  return recovered;
}

/** Rank 1..n among the job's images by CLIP score, ties by sample index. */
export async function rankImages(tx: Transaction, jobId: string): Promise<void> {
  const images = await tx.image.findMany({ where: { jobId }, orderBy: { sampleIndex: "asc" }, select: { id: true, clipScore: true, rank: true } });
  const ranks = rankByScore(images.map((image) => image.clipScore));
  for (const [i, image] of images.entries()) {
    if (image.rank !== ranks[i]) await tx.image.update({ where: { id: image.id }, data: { rank: ranks[i]! } });
  }
}

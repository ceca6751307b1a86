/**
 * `cancelJob`: a QUEUED job is taken off the queue and ends CANCELED at once. A RUNNING job ends
 * CANCELED here too; its worker hears the status event and stops within one denoising step,
 * keeping (and ranking) the images it had finished. A finished job cannot be cancelled.
 */
import type { Db } from "../db/prisma.ts";
import { isFinalStatus } from "../events/job-event.ts";
import { checkId, JobStateError, NotFoundError, type JobPlatform } from "./job-platform.ts";

export async function cancelJob(platform: JobPlatform, jobId: string): Promise<Db.Job> {
  checkId(jobId, "job");
  return platform.prisma.$transaction(async (tx) => {
    // The row lock orders this against a worker claiming or finishing the job at the same moment.
    const [locked] = await tx.$queryRaw<{ status: Db.JobStatus }[]>`SELECT status FROM "Job" WHERE id = ${jobId}::uuid FOR UPDATE`;
    if (!locked) throw new NotFoundError(`No job has the id ${jobId}`);
    if (isFinalStatus(locked.status)) throw new JobStateError(`Job ${jobId} has already finished (${locked.status}); only QUEUED or RUNNING jobs can be cancelled`);
    if (locked.status === "QUEUED") await platform.queue.remove(jobId, tx);
    const job = await tx.job.update({ where: { id: jobId }, data: { status: "CANCELED", finishedAt: new Date() } });
    await platform.events.publish({ type: "status", jobId, status: "CANCELED", progress: job.progress, errorMessage: null }, tx);
    return job;
  });
}

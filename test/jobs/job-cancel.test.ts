/**
 * Cancelling and failing, with an in-process worker: a QUEUED job leaves the queue; a RUNNING job
 * stops within one denoising step and keeps (and ranks) the images it finished; a finished job
 * cannot be cancelled; a job whose model keeps failing ends FAILED after its attempts.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelJob } from "../../src/jobs/cancel-job.ts";
import { createLogger } from "../../src/log.ts";
import { JobStateError, NotFoundError } from "../../src/jobs/job-platform.ts";
import { submitJob } from "../../src/jobs/submit-job.ts";
import { subscribeJob } from "../../src/jobs/subscribe-job.ts";
import { copyDemoModelFolder, disposeDemoModels } from "../support/demo-model.ts";
import { collectEvents, startTestPlatform, type TestPlatform } from "../support/job-platform.ts";

let test: TestPlatform;
const workerLog: string[] = [];

beforeAll(async () => {
  // The worker logs how many steps it ran after it heard of a cancel: the test reads its log.
  test = await startTestPlatform({ log: createLogger("info", (line) => void workerLog.push(line)) });
});
afterAll(async () => {
  await test?.stop();
  await disposeDemoModels();
});

/** Resolves when the job's row says no worker holds it any more (the worker has wrapped up). */
async function released(jobId: string) {
  for (;;) {
    const job = await test.platform.prisma.job.findUniqueOrThrow({ where: { id: jobId }, include: { images: true } });
    if (job.workerId === null && job.status !== "RUNNING" && job.status !== "QUEUED") return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("cancelJob", () => {
  it("takes a QUEUED job off the queue: it ends CANCELED and no worker ever runs it", async () => {
    const job = await submitJob(test.platform, { prompt: "a queued cancel", samples: 1, steps: 2 });
    const canceled = await cancelJob(test.platform, job.id);
    expect(canceled).toMatchObject({ status: "CANCELED", attempts: 0 });
    expect(canceled.finishedAt).toBeInstanceOf(Date);
    const [entry] = await test.platform.prisma.$queryRaw<{ state: string }[]>`SELECT state::text FROM pgboss.job WHERE id = ${job.id}::uuid`;
    expect(entry).toEqual({ state: "cancelled" });
    await test.startWorker();
    expect(await test.platform.queue.claim()).toBeUndefined();
    expect(await collectEvents(subscribeJob(test.platform, job.id))).toEqual([{ type: "status", jobId: job.id, status: "CANCELED", progress: 0, errorMessage: null }]);
  });

  it("stops a RUNNING job within one step, keeping and ranking the images it finished", async () => {
    const job = await submitJob(test.platform, { prompt: "a running cancel", samples: 4, steps: 150, width: 256, height: 256, scheduler: "EULER" });
    // Cancel once the first image is stored and the second sample is denoising.
    for await (const event of subscribeJob(test.platform, job.id)) {
      if (event.type === "step" && event.sampleIndex === 1 && event.step === 5) await cancelJob(test.platform, job.id);
    }
    const ended = await released(job.id);
    expect(ended.status).toBe("CANCELED");
    // Logged just after the job was wrapped up.
    let stopped: string | undefined;
    for (let waited = 0; !stopped && waited < 5000; waited += 50) {
      stopped = workerLog.find((line) => line.includes("job cancelled; kept its finished images") && line.includes(job.id));
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(stopped, `the worker's log of the job:\n${workerLog.filter((line) => line.includes(job.id)).join("\n")}`).toBeDefined();
    expect(Number(/"stepsAfterCancel":(\d+)/.exec(stopped!)?.[1])).toBeLessThanOrEqual(1);
    // Sample 0 was stored before the cancel; the job stopped before its last sample.
    const kept = [...ended.images].sort((a, b) => a.sampleIndex - b.sampleIndex);
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThan(4);
    expect(kept.map((image) => image.sampleIndex)).toEqual(kept.map((_, i) => i));
    const byScore = [...kept].sort((a, b) => b.clipScore - a.clipScore || a.sampleIndex - b.sampleIndex);
    expect(byScore.map((image) => image.rank)).toEqual(kept.map((_, i) => i + 1));
    expect(await test.platform.prisma.pendingObject.count({ where: { jobId: job.id } })).toBe(0);
  });

  it("refuses a finished job, and an unknown id, with clear errors", async () => {
    const job = await submitJob(test.platform, { prompt: "finished first", samples: 1, steps: 2 });
    await collectEvents(subscribeJob(test.platform, job.id));
    await expect(cancelJob(test.platform, job.id)).rejects.toThrow(new JobStateError(`Job ${job.id} has already finished (SUCCEEDED); only QUEUED or RUNNING jobs can be cancelled`));
    await expect(cancelJob(test.platform, "00000000-0000-4000-8000-000000000000")).rejects.toBeInstanceOf(NotFoundError);
    await expect(cancelJob(test.platform, "not-an-id")).rejects.toThrow(/No job has the id "not-an-id" \(ids are UUIDs\)/);
  });
});

describe("a job whose model cannot be loaded", () => {
  let broken: TestPlatform;

  beforeAll(async () => {
    const dir = await copyDemoModelFolder();
    await writeFile(path.join(dir, "unet", "model.onnx"), "not an onnx model");
    // Silent: the worker logs each failed attempt, which is what this test makes happen.
    broken = await startTestPlatform({ settings: { ATELIER_SD_MODEL: dir, ATELIER_JOB_MAX_ATTEMPTS: "2" }, log: createLogger("error", () => {}) });
    await broken.startWorker();
  });
  afterAll(() => broken?.stop());

  it("is tried ATELIER_JOB_MAX_ATTEMPTS times, then ends FAILED with the error", async () => {
    const job = await submitJob(broken.platform, { prompt: "never drawn", samples: 2, steps: 2 });
    const events = await collectEvents(subscribeJob(broken.platform, job.id));
    const statuses = events.flatMap((event) => (event.type === "status" ? [event.status] : []));
    expect(statuses.filter((status) => status === "RUNNING")).toHaveLength(2);
    expect(statuses.at(-1)).toBe("FAILED");
    const failed = await broken.platform.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(failed).toMatchObject({ status: "FAILED", attempts: 2, workerId: null });
    expect(failed.errorMessage).toMatch(/unet\/model\.onnx.*\(attempt 2 of 2\)/s);
    const [entry] = await broken.platform.prisma.$queryRaw<{ state: string }[]>`SELECT state::text FROM pgboss.job WHERE id = ${job.id}::uuid`;
    expect(entry).toEqual({ state: "failed" });
  });
});

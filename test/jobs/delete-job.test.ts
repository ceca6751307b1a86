/**
 * deleteJob on jobs an in-process worker made: rows and objects go together, objects a twin job's
 * identical images share stay until the last row naming them goes, notes an earlier attempt left
 * are settled, and a job a worker may still write for is refused.
 */
import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cancelJob } from "../../src/jobs/cancel-job.ts";
import { deleteJob } from "../../src/jobs/delete-job.ts";
import { JobStateError, NotFoundError } from "../../src/jobs/job-platform.ts";
import { notePendingObjects } from "../../src/jobs/pending-objects.ts";
import { submitJob } from "../../src/jobs/submit-job.ts";
import { subscribeJob } from "../../src/jobs/subscribe-job.ts";
import { contentKey } from "../../src/storage/image-store.ts";
import { collectEvents, startTestPlatform, type TestPlatform } from "../support/job-platform.ts";

let test: TestPlatform;

async function run(prompt: string, seed: number) {
  const job = await submitJob(test.platform, { prompt, samples: 2, seed, steps: 2, scheduler: "EULER" });
  await collectEvents(subscribeJob(test.platform, job.id));
  return job;
}

async function keysOf(jobId: string): Promise<string[]> {
  const images = await test.platform.prisma.image.findMany({ where: { jobId } });
  return images.flatMap((image) => [image.storageKey, image.thumbnailKey]);
}

async function stored(keys: string[]): Promise<boolean[]> {
  return Promise.all(keys.map(async (key) => (await test.platform.store.get(key)) !== undefined));
}

beforeAll(async () => {
  test = await startTestPlatform();
  await test.startWorker();
});
afterAll(() => test?.stop());

describe("deleteJob", () => {
  it("removes the job's row, its images' rows and their objects, keeps the prompt, and keeps objects a twin job shares", async () => {
    const original = await run("A red kite over a hill", 7);
    const twin = await run("a red kite over a hill", 7);
    const keys = await keysOf(original.id);
    // Same prompt, seed and parameters: byte-identical images under the same content-addressed keys.
    expect((await keysOf(twin.id)).sort()).toEqual([...keys].sort());

    expect((await deleteJob(test.platform, original.id)).id).toBe(original.id);
    expect(await test.platform.prisma.job.findUnique({ where: { id: original.id } })).toBeNull();
    expect(await test.platform.prisma.image.count({ where: { jobId: original.id } })).toBe(0);
    expect(await stored(keys)).toEqual(keys.map(() => true));
    expect(await test.platform.prisma.prompt.count({ where: { id: original.promptId } })).toBe(1);

    await deleteJob(test.platform, twin.id);
    expect(await stored(keys)).toEqual(keys.map(() => false));
    expect(await test.platform.prisma.pendingObject.count()).toBe(0);
    await expect(deleteJob(test.platform, twin.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("deletes an object an earlier attempt wrote without its row (its note would cascade away with the job)", async () => {
    const job = await run("a lantern in the fog", 3);
    const leftover = contentKey(createHash("sha256").update("an attempt that died").digest("hex"), "png");
    await test.platform.store.put(leftover, Buffer.from("partial"), "image/png");
    await notePendingObjects(test.platform.prisma, job.id, [leftover]);

    await deleteJob(test.platform, job.id);
    expect(await test.platform.store.get(leftover)).toBeUndefined();
    expect(await test.platform.prisma.pendingObject.count()).toBe(0);
  });

  it("refuses a QUEUED job, and a cancelled one while its worker still holds it; deletes it once cancelled and let go", async () => {
    await test.stopWorkers();
    const job = await submitJob(test.platform, { prompt: "a job nobody runs", samples: 1, steps: 2 });
    await expect(deleteJob(test.platform, job.id)).rejects.toThrow(new JobStateError(`Job ${job.id} is QUEUED; cancel it first`));
    expect(await test.platform.prisma.job.count({ where: { id: job.id } })).toBe(1);

    await cancelJob(test.platform, job.id);
    // As a job cancelled while RUNNING is until its worker has stopped and ranked what it kept.
    await test.platform.prisma.job.update({ where: { id: job.id }, data: { workerId: "elsewhere:1:abcdef" } });
    await expect(deleteJob(test.platform, job.id)).rejects.toThrow(/its worker is still stopping/);
    await test.platform.prisma.job.update({ where: { id: job.id }, data: { workerId: null } });
    await deleteJob(test.platform, job.id);
    expect(await test.platform.prisma.job.count({ where: { id: job.id } })).toBe(0);
  });

  it("answers NotFoundError for an unknown id or one that is not a UUID", async () => {
    await expect(deleteJob(test.platform, randomUUID())).rejects.toBeInstanceOf(NotFoundError);
    await expect(deleteJob(test.platform, "not-a-uuid")).rejects.toBeInstanceOf(NotFoundError);
  });
});

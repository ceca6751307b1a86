/**
 * The heartbeat thread on a real PostgreSQL: it keeps beating while the worker's main thread is
 * blocked (as onnxruntime blocks it for a whole UNet step), records progress, and reports a job that
 * stopped being this worker's.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAttempt } from "../../src/jobs/job-attempts.ts";
import { submitJob } from "../../src/jobs/submit-job.ts";
import { startHeartbeats, type Heartbeats } from "../../workers/heartbeats.ts";
import { startTestPlatform, type TestPlatform } from "../support/job-platform.ts";

const WORKER = "test-host:1:heartbeat";
const INTERVAL_MS = 200;

let test: TestPlatform;
let heartbeats: Heartbeats;
const lost: string[] = [];
const whys: string[] = [];
const failures: string[] = [];

beforeAll(async () => {
  test = await startTestPlatform();
  heartbeats = startHeartbeats({
    connectionString: test.platform.connectionString,
    workerId: WORKER,
    intervalMs: INTERVAL_MS,
    onFailed: (message) => failures.push(message),
  });
});
afterAll(async () => {
  await heartbeats?.stop();
  await test?.stop();
});

async function runningJob(): Promise<string> {
  const job = await submitJob(test.platform, { prompt: "a heartbeat", samples: 1, steps: 2, width: 64, height: 64 });
  expect(await startAttempt(test.platform, job.id, WORKER)).toBeDefined();
  return job.id;
}

const row = (id: string) => test.platform.prisma.job.findUniqueOrThrow({ where: { id } });

/** Blocks this thread the way a synchronous onnxruntime run does: no timers, no I/O. */
function blockMainThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe("heartbeats", () => {
  it("beat on time while the main thread is blocked, with the progress last reported", async () => {
    // Every beat is logged with the database's clock at the moment it lands.
    await test.platform.prisma.$executeRawUnsafe(`CREATE TABLE beat_log (at timestamptz NOT NULL)`);
    await test.platform.prisma.$executeRawUnsafe(
      `CREATE FUNCTION log_beat() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO beat_log VALUES (clock_timestamp()); RETURN NEW; END $$`,
    );
    await test.platform.prisma.$executeRawUnsafe(`CREATE TRIGGER log_beat AFTER UPDATE OF "heartbeatAt" ON "Job" FOR EACH ROW EXECUTE FUNCTION log_beat()`);
    const clock = async () => (await test.platform.prisma.$queryRaw<[{ at: Date }]>`SELECT clock_timestamp() AS at`)[0].at;

    const jobId = await runningJob();
    const job = heartbeats.track(jobId, 0, () => lost.push(jobId));
    job.progress(0.25);
    // Let the thread start (it loads its module and connects) and beat.
    await expect.poll(async () => (await row(jobId)).progress, { timeout: 10_000 }).toBeCloseTo(0.25, 6);
    const blockedAt = await clock();
    blockMainThread(2000);
    const unblockedAt = await clock();
    job.end();
    // Beats landed while the main thread could run nothing (its end margin leaves out beats that
    // a main-thread timer could have sent once it was free again).
    const during = await test.platform.prisma.$queryRaw<[{ beats: number }]>`
      SELECT count(*)::int AS beats FROM beat_log WHERE at > ${blockedAt} AND at < ${new Date(unblockedAt.getTime() - 500)}`;
    expect(during[0].beats).toBeGreaterThanOrEqual(3);
    expect(lost).toEqual([]);
    expect(failures).toEqual([]);
  });

  it("stop beating for a job once it ends", async () => {
    const jobId = await runningJob();
    const started = (await row(jobId)).heartbeatAt!.getTime();
    const job = heartbeats.track(jobId, 0, () => lost.push(jobId));
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
    job.end();
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS));
    const ended = (await row(jobId)).heartbeatAt!.getTime();
    expect(ended).toBeGreaterThan(started);
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
    expect((await row(jobId)).heartbeatAt!.getTime()).toBe(ended);
  });

  it("report a job cancelled while this worker holds it as cancelled, not lost", async () => {
    const jobId = await runningJob();
    const job = heartbeats.track(jobId, 0, (why) => (lost.push(jobId), whys.push(why)));
    await test.platform.prisma.job.update({ where: { id: jobId }, data: { status: "CANCELED" } });
    await expect.poll(() => lost, { timeout: 5000 }).toContain(jobId);
    expect(whys.at(-1)).toBe("canceled");
    job.end();
  });

  it("report a job as cancelled when the beat waited on cancelJob's row lock", async () => {
    const jobId = await runningJob();
    const job = heartbeats.track(jobId, 0, (why) => (lost.push(jobId), whys.push(why)));
    // As cancelJob does: lock the row, and commit CANCELED only once a beat is waiting on the lock.
    await test.platform.prisma.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM "Job" WHERE id = ${jobId}::uuid FOR UPDATE`;
        await expect
          .poll(
            async () =>
              (await test.platform.prisma.$queryRaw<[{ waiting: number }]>`
                SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE application_name = 'atelier heartbeat' AND wait_event_type = 'Lock'`)[0].waiting,
            { timeout: 5000 },
          )
          .toBeGreaterThan(0);
        await tx.job.update({ where: { id: jobId }, data: { status: "CANCELED" } });
      },
      { timeout: 10_000 },
    );
    await expect.poll(() => lost, { timeout: 5000 }).toContain(jobId);
    expect(whys.at(-1)).toBe("canceled");
    job.end();
  });

  it("report a job that another worker took over, once", async () => {
    const jobId = await runningJob();
    const job = heartbeats.track(jobId, 0, (why) => (lost.push(jobId), whys.push(why)));
    await test.platform.prisma.job.update({ where: { id: jobId }, data: { workerId: "another-worker" } });
    await expect.poll(() => lost, { timeout: 5000 }).toContain(jobId);
    job.progress(0.5);
    await new Promise((resolve) => setTimeout(resolve, 3 * INTERVAL_MS));
    expect(lost.filter((id) => id === jobId)).toHaveLength(1);
    expect(whys.at(-1)).toBe("lost");
    job.end();
  });
});

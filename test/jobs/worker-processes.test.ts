/**
 * Real `atelier worker` processes against one PostgreSQL, with this test process as the API (no
 * embedded worker): two workers share eight jobs, each run exactly once, and one SIGKILLed mid-job
 * is replaced; a killed worker's job ends with exactly N images and no object without a row;
 * SIGTERM finishes or releases the running job within the grace period; PostgreSQL restarted
 * during a job, and the job still finishes.
 */
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/db/embedded-postgres.ts";
import { cancelJob } from "../../src/jobs/cancel-job.ts";
import { submitJob } from "../../src/jobs/submit-job.ts";
import { subscribeJob } from "../../src/jobs/subscribe-job.ts";
import { startCli, type CliProcess } from "../support/cli-process.ts";
import { freePort } from "../support/free-port.ts";
import { collectEvents, startTestPlatform, type TestPlatform } from "../support/job-platform.ts";
import { makeTempDir } from "../support/temp-dir.ts";

// Each test runs real worker processes through dozens of UNet steps: 25-35 s alone, past vitest's
// 60 s default beside the suite's other files on 2 cores (seen in fresh-clone CI).
vi.setConfig({ testTimeout: 180_000 });

const processes: CliProcess[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cli of processes) cli.child.kill("SIGKILL");
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function platform(options: Parameters<typeof startTestPlatform>[0] = {}): Promise<TestPlatform> {
  const started = await startTestPlatform(options);
  cleanups.push(() => started.stop());
  return started;
}

async function worker(test: TestPlatform): Promise<CliProcess> {
  const cli = startCli(["worker"], test.env({ LOG_LEVEL: "info" }));
  processes.push(cli);
  await cli.waitFor(/worker ready/);
  return cli;
}

/** Every image row of the platform's jobs has its two objects, and every object has a row. */
async function expectStoreMatchesRows(test: TestPlatform) {
  const images = await test.platform.prisma.image.findMany({ select: { storageKey: true, thumbnailKey: true } });
  const keys: string[] = [];
  for await (const key of test.platform.store.keys()) keys.push(key);
  expect(keys.sort()).toEqual([...new Set(images.flatMap((image) => [image.storageKey, image.thumbnailKey]))].sort());
  expect(await test.platform.prisma.pendingObject.count()).toBe(0);
}

async function expectRanked(test: TestPlatform, jobId: string, samples: number) {
  const job = await test.platform.prisma.job.findUniqueOrThrow({ where: { id: jobId }, include: { images: true } });
  expect(job.status).toBe("SUCCEEDED");
  expect(job.images.map((image) => image.sampleIndex).sort()).toEqual(Array.from({ length: samples }, (_, i) => i));
  expect(job.images.map((image) => image.rank).sort()).toEqual(Array.from({ length: samples }, (_, i) => i + 1));
  return job;
}

describe("two worker processes", () => {
  it("share eight jobs, each run exactly once; when one is SIGKILLed mid-job its job is taken up and every job ends with 3 ranked images", async () => {
    // Three worker processes beside the suite's other files on two cores: with the tests' 3 s
    // heartbeat timeout, a beat held up that long had a live worker's job taken up too (fresh-clone
    // CI, 2026-12-07: three jobs ran twice). The SIGKILLed worker's job is taken up after 8 s.
    const test = await platform({ settings: { ATELIER_HEARTBEAT_TIMEOUT_SECONDS: "8" } });
    const workers = [await worker(test), await worker(test)];
    const jobs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => submitJob(test.platform, { prompt: `shared job ${i}`, samples: 3, steps: 20, width: 128, height: 128, scheduler: "EULER" })),
    );
    const events = jobs.map((job) => collectEvents(subscribeJob(test.platform, job.id)));
    // Kill the worker that runs the fourth job once that job is half-way.
    for await (const event of subscribeJob(test.platform, jobs[3]!.id)) {
      if (event.type === "step" && event.sampleIndex === 1) break;
    }
    const victim = workers.find((cli) => cli.output().includes(`"jobId":"${jobs[3]!.id}","attempt":1`))!;
    victim.child.kill("SIGKILL");
    await victim.exited;
    workers.push(await worker(test));

    const finished = await Promise.all(events);
    const attempts: number[] = [];
    for (const [i, job] of jobs.entries()) {
      attempts.push((await expectRanked(test, job.id, 3)).attempts);
      expect(finished[i]!.at(-1)).toMatchObject({ type: "status", status: "SUCCEEDED" });
    }
    // Only the killed worker's job (or jobs: it may have held one more) ran twice.
    expect(attempts[3]).toBe(2);
    const recoveries = workers.flatMap((cli) => cli.output().split("\n").filter((line) => /took up jobs|heartbeat failed|no longer this worker's/.test(line)));
    expect(attempts.filter((n) => n === 1).length, `attempts per job: ${attempts.join(", ")}; the workers said:\n${recoveries.join("\n")}`).toBeGreaterThanOrEqual(6);
    expect(attempts.every((n) => n <= 2)).toBe(true);
    // Each first attempt was started by exactly one process, and both first workers took part.
    const startedBy = jobs.map((job) => workers.filter((cli) => cli.output().includes(`"jobId":"${job.id}","attempt":1`)).length);
    expect(startedBy).toEqual(jobs.map(() => 1));
    expect(workers.slice(0, 2).every((cli) => /job started/.test(cli.output()))).toBe(true);
    await expectStoreMatchesRows(test);
  });
});

describe("a job cancelled after its worker was SIGKILLed", () => {
  it("is wrapped up by another worker's recovery: its kept images ranked, its queue entry closed", async () => {
    const test = await platform();
    const first = await worker(test);
    const job = await submitJob(test.platform, { prompt: "cancelled after a crash", samples: 3, steps: 40, width: 256, height: 256, scheduler: "EULER" });
    for await (const event of subscribeJob(test.platform, job.id)) if (event.type === "image") break;
    first.child.kill("SIGKILL");
    await first.exited;
    await cancelJob(test.platform, job.id);
    await worker(test);
    let ended = await test.platform.prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { images: true } });
    for (let waited = 0; ended.workerId !== null; waited += 200) {
      expect(waited, "no worker wrapped the job up within 15 s").toBeLessThan(15_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      ended = await test.platform.prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { images: true } });
    }
    expect(ended.status).toBe("CANCELED");
    expect(ended.images.length).toBeGreaterThanOrEqual(1);
    expect(ended.images.map((image) => image.rank).sort()).toEqual(ended.images.map((_, i) => i + 1));
    const [entry] = await test.platform.prisma.$queryRaw<{ state: string }[]>`SELECT state::text FROM pgboss.job WHERE id = ${job.id}::uuid`;
    expect(entry).toEqual({ state: "completed" });
    await expectStoreMatchesRows(test);
  });
});

describe("a worker sent SIGTERM", () => {
  it("stops claiming, lets a short job finish within the grace period, and exits 0", async () => {
    const test = await platform({ settings: { ATELIER_SHUTDOWN_GRACE_SECONDS: "20" } });
    const cli = await worker(test);
    const job = await submitJob(test.platform, { prompt: "finished in grace", samples: 2, steps: 20, width: 128, height: 128, scheduler: "EULER" });
    for await (const event of subscribeJob(test.platform, job.id)) if (event.type === "step") break;
    const waiting = await submitJob(test.platform, { prompt: "never claimed", samples: 1, steps: 2 });
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    expect((await expectRanked(test, job.id, 2)).attempts).toBe(1);
    expect(await test.platform.prisma.job.findUniqueOrThrow({ where: { id: waiting.id } })).toMatchObject({ status: "QUEUED", attempts: 0 });
  });

  it("releases a job that outlasts the grace period to the queue, where another worker finishes it", async () => {
    const test = await platform({ settings: { ATELIER_SHUTDOWN_GRACE_SECONDS: "1" } });
    const cli = await worker(test);
    const job = await submitJob(test.platform, { prompt: "released at shutdown", samples: 3, steps: 60, width: 256, height: 256, scheduler: "EULER" });
    for await (const event of subscribeJob(test.platform, job.id)) if (event.type === "step") break;
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toMatch(/releasing them to the queue/);
    expect(await test.platform.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({ status: "QUEUED", attempts: 1, workerId: null });
    await worker(test);
    expect((await collectEvents(subscribeJob(test.platform, job.id))).at(-1)).toMatchObject({ status: "SUCCEEDED" });
    expect((await expectRanked(test, job.id, 3)).attempts).toBe(2);
    await expectStoreMatchesRows(test);
  });
});

describe("a worker SIGKILLed mid-job", () => {
  it("leaves the job to the next worker, which makes only the missing samples: exactly N images, no orphaned object", async () => {
    const test = await platform();
    const first = await worker(test);
    const job = await submitJob(test.platform, { prompt: "a killed worker", samples: 3, steps: 40, width: 256, height: 256, scheduler: "EULER" });
    for await (const event of subscribeJob(test.platform, job.id)) {
      // Killed once sample 0 is stored (its row is committed before its event): sample 1 is in progress.
      if (event.type === "image" && event.sampleIndex === 0) break;
    }
    first.child.kill("SIGKILL");
    await first.exited;
    await worker(test);
    const rest = await collectEvents(subscribeJob(test.platform, job.id));
    expect(rest.at(-1)).toMatchObject({ type: "status", status: "SUCCEEDED" });
    const ended = await expectRanked(test, job.id, 3);
    expect(ended.attempts).toBe(2);
    // The second attempt made only what was missing: never sample 0, which was already stored.
    const rerun = new Set(rest.flatMap((event) => (event.type === "step" ? [event.sampleIndex] : [])));
    expect(rerun.has(0)).toBe(false);
    expect(rerun.has(2)).toBe(true);
    await expectStoreMatchesRows(test);
  });
});

describe("PostgreSQL restarted during a job", () => {
  let server: EmbeddedPostgres;

  it("costs the job nothing: the worker and the API reconnect by themselves and it finishes", async () => {
    const clusterDir = path.join(await makeTempDir("atelier-restart"), "postgres");
    const port = await freePort();
    server = await startEmbeddedPostgres({ clusterDir, port });
    cleanups.push(() => server.stop());
    const admin = new URL(server.connectionString);
    admin.pathname = "/postgres";
    const test = await platform({ adminUrl: admin.toString() });
    const cli = await worker(test);
    const job = await submitJob(test.platform, { prompt: "through a restart", samples: 2, steps: 40, width: 256, height: 256, scheduler: "EULER" });
    for await (const event of subscribeJob(test.platform, job.id)) {
      if (event.type === "step" && event.step === 5) break;
    }
    // This process's event bus (the API's) tells its subscribers to re-read once it listens again.
    let apiListening!: () => void;
    const resynced = new Promise<void>((resolve) => (apiListening = resolve));
    const stopWatching = test.platform.events.subscribe("*", { onEvent: () => {}, onResync: () => apiListening() });
    await server.stop();
    server = await startEmbeddedPostgres({ clusterDir, port });
    const rest = await collectEvents(subscribeJob(test.platform, job.id));
    expect(rest.at(-1), cli.output()).toMatchObject({ type: "status", status: "SUCCEEDED" });
    const ended = await expectRanked(test, job.id, 2);
    expect(ended.attempts, cli.output()).toBe(1);
    expect(cli.output(), cli.output()).not.toMatch(/job attempt failed/);
    // Both listeners reconnected by themselves. (The job's own steps after the restart are not
    // checked: all of its last 75 may run before the listeners are back, as in one CI run.)
    await resynced;
    stopWatching();
    await cli.waitFor(/event bus: listening again/);
    // The API side works again too: a new job goes through, its steps reaching this process live
    // (it subscribes before the worker can have taken the job).
    const next = await submitJob(test.platform, { prompt: "after the restart", samples: 1, steps: 2, scheduler: "EULER" });
    const nextEvents = await collectEvents(subscribeJob(test.platform, next.id));
    expect(nextEvents.at(-1)).toMatchObject({ status: "SUCCEEDED" });
    expect(nextEvents.flatMap((event) => (event.type === "step" ? [event.step] : []))).toEqual([1, 2]);
    await expectStoreMatchesRows(test);
  });
});

/**
 * submitJob's checks and its one transaction, on a platform without a worker (jobs stay QUEUED):
 * every limit is refused with the parameter's name, its value and the allowed range, and nothing
 * is written; a good job is one Prompt upsert, one Job row and one queue entry.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobParametersError, type JobInput } from "../../src/jobs/job-limits.ts";
import { queueStanding } from "../../src/jobs/gallery.ts";
import { submitJob } from "../../src/jobs/submit-job.ts";
import { startTestPlatform, type TestPlatform } from "../support/job-platform.ts";

let test: TestPlatform;

beforeAll(async () => {
  // 0.7 GiB of worker memory: demo-sd-tiny fits at 64×64 (about 0.5 GiB with its weights and the headroom), not at 512×512 (0.8 GiB).
  test = await startTestPlatform({ settings: { ATELIER_MAX_SAMPLES: "8", ATELIER_MAX_MEGAPIXELS: "1", ATELIER_WORKER_MEMORY_GB: "0.7" } });
});
afterAll(() => test?.stop());

async function rowCounts() {
  const { prisma } = test.platform;
  const [prompts, jobs, entries] = await Promise.all([
    prisma.prompt.count(),
    prisma.job.count(),
    prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM pgboss.job`,
  ]);
  return { prompts, jobs, entries: Number(entries[0]!.n) };
}

describe("submitJob refuses parameters outside the limits, writing nothing", () => {
  const good: JobInput = { prompt: "a red fox", samples: 2, steps: 10, width: 64, height: 64 };
  it.each<[string, Partial<JobInput>, RegExp]>([
    ["an empty prompt", { prompt: "   " }, /prompt="   ": must not be empty/],
    ["a prompt over 2000 characters", { prompt: "x".repeat(2001) }, /prompt="x+": must be at most 2000 characters after trimming, got 2001/],
    ["a negative prompt over 2000 characters", { negativePrompt: "y".repeat(2001) }, /negativePrompt="y+": must be at most 2000 characters/],
    ["0 samples", { samples: 0 }, /samples=0: must be a whole number between 1 and 8/],
    ["more samples than ATELIER_MAX_SAMPLES", { samples: 9 }, /samples=9: must be a whole number between 1 and 8/],
    ["fractional samples", { samples: 1.5 }, /samples=1.5: must be a whole number/],
    ["0 steps", { steps: 0 }, /steps=0: must be a whole number between 1 and 150/],
    ["151 steps", { steps: 151 }, /steps=151: must be a whole number between 1 and 150/],
    ["a negative guidance scale", { guidanceScale: -1 }, /guidanceScale=-1: must be a number between 0 and 30/],
    ["guidance over 30", { guidanceScale: 30.5 }, /guidanceScale=30.5: must be a number between 0 and 30/],
    ["a width that is not a multiple of the size step", { width: 72 }, /width=72: must be a multiple of 16 between 64 and 2048 for model demo-sd-tiny/],
    ["a height under 64", { height: 32 }, /height=32: must be a multiple of 16 between 64 and 2048/],
    ["a side over 2048", { width: 2064 }, /width=2064: must be a multiple of 16 between 64 and 2048/],
    ["over ATELIER_MAX_MEGAPIXELS", { width: 1024, height: 1040 }, /width="1024x1040": width × height must be at most 1 megapixels \(1048576 pixels\), got 1064960/],
    [
      "a size whose one sample needs more memory than a worker has",
      { width: 512, height: 512 },
      /width="512x512": a 512×512 image with model demo-sd-tiny needs about 0\.8 GiB of memory \(0\.0 GiB of weights, the rest to denoise one sample\), more than a worker has \(0\.7 GiB, ATELIER_WORKER_MEMORY_GB\): ask for a smaller size/,
    ],
    ["a negative seed", { seed: -1 }, /seed=-1: must be a whole number between 0 and 9007199254740991/],
    ["a seed past 2^53 - 1", { seed: 2 ** 53 }, /seed=9007199254740992: must be a whole number/],
    ["a seed whose last sample passes 2^53 - 1", { seed: Number.MAX_SAFE_INTEGER }, /seed=9007199254740991: plus samples - 1 must be at most/],
    ["an unknown scheduler", { scheduler: "HEUN" }, /scheduler="HEUN": must be one of PNDM, DDIM, EULER, EULER_ANCESTRAL, DPM_PP_2M, DPM_PP_2M_KARRAS, LCM/],
    ["a model that does not exist", { model: "sd-9000" }, /model="sd-9000": must be one of the models: demo-sd-tiny/],
  ])("%s", async (_what, change, message) => {
    const before = await rowCounts();
    const attempt = submitJob(test.platform, { ...good, ...change });
    await expect(attempt).rejects.toBeInstanceOf(JobParametersError);
    await expect(attempt).rejects.toThrow(message);
    expect(await rowCounts()).toEqual(before);
  });

  it("reports every broken parameter at once", async () => {
    const error = await submitJob(test.platform, { prompt: "", samples: 99, steps: 0, guidanceScale: 99 }).catch((caught: unknown) => caught);
    expect((error as JobParametersError).problems.map((problem) => problem.parameter)).toEqual(["prompt", "samples", "guidanceScale", "steps"]);
  });
});

describe("a good job", () => {
  it("is one Prompt (found again by normalized text), one Job row and one queue entry, all in the model's defaults", async () => {
    const before = await rowCounts();
    const first = await submitJob(test.platform, { prompt: "A  Snowy Owl" });
    const second = await submitJob(test.platform, { prompt: "a snowy owl", seed: 7, samples: 1 });
    expect(await rowCounts()).toEqual({ prompts: before.prompts + 1, jobs: before.jobs + 2, entries: before.entries + 2 });
    expect(second.promptId).toBe(first.promptId);
    expect(first).toMatchObject({ status: "QUEUED", samples: 4, steps: 50, guidanceScale: 7.5, width: 64, height: 64, scheduler: "PNDM", modelName: "demo-sd-tiny", negativePrompt: null, notes: [] });
    expect(Number(first.seed)).toBeGreaterThanOrEqual(0);
    expect(Number(first.seed)).toBeLessThan(2 ** 32);
    expect(second.seed).toBe(7n);
    const [entry] = await test.platform.prisma.$queryRaw<{ state: string }[]>`SELECT state::text FROM pgboss.job WHERE id = ${second.id}::uuid`;
    expect(entry).toEqual({ state: "created" });
  });

  it("puts a job on the queue only if its transaction commits", async () => {
    const before = await rowCounts();
    const jobId = randomUUID();
    await expect(
      test.platform.prisma.$transaction(async (tx) => {
        await test.platform.queue.enqueue(jobId, tx);
        throw new Error("crash before commit");
      }),
    ).rejects.toThrow("crash before commit");
    expect(await rowCounts()).toEqual(before);
    const [entry] = await test.platform.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM pgboss.job WHERE id = ${jobId}::uuid`;
    expect(entry!.n).toBe(0n);
  });

  it("notes that a prompt longer than 77 tokens is cut", async () => {
    const job = await submitJob(test.platform, { prompt: Array.from({ length: 90 }, (_, i) => `word${i}`).join(" "), samples: 1 });
    expect(job.notes).toHaveLength(1);
    expect(job.notes[0]).toMatch(/The prompt is \d+ tokens long; the text encoder reads only the first 77/);
  });

  it("reports its place in the queue: 1 for the oldest waiting job", async () => {
    const waiting = await test.platform.prisma.job.findMany({ where: { status: "QUEUED" }, orderBy: { createdAt: "asc" } });
    const standings = await Promise.all(waiting.map((job) => queueStanding(test.platform, job.id)));
    expect(standings.map((standing) => standing!.position)).toEqual(waiting.map((_, i) => i + 1));
    // No job has finished on this platform yet, so there is no speed to estimate from.
    expect(standings.every((standing) => standing!.estimatedSeconds === null)).toBe(true);
  });
});

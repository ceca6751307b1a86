/**
 * The job platform in one process, on a real PostgreSQL with pg-boss, LISTEN/NOTIFY, the file image
 * store and an in-process worker on the generated demo models: submit → live events in order → N
 * ranked images stored and recorded; a late subscriber; the same on the S3 store.
 */
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobEvent } from "../../src/events/job-event.ts";
import { readTextChunks } from "../../src/inference/output/png-text-chunks.ts";
import { submitJob } from "../../src/jobs/submit-job.ts";
import { subscribeJob } from "../../src/jobs/subscribe-job.ts";
import { collectEvents, startTestPlatform, type TestPlatform } from "../support/job-platform.ts";
import { startS3Server, type TestS3Server } from "../support/s3-server.ts";

let test: TestPlatform;

beforeAll(async () => {
  test = await startTestPlatform();
  await test.startWorker();
});
afterAll(() => test?.stop());

describe("a submitted job", () => {
  let events: JobEvent[];
  let jobId: string;

  beforeAll(async () => {
    const job = await submitJob(test.platform, { prompt: "  A lighthouse   at dusk ", samples: 3, seed: 42, steps: 4, width: 64, height: 64 });
    jobId = job.id;
    events = await collectEvents(subscribeJob(test.platform, job.id));
  });

  it("streams its status, every step of every sample and every image, in order, ending with SUCCEEDED", () => {
    const statuses = events.filter((event) => event.type === "status").map((event) => event.status);
    expect(statuses.at(-1)).toBe("SUCCEEDED");
    expect(statuses).toContain("RUNNING");
    expect(events.at(-1)).toMatchObject({ type: "status", status: "SUCCEEDED", progress: 1 });
    const steps = events.flatMap((event) => (event.type === "step" ? [event] : []));
    // The demo model's scheduler is PNDM, which runs steps + 1 model evaluations (diffusers' PLMS warm-up).
    const perSample = steps[0]!.totalSteps;
    expect(perSample).toBe(5);
    const expectedOrder = [0, 1, 2].flatMap((sample) => Array.from({ length: perSample }, (_, i) => [sample, i + 1]));
    expect(steps.map((step) => [step.sampleIndex, step.step])).toEqual(expectedOrder);
    expect(steps.map((step) => step.progress)).toEqual(steps.map((_, i) => expect.closeTo((i + 1) / (3 * perSample), 12)));
    expect(steps.every((step) => step.totalSteps === perSample && step.preview?.startsWith("data:image/webp;base64,"))).toBe(true);
    const images = events.flatMap((event) => (event.type === "image" ? [event] : []));
    expect(images.map((image) => image.sampleIndex).sort()).toEqual([0, 1, 2]);
    // Each image is announced after its sample's last step (it is stored while the next sample denoises).
    for (const sampleIndex of [0, 1, 2]) {
      const lastStep = events.findIndex((event) => event.type === "step" && event.sampleIndex === sampleIndex && event.step === perSample);
      const image = events.findIndex((event) => event.type === "image" && event.sampleIndex === sampleIndex);
      expect(image).toBeGreaterThan(lastStep);
    }
  });

  it("ends with its N images stored, recorded and ranked 1..N by CLIP score", async () => {
    const job = await test.platform.prisma.job.findUniqueOrThrow({ where: { id: jobId }, include: { images: true, prompt: true } });
    expect(job).toMatchObject({ status: "SUCCEEDED", progress: 1, attempts: 1, workerId: null, clipModelName: "demo-clip-tiny" });
    expect(job.prompt).toMatchObject({ text: "A lighthouse   at dusk", normalizedText: "a lighthouse at dusk" });
    const byRank = [...job.images].sort((a, b) => a.rank! - b.rank!);
    expect(byRank.map((image) => image.rank)).toEqual([1, 2, 3]);
    for (let i = 1; i < byRank.length; i++) expect(byRank[i - 1]!.clipScore).toBeGreaterThanOrEqual(byRank[i]!.clipScore);
    expect(job.images.map((image) => Number(image.seed)).sort()).toEqual([42, 43, 44]);
    for (const image of job.images) {
      const png = (await test.platform.store.get(image.storageKey))!;
      expect(png.length).toBe(image.byteSize);
      expect(image.storageKey).toBe(`${image.sha256}.png`);
      const parameters = readTextChunks(png).get("parameters")!;
      expect(parameters).toContain(`Seed: ${image.seed}`);
      expect(parameters).toMatch(/RNG: CPU, Version: Atelier \d+\.\d+\.\d+/);
      const thumbnail = await sharp((await test.platform.store.get(image.thumbnailKey))!).metadata();
      expect(thumbnail).toMatchObject({ format: "webp", width: 64, height: 64 });
      // The CLIP image embedding is stored L2-normalized.
      expect(Math.hypot(...image.clipEmbedding)).toBeCloseTo(1, 5);
    }
    expect(await test.platform.prisma.pendingObject.count({ where: { jobId } })).toBe(0);
  });

  it("gives a late subscriber the final state at once, then ends", async () => {
    expect(await collectEvents(subscribeJob(test.platform, jobId))).toEqual([
      { type: "status", jobId, status: "SUCCEEDED", progress: 1, errorMessage: null },
    ]);
  });
});

describe("a job on the S3 store (a real local S3 server)", () => {
  let s3: TestS3Server;
  let onS3: TestPlatform;

  beforeAll(async () => {
    s3 = await startS3Server();
    onS3 = await startTestPlatform({ settings: s3.settings });
    await onS3.startWorker();
  });
  afterAll(async () => {
    await onS3?.stop();
    await s3?.close();
  });

  it("stores every image and thumbnail in the bucket, one object per key, each with its row", async () => {
    expect(onS3.platform.store.description).toBe(`s3://${s3.bucket}/ at ${s3.options.endpoint}`);
    const job = await submitJob(onS3.platform, { prompt: "a lighthouse in a bucket", samples: 2, steps: 3 });
    expect((await collectEvents(subscribeJob(onS3.platform, job.id))).at(-1)).toMatchObject({ status: "SUCCEEDED" });
    const images = await onS3.platform.prisma.image.findMany({ where: { jobId: job.id } });
    const keys: string[] = [];
    for await (const key of onS3.platform.store.keys()) keys.push(key);
    expect(keys.sort()).toEqual(images.flatMap((image) => [image.storageKey, image.thumbnailKey]).sort());
    for (const image of images) {
      const png = (await onS3.platform.store.get(image.storageKey))!;
      expect(readTextChunks(png).get("parameters")).toContain(`Seed: ${image.seed}`);
    }
  });
});

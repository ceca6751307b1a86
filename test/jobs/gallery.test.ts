/**
 * Reading what was made, on images an in-process worker made: a prompt's gallery across jobs and
 * spellings, by score with stable cursors; fuzzy prompt search; queue estimates from finished
 * jobs' speed; deleting an image with its objects.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteImage } from "../../src/jobs/delete-image.ts";
import { gallery, queueStanding, searchPrompts } from "../../src/jobs/gallery.ts";
import { PageArgumentsError } from "../../src/jobs/pages.ts";
import { NotFoundError } from "../../src/jobs/job-platform.ts";
import { submitJob } from "../../src/jobs/submit-job.ts";
import { subscribeJob } from "../../src/jobs/subscribe-job.ts";
import { collectEvents, startTestPlatform, type TestPlatform } from "../support/job-platform.ts";

let test: TestPlatform;

async function run(prompt: string, samples: number, seed: number) {
  const job = await submitJob(test.platform, { prompt, samples, seed, steps: 3, scheduler: "EULER" });
  await collectEvents(subscribeJob(test.platform, job.id));
  return job;
}

beforeAll(async () => {
  test = await startTestPlatform();
  await test.startWorker();
  await run("A lighthouse at dusk", 3, 1);
  await run("a  LIGHTHOUSE at dusk", 4, 100);
  await run("a snowy owl in a pine forest", 2, 5);
});
afterAll(() => test?.stop());

describe("gallery", () => {
  it("has every image of the prompt, however it was spelled, best CLIP score first", async () => {
    const page = await gallery(test.platform, "a lighthouse at DUSK ", 24);
    expect(page.totalCount).toBe(7);
    expect(page.hasNextPage).toBe(false);
    const scores = page.nodes.map(({ node }) => node.clipScore);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(new Set(page.nodes.map(({ node }) => Number(node.seed)))).toEqual(new Set([1, 2, 3, 100, 101, 102, 103]));
  });

  it("pages with cursors: every image once, in the same order as one big page", async () => {
    const whole = (await gallery(test.platform, "a lighthouse at dusk", 100)).nodes.map(({ node }) => node.id);
    const paged: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await gallery(test.platform, "a lighthouse at dusk", 3, after);
      paged.push(...page.nodes.map(({ node }) => node.id));
      if (!page.hasNextPage) break;
      after = page.endCursor;
    }
    expect(paged).toEqual(whole);
  });

  it("is empty for a prompt never used, and refuses bad page arguments", async () => {
    expect(await gallery(test.platform, "never typed")).toEqual({ nodes: [], hasNextPage: false, endCursor: null, totalCount: 0 });
    await expect(gallery(test.platform, "a lighthouse at dusk", 0)).rejects.toThrow(new PageArgumentsError("first=0: must be a whole number between 1 and 100", "first"));
    await expect(gallery(test.platform, "a lighthouse at dusk", 5, "bogus")).rejects.toThrow(/after="bogus": not a cursor this gallery returned/);
  });
});

describe("searchPrompts", () => {
  it("finds prompts by a misspelled word, most similar first", async () => {
    expect((await searchPrompts(test.platform, "lighthuose")).map((prompt) => prompt.text)).toEqual(["A lighthouse at dusk"]);
    expect((await searchPrompts(test.platform, "snowy owl")).map((prompt) => prompt.text)).toEqual(["a snowy owl in a pine forest"]);
    expect(await searchPrompts(test.platform, "submarine")).toEqual([]);
  });
});

describe("queueStanding", () => {
  it("estimates a waiting job's time from the speed of finished jobs", async () => {
    await test.stopWorkers();
    const job = await submitJob(test.platform, { prompt: "waiting", samples: 2, steps: 3 });
    const standing = await queueStanding(test.platform, job.id);
    expect(standing!.position).toBe(1);
    expect(standing!.estimatedSeconds).toBeGreaterThanOrEqual(0);
    expect(await queueStanding(test.platform, (await test.platform.prisma.job.findFirstOrThrow({ where: { status: "SUCCEEDED" } })).id)).toBeUndefined();
  });
});

describe("deleteImage", () => {
  it("removes the row and both objects, and ranks the job's other images 1..N-1", async () => {
    const prompt = await test.platform.prisma.prompt.findUniqueOrThrow({ where: { normalizedText: "a snowy owl in a pine forest" } });
    const [best] = await test.platform.prisma.image.findMany({ where: { promptId: prompt.id }, orderBy: { rank: "asc" } });
    await deleteImage(test.platform, best!.id);
    expect(await test.platform.prisma.image.findUnique({ where: { id: best!.id } })).toBeNull();
    expect(await test.platform.store.get(best!.storageKey)).toBeUndefined();
    expect(await test.platform.store.get(best!.thumbnailKey)).toBeUndefined();
    const rest = await test.platform.prisma.image.findMany({ where: { jobId: best!.jobId } });
    expect(rest.map((image) => image.rank)).toEqual([1]);
    expect(await test.platform.prisma.pendingObject.count()).toBe(0);
    await expect(deleteImage(test.platform, best!.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

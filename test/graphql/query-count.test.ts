/**
 * The GraphQL schema executed in-process (graphql-js on `createSchema()`, a fresh context per
 * operation as the server makes one per request) on a platform whose Prisma client logs every SQL
 * statement, on images an in-process worker made. It checks that a page costs a constant number of
 * queries whatever its size (the loaders batch, no N+1), that a subscription's loaders do not serve
 * a job's first-event images at its last event, and deleteJob's round trip with its error codes.
 *
 * The worker runs on the platform's own client, so only the operation's statements are counted.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { graphql, parse, subscribe, type ExecutionResult } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PrismaClient } from "../../src/db/prisma.ts";
import { createContext } from "../../src/graphql/context.ts";
import { createSchema } from "../../src/graphql/graphql-server.ts";
import type { JobPlatform } from "../../src/jobs/job-platform.ts";
import { submitJob } from "../../src/jobs/submit-job.ts";
import { subscribeJob } from "../../src/jobs/subscribe-job.ts";
import { cancelJob } from "../../src/jobs/cancel-job.ts";
import { sharedSubscribe } from "../../src/graphql/shared-subscribe.ts";
import { collectEvents, startTestPlatform, type TestPlatform } from "../support/job-platform.ts";

/** Most queries one of the page operations below may cost, whatever the page size. */
const MAX_QUERIES = 6;

/** The API reads images without their CLIP embeddings (src/db/prisma.ts: ImageRow). */
const readsEmbedding = (query: string) => query.includes("clipEmbedding");

/** Transaction control is not a query; Prisma logs COMMIT and ROLLBACK, though not BEGIN. */
const TRANSACTION_CONTROL = /^(BEGIN|COMMIT|ROLLBACK)\b/;

let test: TestPlatform;
let counted: PrismaClient<"query">;
let platform: JobPlatform;
let statements: string[] = [];
const schema = createSchema();

/** Runs one operation with its own context; returns its result and the SQL queries it ran. */
async function execute(source: string, variables: Record<string, unknown> = {}): Promise<{ result: ExecutionResult<Record<string, any>>; queries: string[] }> {
  statements = [];
  const result = await graphql({ schema, source, variableValues: variables, contextValue: createContext(platform, "") });
  return { result: result as ExecutionResult<Record<string, any>>, queries: statements.filter((statement) => !TRANSACTION_CONTROL.test(statement)) };
}

async function data(source: string, variables: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const { result } = await execute(source, variables);
  expect(result.errors).toBeUndefined();
  return result.data!;
}

async function run(prompt: string, seed: number) {
  const job = await submitJob(test.platform, { prompt, samples: 6, seed, steps: 2, scheduler: "EULER" });
  await collectEvents(subscribeJob(test.platform, job.id));
  return job;
}

beforeAll(async () => {
  test = await startTestPlatform();
  counted = new PrismaClient({ adapter: new PrismaPg({ connectionString: test.database.connectionString }), log: [{ emit: "event", level: "query" }] });
  counted.$on("query", (event) => void statements.push(event.query));
  platform = { ...test.platform, prisma: counted };
  await test.startWorker();
  // 30 images of one prompt (several spellings) over five jobs, and 6 of another that a search also finds.
  for (const [i, prompt] of ["A harbour at night", "a harbour at NIGHT", "A harbour at night", "a  harbour at night", "A harbour at night"].entries()) await run(prompt, 1000 * i);
  await run("a harbour at noon", 77);
});
afterAll(async () => {
  await counted?.$disconnect();
  await test?.stop();
});

describe("a constant number of SQL queries per operation", () => {
  const GALLERY = `query ($first: Int) {
    gallery(prompt: "a harbour at night", first: $first) {
      totalCount
      edges { node { id url job { id status prompt { text } } prompt { text } } }
    }
  }`;

  it("gallery: a page of 24 images with their jobs and prompts costs what a page of 6 does", async () => {
    const big = await execute(GALLERY, { first: 24 });
    const small = await execute(GALLERY, { first: 6 });
    expect(big.result.errors).toBeUndefined();
    expect(big.result.data!.gallery.totalCount).toBe(30);
    expect(big.result.data!.gallery.edges).toHaveLength(24);
    expect(new Set(big.result.data!.gallery.edges.map((edge: any) => edge.node.job.id)).size).toBe(5);
    expect(big.result.data!.gallery.edges.every((edge: any) => edge.node.job.prompt.text === "A harbour at night" && edge.node.prompt.text === "A harbour at night")).toBe(true);
    expect(big.queries.length).toBeLessThanOrEqual(MAX_QUERIES);
    expect(big.queries.length).toBe(small.queries.length);
    expect(big.queries.filter(readsEmbedding)).toEqual([]);
  });

  it("jobs: a page of 10 jobs with their prompts, images and models costs what a page of 2 does", async () => {
    const JOBS = `query ($first: Int) { jobs(first: $first) { edges { node { prompt { text } images { id } model { name } } } } }`;
    const big = await execute(JOBS, { first: 10 });
    const small = await execute(JOBS, { first: 2 });
    expect(big.result.errors).toBeUndefined();
    expect(big.result.data!.jobs.edges).toHaveLength(6);
    expect(big.result.data!.jobs.edges.every((edge: any) => edge.node.images.length === 6 && edge.node.model.name === "demo-sd-tiny")).toBe(true);
    expect(big.queries.length).toBeLessThanOrEqual(MAX_QUERIES);
    expect(big.queries.length).toBe(small.queries.length);
    expect(big.queries.filter(readsEmbedding)).toEqual([]);
  });

  it("searchPrompts: each prompt's counts and best image are batched, not one query per prompt", async () => {
    const SEARCH = `query ($first: Int) { searchPrompts(query: "harbour", first: $first) { id text jobCount imageCount bestImage { id clipScore } } }`;
    const both = await execute(SEARCH, { first: 10 });
    const one = await execute(SEARCH, { first: 1 });
    expect(both.result.errors).toBeUndefined();
    const prompts = both.result.data!.searchPrompts as { id: string; text: string; jobCount: number; imageCount: number; bestImage: { id: string } }[];
    expect(prompts.map(({ text, jobCount, imageCount }) => ({ text, jobCount, imageCount })).sort((a, b) => a.text.localeCompare(b.text))).toEqual([
      { text: "A harbour at night", jobCount: 5, imageCount: 30 },
      { text: "a harbour at noon", jobCount: 1, imageCount: 6 },
    ]);
    for (const prompt of prompts) {
      const best = await test.platform.prisma.image.findFirstOrThrow({ where: { promptId: prompt.id }, orderBy: [{ clipScore: "desc" }, { id: "asc" }] });
      expect(prompt.bestImage.id).toBe(best.id);
    }
    expect(both.queries.length).toBeLessThanOrEqual(MAX_QUERIES);
    expect(both.queries.length).toBe(one.queries.length);
    expect(both.queries.filter(readsEmbedding)).toEqual([]);
  });

  it("a best image read with raw SQL is the row Prisma reads, typed the same", async () => {
    const { bestImage } = (await data(`{ gallery(prompt: "a harbour at noon", first: 1) { edges { node { prompt { bestImage { id seed createdAt clipScore width } } } } } }`)).gallery.edges[0].node.prompt;
    const row = await test.platform.prisma.image.findUniqueOrThrow({ where: { id: bestImage.id } });
    expect(bestImage).toEqual({ id: row.id, seed: Number(row.seed), createdAt: row.createdAt.toISOString(), clipScore: row.clipScore, width: row.width });
    const loaded = await createContext(platform, "").loaders.bestImageOfPrompt.load(row.promptId);
    const { clipEmbedding, ...shown } = row;
    expect(clipEmbedding.length).toBeGreaterThan(0);
    expect(loaded).toEqual(shown);
  });
});

describe("a subscription's loaders", () => {
  it("show the job's images and the prompt's counts as they are at each event, not as at the first", async () => {
    await test.stopWorkers();
    const job = await submitJob(test.platform, { prompt: "a harbour at noon", samples: 2, seed: 5, steps: 2, scheduler: "EULER" });
    const document = parse(`subscription ($jobId: ID!) {
      jobEvents(jobId: $jobId) { ... on JobStatusChanged { status job { images { id } prompt { jobCount imageCount bestImage { id } } } } }
    }`);
    const events = (await subscribe({ schema, document, variableValues: { jobId: job.id }, contextValue: createContext(test.platform, "") })) as AsyncIterableIterator<ExecutionResult<Record<string, any>>>;
    const statuses: Record<string, any>[] = [];
    for await (const event of events) {
      expect(event.errors).toBeUndefined();
      if (event.data!.jobEvents.status) statuses.push(event.data!.jobEvents);
      if (statuses.length === 1 && event.data!.jobEvents.status === "QUEUED") await test.startWorker();
    }
    expect(statuses[0]).toMatchObject({ status: "QUEUED", job: { images: [], prompt: { jobCount: 2, imageCount: 6 } } });
    expect(statuses.at(-1)).toMatchObject({ status: "SUCCEEDED", job: { prompt: { jobCount: 2, imageCount: 8 } } });
    expect(statuses.at(-1)!.job.images).toHaveLength(2);
  });
});

describe("graphql-ws's subscribe (sharedSubscribe)", () => {
  it("executes an event once for every subscriber that asks the same of it, and reads its rows once", async () => {
    await test.stopWorkers();
    const job = await submitJob(test.platform, { prompt: "a harbour at noon", samples: 1, seed: 6, steps: 2, scheduler: "EULER" });
    const document = parse(`subscription ($jobId: ID!) { jobEvents(jobId: $jobId) { ... on JobStatusChanged { status job { id status } } } }`);
    const subscribers = await Promise.all(
      [1, 2, 3].map(async () => (await sharedSubscribe({ schema, document, variableValues: { jobId: job.id }, contextValue: createContext(platform, "") })) as AsyncIterableIterator<ExecutionResult<Record<string, any>>>),
    );
    const first = await Promise.all(subscribers.map((events) => events.next()));
    // Each subscriber's first event is the job as it read it: its own.
    expect(first.map(({ value }) => value.data!.jobEvents.status)).toEqual(["QUEUED", "QUEUED", "QUEUED"]);
    expect(first[0]!.value).not.toBe(first[1]!.value);
    statements = [];
    await cancelJob(test.platform, job.id);
    const canceled = await Promise.all(subscribers.map((events) => events.next()));
    expect(canceled[0]!.value.data).toEqual({ jobEvents: { status: "CANCELED", job: { id: job.id, status: "CANCELED" } } });
    expect(canceled[1]!.value).toBe(canceled[0]!.value);
    expect(canceled[2]!.value).toBe(canceled[0]!.value);
    expect(statements.filter((query) => query.includes(`FROM "public"."Job"`))).toHaveLength(1);
    await Promise.all(subscribers.map((events) => events.return!()));
  });

  it("executes an event separately for subscribers whose variables differ", async () => {
    const job = await submitJob(test.platform, { prompt: "a harbour at noon", samples: 1, seed: 7, steps: 2, scheduler: "EULER" });
    const document = parse(`subscription ($jobId: ID!, $first: Int) { jobEvents(jobId: $jobId) { ... on JobStatusChanged { job { prompt { gallery(first: $first) { edges { node { id } } } } } } } }`);
    const subscribe = (first: number) =>
      sharedSubscribe({ schema, document, variableValues: { jobId: job.id, first }, contextValue: createContext(platform, "") }) as Promise<AsyncIterableIterator<ExecutionResult<Record<string, any>>>>;
    const subscribers = [await subscribe(1), await subscribe(2)];
    await Promise.all(subscribers.map((events) => events.next()));
    await cancelJob(test.platform, job.id);
    const [one, two] = await Promise.all(subscribers.map((events) => events.next()));
    expect(one!.value.data!.jobEvents.job.prompt.gallery.edges).toHaveLength(1);
    expect(two!.value.data!.jobEvents.job.prompt.gallery.edges).toHaveLength(2);
    await Promise.all(subscribers.map((events) => events.return!()));
    await test.startWorker();
  });
});

describe("deleteJob over GraphQL", () => {
  const DELETE = `mutation ($id: ID!) { deleteJob(id: $id) }`;

  it("deletes a finished job with its images, which leave the gallery; the prompt stays", async () => {
    const job = await run("a harbour at noon", 9);
    const before = (await data(`{ gallery(prompt: "a harbour at noon", first: 1) { totalCount } }`)).gallery.totalCount;
    expect(await data(DELETE, { id: job.id })).toEqual({ deleteJob: job.id });
    expect(await data(`query ($id: ID!) { job(id: $id) { id } }`, { id: job.id })).toEqual({ job: null });
    expect((await data(`{ gallery(prompt: "a harbour at noon", first: 1) { totalCount } }`)).gallery.totalCount).toBe(before - 6);
  });

  it("answers NOT_FOUND for an unknown id and BAD_USER_INPUT for a job still queued", async () => {
    const unknown = await execute(DELETE, { id: "00000000-0000-4000-8000-000000000000" });
    expect(unknown.result.errors![0]!.extensions!.code).toBe("NOT_FOUND");
    await test.stopWorkers();
    const queued = await submitJob(test.platform, { prompt: "a harbour at noon", samples: 1, steps: 2 });
    const refused = await execute(DELETE, { id: queued.id });
    expect(refused.result.errors![0]).toMatchObject({ message: `Job ${queued.id} is QUEUED; cancel it first`, extensions: { code: "BAD_USER_INPUT" } });
    expect(await test.platform.prisma.job.count({ where: { id: queued.id } })).toBe(1);
  });
});

describe("queue standings", () => {
  it("of a page of waiting jobs cost what one job's does, and number them from the oldest", async () => {
    await test.stopWorkers();
    for (const seed of [21, 22, 23]) await submitJob(test.platform, { prompt: "a harbour at noon", samples: 1, seed, steps: 2 });
    const QUEUE = `query ($first: Int) { jobs(first: $first, status: QUEUED) { edges { node { createdAt queuePosition estimatedSecondsRemaining } } } }`;
    const page = await execute(QUEUE, { first: 10 });
    const one = await execute(QUEUE, { first: 1 });
    expect(page.result.errors).toBeUndefined();
    const waiting = page.result.data!.jobs.edges.map((edge: any) => edge.node) as { createdAt: string; queuePosition: number; estimatedSecondsRemaining: number }[];
    const oldestFirst = [...waiting].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    expect(oldestFirst.map((job) => job.queuePosition)).toEqual(waiting.map((_, i) => i + 1));
    // Jobs have succeeded on this platform, so there is a speed to estimate from; later jobs wait longer.
    expect(waiting.every((job) => Number.isInteger(job.estimatedSecondsRemaining))).toBe(true);
    expect(oldestFirst.every((job, i) => job.estimatedSecondsRemaining >= (oldestFirst[i - 1]?.estimatedSecondsRemaining ?? 0))).toBe(true);
    expect(page.queries.length).toBe(one.queries.length);
  });
});

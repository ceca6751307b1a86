/**
 * The GraphQL API through real clients over real sockets: `atelier serve`'s composition (Apollo on
 * POST /graphql, graphql-ws on the same port, /images/*) on a database of its own, with a worker
 * on its platform. A client that knows only the contract generates, follows, reads and downloads.
 */
import { createHash } from "node:crypto";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { loadConfig } from "../../src/config.ts";
import { readTextChunks } from "../../src/inference/output/png-text-chunks.ts";
import { createLogger } from "../../src/log.ts";
import { startServer, type RunningServer } from "../../src/serve.ts";
import { startWorker, type RunningWorker } from "../../workers/worker.ts";
import { freePort } from "../support/free-port.ts";
import { TEST_SETTINGS } from "../support/job-platform.ts";
import { makeTempDir } from "../support/temp-dir.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

let database: TestDatabase;
let server: RunningServer;
let worker: RunningWorker;
let ws: Client;

beforeAll(async () => {
  database = await createTestDatabase(inject("adminDatabaseUrl"), "atelier_graphql");
  const env = { ...TEST_SETTINGS, DATABASE_URL: database.url, ATELIER_DATA_DIR: await makeTempDir("atelier-graphql"), PORT: String(await freePort()), ATELIER_EMBEDDED_WORKER: "0" };
  const config = loadConfig(env);
  const log = createLogger("warn");
  server = await startServer(config, log, env);
  worker = await startWorker(server.platform, config, log);
  ws = createClient({ url: `${server.url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
});
afterAll(async () => {
  await ws?.dispose();
  await worker?.stop();
  await server?.stop();
  await database?.drop();
});

interface GraphQLResponse<T> {
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

async function graphql<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
  return (await response.json()) as GraphQLResponse<T>;
}

function subscribe(query: string, variables: Record<string, unknown>): Promise<GraphQLResponse<Record<string, any>>[]> {
  return new Promise((resolve, reject) => {
    const results: GraphQLResponse<Record<string, any>>[] = [];
    ws.subscribe({ query, variables }, { next: (result) => void results.push(result as never), error: reject, complete: () => resolve(results) });
  });
}

const JOB_EVENTS = `
  subscription ($jobId: ID!) {
    jobEvents(jobId: $jobId) {
      __typename
      ... on JobStatusChanged { status job { id progress } }
      ... on StepProgress { jobId sampleIndex step totalSteps progress preview }
      ... on ImageReady { jobId image { id sampleIndex clipScore } }
    }
  }`;

const GENERATE = `
  mutation ($input: GenerateInput!) {
    generate(input: $input) { id status samples seed steps width height scheduler model { name } prompt { text } }
  }`;

describe("a client that knows only the contract", () => {
  let jobId: string;
  let events: Record<string, any>[];

  beforeAll(async () => {
    const generated = await graphql(GENERATE, { input: { prompt: "A lighthouse at dusk", samples: 3, seed: 42, steps: 4, scheduler: "EULER" } });
    expect(generated.errors).toBeUndefined();
    jobId = generated.data!.generate.id;
    expect(generated.data!.generate).toMatchObject({ status: "QUEUED", samples: 3, seed: 42, steps: 4, scheduler: "EULER", model: { name: "demo-sd-tiny" }, prompt: { text: "A lighthouse at dusk" } });
    events = (await subscribe(JOB_EVENTS, { jobId })).map((result) => result.data!.jobEvents);
  });

  it("follows the job over graphql-ws: its state first, every step in order, N images, then SUCCEEDED", () => {
    expect(events[0]!.__typename).toBe("JobStatusChanged");
    const steps = events.filter((event) => event.__typename === "StepProgress");
    expect(steps.map((step) => [step.sampleIndex, step.step])).toEqual([0, 1, 2].flatMap((sample) => [1, 2, 3, 4].map((step) => [sample, step])));
    expect(steps.every((step) => step.jobId === jobId && step.totalSteps === 4)).toBe(true);
    expect(events.filter((event) => event.__typename === "ImageReady")).toHaveLength(3);
    expect(events.at(-1)).toMatchObject({ __typename: "JobStatusChanged", status: "SUCCEEDED", job: { id: jobId, progress: 1 } });
  });

  it("reads the ranked job and downloads each image, whose PNG carries its parameters", async () => {
    const { data } = await graphql(`query ($id: ID!) { job(id: $id) { status images { rank seed sampleIndex clipScore url thumbnailUrl sha256 } } }`, { id: jobId });
    const images = data!.job.images as { rank: number; seed: number; clipScore: number; url: string; thumbnailUrl: string; sha256: string }[];
    expect(images.map((image) => image.rank)).toEqual([1, 2, 3]);
    expect(images.map((image) => image.clipScore)).toEqual([...images.map((image) => image.clipScore)].sort((a, b) => b - a));
    for (const image of images) {
      const response = await fetch(`${server.url}${image.url}`);
      expect(response.headers.get("content-type")).toBe("image/png");
      const png = Buffer.from(await response.arrayBuffer());
      expect(createHash("sha256").update(png).digest("hex")).toBe(image.sha256);
      expect(readTextChunks(png).get("parameters")).toContain(`Seed: ${image.seed}`);
      expect((await fetch(`${server.url}${image.thumbnailUrl}`)).headers.get("content-type")).toBe("image/webp");
    }
  });

  it("gets identical images when it repeats the job with the same seed", async () => {
    const again = await graphql(GENERATE, { input: { prompt: "a lighthouse at dusk", samples: 3, seed: 42, steps: 4, scheduler: "EULER" } });
    const repeatId = again.data!.generate.id;
    await subscribe(JOB_EVENTS, { jobId: repeatId });
    const read = async (id: string) => ((await graphql(`query ($id: ID!) { job(id: $id) { images { sampleIndex sha256 } } }`, { id })).data!.job.images as { sampleIndex: number; sha256: string }[]).sort((a, b) => a.sampleIndex - b.sampleIndex);
    expect(await read(repeatId)).toEqual(await read(jobId));
  });

  it("reads the prompt's gallery across both jobs, best first, and finds the prompt by a misspelled word", async () => {
    const { data } = await graphql(`{ gallery(prompt: "A LIGHTHOUSE at dusk", first: 4) { totalCount pageInfo { hasNextPage endCursor } edges { node { clipScore job { id } prompt { text } } } } }`);
    expect(data!.gallery.totalCount).toBe(6);
    expect(data!.gallery.pageInfo.hasNextPage).toBe(true);
    const scores = data!.gallery.edges.map((edge: any) => edge.node.clipScore);
    expect(scores).toEqual([...scores].sort((a: number, b: number) => b - a));
    const rest = await graphql(`query ($after: String) { gallery(prompt: "a lighthouse at dusk", first: 4, after: $after) { edges { node { id } } pageInfo { hasNextPage } } }`, { after: data!.gallery.pageInfo.endCursor });
    expect(rest.data!.gallery.edges).toHaveLength(2);
    expect((await graphql(`{ searchPrompts(query: "lighthuose") { text jobCount imageCount bestImage { rank } } }`)).data!.searchPrompts).toEqual([
      { text: "A lighthouse at dusk", jobCount: 2, imageCount: 6, bestImage: { rank: 1 } },
    ]);
  });

  it("lists the models with their defaults", async () => {
    const { data } = await graphql(`{ models { name kind demo defaultSteps defaultGuidanceScale defaultWidth defaultHeight defaultScheduler sizeStep } }`);
    expect(data!.models[0]).toEqual({ name: "demo-sd-tiny", kind: "stable-diffusion", demo: true, defaultSteps: 50, defaultGuidanceScale: 7.5, defaultWidth: 64, defaultHeight: 64, defaultScheduler: "PNDM", sizeStep: 16 });
  });
});

describe("errors", () => {
  async function counts() {
    const [jobs, prompts] = await Promise.all([server.platform.prisma.job.count(), server.platform.prisma.prompt.count()]);
    return { jobs, prompts };
  }

  it.each<[string, Record<string, unknown>, string]>([
    ["too many samples", { prompt: "x", samples: 99 }, "samples"],
    ["an empty prompt", { prompt: "  " }, "prompt"],
    ["a width off the size step", { prompt: "x", width: 70 }, "width"],
    ["an unknown model", { prompt: "x", model: "nope" }, "model"],
    ["guidance over the limit", { prompt: "x", guidanceScale: 31 }, "guidanceScale"],
  ])("refuses %s with BAD_USER_INPUT naming the field, and stores nothing", async (_what, input, field) => {
    const before = await counts();
    const { data, errors } = await graphql(GENERATE, { input });
    expect(data).toBeNull();
    expect(errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: ["input", field] });
    expect(errors![0]!.message).toContain(`${field}=`);
    expect(await counts()).toEqual(before);
  });

  it("refuses a seed outside 0..2^53-1 before it reaches a resolver", async () => {
    const { errors } = await graphql(GENERATE, { input: { prompt: "x", seed: -1 } });
    expect(errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
    expect(errors![0]!.message).toMatch(/Seed must be a whole number between 0 and 9007199254740991/);
  });

  it("answers null for an unknown id in queries, NOT_FOUND in mutations and subscriptions", async () => {
    const unknown = "00000000-0000-4000-8000-000000000000";
    expect((await graphql(`query ($id: ID!) { job(id: $id) { id } image(id: $id) { id } }`, { id: unknown })).data).toEqual({ job: null, image: null });
    expect((await graphql(`{ job(id: "not-a-uuid") { id } }`)).data).toEqual({ job: null });
    const cancel = await graphql(`mutation ($id: ID!) { cancelJob(id: $id) { id } }`, { id: unknown });
    expect(cancel.errors![0]!.extensions!.code).toBe("NOT_FOUND");
    const subscription = await subscribe(JOB_EVENTS, { jobId: unknown }).catch((errors: unknown) => errors);
    expect(subscription).toMatchObject([{ message: `No job has the id ${unknown}`, extensions: { code: "NOT_FOUND" } }]);
  });
});

describe("ATELIER_PUBLIC_URL", () => {
  it("makes image URLs absolute, on the public base, for the same paths", async () => {
    const env = { ...TEST_SETTINGS, DATABASE_URL: database.url, ATELIER_DATA_DIR: await makeTempDir("atelier-graphql-public"), PORT: String(await freePort()), ATELIER_EMBEDDED_WORKER: "0", ATELIER_PUBLIC_URL: "https://atelier.example.test/base/" };
    const behindProxy = await startServer(loadConfig(env), createLogger("warn"), env);
    try {
      const GALLERY = `{ gallery(prompt: "a lighthouse at dusk", first: 3) { edges { node { id url thumbnailUrl } } } }`;
      const relative = (await graphql(GALLERY)).data!.gallery.edges;
      const response = await fetch(`${behindProxy.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: GALLERY }) });
      const absolute = ((await response.json()) as GraphQLResponse<Record<string, any>>).data!.gallery.edges;
      expect(relative.length).toBe(3);
      expect(absolute).toEqual(
        relative.map(({ node }: any) => ({ node: { id: node.id, url: `https://atelier.example.test/base${node.url}`, thumbnailUrl: `https://atelier.example.test/base${node.thumbnailUrl}` } })),
      );
      expect(relative[0].node.url).toMatch(/^\/images\/[0-9a-f]{64}\.png$/);
    } finally {
      await behindProxy.stop();
    }
  });
});

describe("deleteImage", () => {
  it("removes the image's row, and its files once no other row shares them", async () => {
    // The repeated job made byte-identical images: each PNG is stored once, for two rows.
    const { data } = await graphql(`{ gallery(prompt: "a lighthouse at dusk", first: 10) { edges { node { id url sha256 } } } }`);
    const nodes = data!.gallery.edges.map((edge: any) => edge.node) as { id: string; url: string; sha256: string }[];
    const [first, twin] = nodes.filter((node) => node.sha256 === nodes[0]!.sha256);
    expect(twin).toBeDefined();
    expect((await graphql(`mutation ($id: ID!) { deleteImage(id: $id) }`, { id: first!.id })).data).toEqual({ deleteImage: first!.id });
    expect((await graphql(`query ($id: ID!) { image(id: $id) { id } }`, { id: first!.id })).data).toEqual({ image: null });
    expect((await fetch(`${server.url}${twin!.url}`)).status).toBe(200);
    await graphql(`mutation ($id: ID!) { deleteImage(id: $id) }`, { id: twin!.id });
    expect((await fetch(`${server.url}${twin!.url}`)).status).toBe(404);
  });
});

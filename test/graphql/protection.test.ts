/**
 * The API's protection through real clients over real sockets: query limits (depth, cost, aliases)
 * refused before anything runs, over HTTP and WebSocket alike; operations per WebSocket; the body
 * size limit; API keys (ATELIER_API_KEYS, ATELIER_PRIVATE) over both transports; and a shutdown
 * that completes open subscriptions. No worker runs: jobs stay QUEUED, so their subscriptions stay
 * open until something ends them.
 */
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { startServer, type RunningServer } from "../../src/serve.ts";
import { freePort } from "../support/free-port.ts";
import { TEST_SETTINGS } from "../support/job-platform.ts";
import { makeTempDir } from "../support/temp-dir.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

const KEY = "test-key-0123456789abcdef";
const OTHER_KEY = "other-key-0123456789abcdef";

let database: TestDatabase;
let dataDir: string;
const servers: RunningServer[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  database = await createTestDatabase(inject("adminDatabaseUrl"), "atelier_protection");
  dataDir = await makeTempDir("atelier-protection");
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  for (const server of servers) await server.stop();
  await database?.drop();
});

/** A server on the shared database, with `settings` on top of the tests' own. */
async function start(settings: Record<string, string> = {}): Promise<RunningServer> {
  const env = { ...TEST_SETTINGS, DATABASE_URL: database.url, ATELIER_DATA_DIR: dataDir, PORT: String(await freePort()), ATELIER_EMBEDDED_WORKER: "0", ...settings };
  const server = await startServer(loadConfig(env), createLogger("error"), env);
  servers.push(server);
  return server;
}

interface GraphQLResponse {
  status: number;
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

async function post(server: RunningServer, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<GraphQLResponse> {
  const response = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query, variables }) });
  return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse, "status">) };
}

function connect(server: RunningServer, connectionParams?: Record<string, unknown>): Client {
  const client = createClient({ url: `${server.url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, lazy: true, retryAttempts: 0, connectionParams });
  clients.push(client);
  return client;
}

interface Followed {
  /** The first event: the job's current state. */
  first: Promise<Record<string, any>>;
  /** "complete", or rejects with what the client's error sink got. */
  end: Promise<"complete">;
}

/** Follows a job's events, leaving the subscription open. */
function follow(client: Client, jobId: string): Followed {
  let onFirst!: (event: Record<string, any>) => void;
  const first = new Promise<Record<string, any>>((resolve) => (onFirst = resolve));
  const end = new Promise<"complete">((resolve, reject) => {
    client.subscribe({ query: JOB_EVENTS, variables: { jobId } }, { next: (result) => onFirst(result.data!.jobEvents as Record<string, any>), error: reject, complete: () => resolve("complete") });
  });
  // A subscription that ends before its first event rejects `first` with why.
  const firstOrEnd = Promise.race([first, end.then(() => ({}))]);
  // A test awaits the one it expects; the other must not count as an unhandled rejection.
  for (const promise of [firstOrEnd, end]) promise.catch(() => undefined);
  return { first: firstOrEnd, end };
}

/** Runs one operation over a WebSocket: its first result, or rejects with its errors. */
function once(client: Client, query: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    client.subscribe({ query }, { next: resolve, error: reject, complete: () => undefined });
  });
}

const JOB_EVENTS = `subscription ($jobId: ID!) { jobEvents(jobId: $jobId) { __typename ... on JobStatusChanged { status job { id } } } }`;
const GENERATE = `mutation ($input: GenerateInput!) { generate(input: $input) { id status } }`;

async function queuedJob(server: RunningServer, headers: Record<string, string> = {}): Promise<string> {
  const { data, errors } = await post(server, GENERATE, { input: { prompt: "a quiet harbour", samples: 1, steps: 2 } }, headers);
  expect(errors).toBeUndefined();
  return data!.generate.id as string;
}

const jobCount = () => servers[0]!.platform.prisma.job.count();

describe("query limits", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start();
  });

  // 12 fields deep: gallery edges node job prompt bestImage job prompt bestImage job prompt text.
  const DEEP = `{ gallery(prompt: "x") { edges { node { job { prompt { bestImage { job { prompt { bestImage { job { prompt { text } } } } } } } } } } } }`;
  // 10 deep, but `first` images each nesting 16 images that each nest a prompt gallery of 100.
  const nested = (first: string) => `{ gallery(prompt: "x", first: ${first}) { edges { node { job { images { prompt { gallery(first: 100) { edges { node { id } } } } } } } } } }`;
  const EXPENSIVE = `query ($first: Int) ${nested("$first")}`;

  it("refuses a query nested too deep before it runs", async () => {
    const { status, data, errors } = await post(server, DEEP);
    expect(status).toBe(400);
    expect(data).toBeUndefined();
    expect(errors![0]!.extensions!.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(errors![0]!.message).toBe("Query depth limit of 10 exceeded, found 12.");
  });

  it("refuses a query that would return too much, with `first` given as a variable", async () => {
    const { status, errors } = await post(server, EXPENSIVE, { first: 100 });
    expect(status).toBe(400);
    expect(errors![0]!.extensions!.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(errors![0]!.message).toMatch(/^Query cost limit of 10000 exceeded, found \d+/);
  });

  it("counts a page at its default size when `first` is left out", async () => {
    const { errors } = await post(server, EXPENSIVE);
    expect(errors![0]!.message).toMatch(/^Query cost limit of 10000 exceeded/);
  });

  it("refuses an expensive mutation before it runs: nothing is stored", async () => {
    const before = await jobCount();
    const { status, errors } = await post(server, `mutation { generate(input: { prompt: "x" }) { images { prompt { gallery(first: 100) { edges { node { job { images { prompt { id } } } } } } } } } }`);
    expect(status).toBe(400);
    expect(errors![0]!.message).toMatch(/^Query cost limit of 10000 exceeded/);
    expect(await jobCount()).toBe(before);
  });

  it("answers a gallery page of 24 with its jobs and prompts", async () => {
    const { status, data, errors } = await post(server, `{ gallery(prompt: "a quiet harbour", first: 24) { totalCount pageInfo { hasNextPage endCursor } edges { node { id clipScore rank url thumbnailUrl job { id status steps } prompt { text imageCount } } } } }`);
    expect(errors).toBeUndefined();
    expect(status).toBe(200);
    expect(data!.gallery).toMatchObject({ totalCount: 0, edges: [] });
  });

  it("refuses too many aliases", async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `m${i}: models { name }`).join(" ");
    const { errors } = await post(server, `{ ${aliases} }`);
    expect(errors![0]!.message).toBe("Aliases limit of 15 exceeded, found 16.");
  });

  it("refuses a document of more than 2,000 tokens before it parses the rest", async () => {
    const { status, errors } = await post(server, `{ ${"__typename ".repeat(2_000)} }`);
    expect(status).toBe(400);
    expect(errors![0]!.extensions!.code).toBe("GRAPHQL_PARSE_FAILED");
    expect(errors![0]!.message).toMatch(/^Syntax Error: Document contains more tha[nt] 2000 tokens/);
  });

  it("applies the same limits over WebSocket", async () => {
    const client = connect(server);
    const refused = (await once(client, DEEP).catch((errors: unknown) => errors)) as { message: string; extensions: Record<string, unknown> }[];
    expect(refused[0]).toMatchObject({ message: "Query depth limit of 10 exceeded, found 12.", extensions: { code: "GRAPHQL_VALIDATION_FAILED" } });
    const expensive = (await once(client, nested("100")).catch((errors: unknown) => errors)) as { message: string }[];
    expect(expensive[0]!.message).toMatch(/^Query cost limit of 10000 exceeded/);
    expect(await once(client, `{ models { name } }`)).toMatchObject({ data: { models: [{ name: "demo-sd-tiny" }] } });
  });

  it("runs at most 16 operations at once on one WebSocket", async () => {
    const jobId = await queuedJob(server);
    const client = connect(server);
    const open = Array.from({ length: 16 }, () => follow(client, jobId));
    for (const followed of open) expect(await followed.first).toMatchObject({ status: "QUEUED" });
    await expect(follow(client, jobId).end).rejects.toMatchObject([{ message: expect.stringMatching(/^Operations limit of 16 per connection exceeded/) }]);
    // Another connection has operations of its own.
    expect(await follow(connect(server), jobId).first).toMatchObject({ status: "QUEUED" });
  });

  it("answers 413 with a JSON error to a body over 100 KB", async () => {
    const body = JSON.stringify({ query: "{ models { name } }", variables: { padding: "x".repeat(110 * 1024) } });
    const response = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ errors: [{ message: "The request body is over 100kb, the most POST /graphql accepts", extensions: { code: "PAYLOAD_TOO_LARGE" } }] });
  });

  it("closes a WebSocket that sends a message over 100 KB with 1009", async () => {
    const socket = new WebSocket(`${server.url.replace("http", "ws")}/graphql`, "graphql-transport-ws");
    await new Promise((opened) => socket.once("open", opened));
    const closed = new Promise<number>((resolve) => socket.once("close", resolve));
    socket.send(JSON.stringify({ type: "connection_init", payload: { padding: "x".repeat(110 * 1024) } }));
    expect(await closed).toBe(1009);
  });

  it("answers 400 with a JSON error to a body that is not JSON", async () => {
    const response = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: `{"query": "{ models { name } }",` });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const { errors } = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(errors).toHaveLength(1);
    expect(errors[0]!.extensions.code).toBe("BAD_REQUEST");
    expect(errors[0]!.message).toMatch(/^The request body is not JSON \(.+\): send \{"query"/);
  });
});

describe("without API keys", () => {
  it("leaves mutations, queries and subscriptions open", async () => {
    const server = servers[0]!;
    const jobId = await queuedJob(server);
    expect((await post(server, `{ job(id: "${jobId}") { status } }`)).data).toEqual({ job: { status: "QUEUED" } });
    expect(await follow(connect(server), jobId).first).toMatchObject({ status: "QUEUED" });
  });
});

describe("with API keys", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start({ ATELIER_API_KEYS: `${KEY}, ${OTHER_KEY}` });
  });

  it("refuses a mutation without a key with 401 UNAUTHENTICATED, and stores nothing", async () => {
    const before = await jobCount();
    const { status, data, errors } = await post(server, GENERATE, { input: { prompt: "x" } });
    expect(status).toBe(401);
    expect(data).toBeUndefined();
    expect(errors![0]).toMatchObject({ message: 'Mutations need an API key: send the header "Authorization: Bearer <key>".', extensions: { code: "UNAUTHENTICATED" } });
    expect(await jobCount()).toBe(before);
  });

  it("refuses a wrong key, and says so", async () => {
    const before = await jobCount();
    const { status, errors } = await post(server, GENERATE, { input: { prompt: "x" } }, { authorization: `Bearer ${KEY}x` });
    expect(status).toBe(401);
    expect(errors![0]!.message).toContain("The Authorization header sent carries no valid key.");
    expect(await jobCount()).toBe(before);
  });

  it("runs a mutation with any of the keys", async () => {
    const before = await jobCount();
    await queuedJob(server, { authorization: `Bearer ${KEY}` });
    await queuedJob(server, { authorization: `bearer ${OTHER_KEY}` });
    expect(await jobCount()).toBe(before + 2);
  });

  it("leaves queries open", async () => {
    const { status, data } = await post(server, `{ models { name } }`);
    expect(status).toBe(200);
    expect(data).toEqual({ models: [{ name: "demo-sd-tiny" }] });
  });

  it("closes a WebSocket without a key with 4403 Forbidden", async () => {
    const jobId = await queuedJob(server, { authorization: `Bearer ${KEY}` });
    await expect(follow(connect(server), jobId).end).rejects.toMatchObject({ code: 4403, reason: "Forbidden" });
    await expect(follow(connect(server, { authorization: `Bearer ${KEY}x` }), jobId).end).rejects.toMatchObject({ code: 4403 });
  });

  it("subscribes over a WebSocket whose connection_init carries a key", async () => {
    const jobId = await queuedJob(server, { authorization: `Bearer ${KEY}` });
    expect(await follow(connect(server, { authorization: `Bearer ${KEY}` }), jobId).first).toMatchObject({ status: "QUEUED" });
    expect(await follow(connect(server, { Authorization: `Bearer ${OTHER_KEY}` }), jobId).first).toMatchObject({ status: "QUEUED" });
  });
});

describe("with ATELIER_PRIVATE=1", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start({ ATELIER_API_KEYS: KEY, ATELIER_PRIVATE: "1" });
  });

  it("refuses a query without a key", async () => {
    const { status, errors } = await post(server, `{ models { name } }`);
    expect(status).toBe(401);
    expect(errors![0]).toMatchObject({ message: 'This server is private: every operation needs an API key: send the header "Authorization: Bearer <key>".', extensions: { code: "UNAUTHENTICATED" } });
  });

  it("answers a query with a key", async () => {
    expect((await post(server, `{ models { name } }`, {}, { authorization: `Bearer ${KEY}` })).data).toEqual({ models: [{ name: "demo-sd-tiny" }] });
  });
});

describe("the API key settings", () => {
  it("trims the keys and skips empty ones", () => {
    expect(loadConfig({ ATELIER_API_KEYS: ` ${KEY} ,, ${OTHER_KEY} ` }).access).toEqual({ apiKeys: [KEY, OTHER_KEY], private: false });
    expect(loadConfig({}).access).toEqual({ apiKeys: [], private: false });
  });

  it("refuses a short key without repeating it", () => {
    expect(() => loadConfig({ ATELIER_API_KEYS: `${KEY},short` })).toThrowError(/ATELIER_API_KEYS: key 2 of 2 must be 16 or more visible ASCII characters/);
    expect(() => loadConfig({ ATELIER_API_KEYS: `${KEY},short` })).not.toThrowError(/short/);
  });

  it("refuses ATELIER_PRIVATE=1 without keys, and keys that are only commas", () => {
    expect(() => loadConfig({ ATELIER_PRIVATE: "1" })).toThrowError(/ATELIER_PRIVATE=1 needs ATELIER_API_KEYS/);
    expect(() => loadConfig({ ATELIER_API_KEYS: " , " })).toThrowError(/ATELIER_API_KEYS is set but names no key/);
  });
});

describe("internal errors", () => {
  // A database that lost a table: every search fails inside the server, with SQL in its error.
  let broken: TestDatabase;
  let production: RunningServer;
  let development: RunningServer;
  const SEARCH = `{ searchPrompts(query: "harbour") { id } }`;
  beforeAll(async () => {
    broken = await createTestDatabase(inject("adminDatabaseUrl"), "atelier_internal_errors");
    production = await start({ DATABASE_URL: broken.url, NODE_ENV: "production" });
    development = await start({ DATABASE_URL: broken.url, NODE_ENV: "development" });
    await production.platform.prisma.$executeRawUnsafe(`ALTER TABLE "Prompt" RENAME TO "PromptElsewhere"`);
  });
  afterAll(async () => {
    for (const server of [production, development]) await server?.stop();
    servers.splice(servers.indexOf(production), 2);
    await broken?.drop();
  });

  const MASKED = [{ message: "Internal server error", locations: [{ line: 1, column: 3 }], path: ["searchPrompts"], extensions: { code: "INTERNAL_SERVER_ERROR" } }];

  it("are masked over HTTP: no message, stack or SQL", async () => {
    const { data, errors } = await post(production, SEARCH);
    expect(data).toBeNull();
    expect(errors).toEqual(MASKED);
  });

  it("are masked over WebSocket alike", async () => {
    const result = (await once(connect(production), SEARCH)) as GraphQLResponse;
    expect(result.errors).toEqual(MASKED);
  });

  it("show what went wrong, with the stack, when NODE_ENV=development", async () => {
    const { errors } = await post(development, SEARCH);
    expect(errors![0]!.message).toContain(`relation "Prompt" does not exist`);
    expect((errors![0]!.extensions!.stacktrace as string[]).length).toBeGreaterThan(1);
    const result = (await once(connect(development), SEARCH)) as GraphQLResponse;
    expect(result.errors![0]!.message).toContain(`relation "Prompt" does not exist`);
  });
});

describe("stop", () => {
  it("completes an open subscription before it closes the socket", async () => {
    const server = await start();
    const jobId = await queuedJob(server);
    const followed = follow(connect(server), jobId);
    expect(await followed.first).toMatchObject({ status: "QUEUED" });
    await server.stop();
    await expect(followed.end).resolves.toBe("complete");
  });
});

/**
 * API benchmark: the GraphQL server as `atelier serve` runs it (Apollo on POST /graphql, graphql-ws
 * on the same port), on a database of its own seeded by bulk SQL with 100,000 prompts and
 * 1,000,000 images (one prompt holds 100,000 of them), measured through real HTTP and WebSocket
 * clients:
 *
 *   1. step-event latency: 1,000 graphql-ws subscribers (one connection each, in a child process:
 *      bench/api-subscribers.ts) to one job, step events published on the bus at a fixed rate,
 *      publish → receipt at every subscriber;
 *   2. gallery: the first page of the 100,000-image prompt, a walk of its pages by cursor, and the
 *      first page of random small prompts;
 *   3. searchPrompts: random words (half of them misspelled) over the 100,000 prompts.
 *
 *   npx tsx bench/api.ts [--admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--subscribers 1000] [--requests 200] [--interval-ms 20] [--events-only]
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { fork } from "node:child_process";
import { createProgressBar } from "../src/cli/progress-bar.ts";
import { loadConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { startServer } from "../src/serve.ts";
import { freePort } from "../test/support/free-port.ts";
import { createBenchDatabase, createCleanup, max, median, ms, now, percentile, sleep, wallClock } from "./bench-support.ts";

const { values } = parseArgs({
  options: {
    "admin-url": { type: "string", default: "postgresql://postgres@127.0.0.1:5432/postgres" },
    subscribers: { type: "string", default: "1000" },
    requests: { type: "string", default: "200" },
    /** Time between two step events (a real step takes 35 ms on demo-sd-small, seconds on SD 1.5 on a CPU). */
    "interval-ms": { type: "string", default: "20" },
    /** Measure step-event latency only: no seeding, no queries. */
    "events-only": { type: "boolean", default: false },
  },
});
const adminUrl = values["admin-url"];
const subscriberCount = Number(values.subscribers);
const requestCount = Number(values.requests);
const intervalMs = Number(values["interval-ms"]);
const PROMPTS = 100_000;
const JOBS = 250_000;
const HOT_JOBS = 25_000;
const WORDS = ["lighthouse", "dusk", "forest", "owl", "mountain", "river", "castle", "dragon", "garden", "harbor", "desert", "glacier", "meadow", "city", "robot", "portrait", "ocean", "storm", "temple", "market", "bridge", "violin", "fox", "tiger", "cathedral", "nebula", "canyon", "orchard", "lantern", "train"];

const { defer, cleanUp, state } = createCleanup();

async function graphql(url: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: any; errors?: { message: string }[] };
  if (body.errors) throw new Error(`GraphQL error: ${body.errors[0]!.message}`);
  return body.data;
}

/** Calls made before the timed ones: the first requests of a kind compile code paths and warm caches. */
const WARM_UP = 20;

/** Latency of `calls` calls made one after another, after WARM_UP untimed ones. */
async function timed(label: string, calls: number, call: (i: number) => Promise<unknown>) {
  const bar = createProgressBar(label, " requests");
  const latencies: number[] = [];
  for (let i = 0; i < WARM_UP + calls; i++) {
    const started = now();
    await call(i);
    if (i >= WARM_UP) latencies.push(now() - started);
    bar.update(i + 1, WARM_UP + calls);
  }
  bar.stop();
  return { label, latencies };
}

try {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "atelier-bench-api-"));
  defer(`remove ${dataDir}`, () => fs.rm(dataDir, { recursive: true, force: true }));
  const databaseUrl = await createBenchDatabase(adminUrl, "api", defer);
  const env = { DATABASE_URL: databaseUrl, ATELIER_DATA_DIR: dataDir, PORT: String(await freePort()), ATELIER_EMBEDDED_WORKER: "0", LOG_LEVEL: "warn" };
  const server = await startServer(loadConfig(env), createLogger("warn"), env);
  defer("stop the server", () => server.stop());
  const prisma = server.platform.prisma;

  // ---- 1. Step-event latency through graphql-ws ---------------------------------------------
  // The job stays QUEUED (no worker): only the published events reach its subscribers.
  const { generate } = await graphql(server.url, `mutation { generate(input: { prompt: "a followed job", samples: 4, steps: 50 }) { id } }`);
  const jobId = generate.id as string;
  /** `count` subscribers in a child process (bench/api-subscribers.ts); 100 step events `intervalMs` apart. */
  async function followers(count: number) {
    const child = fork(new URL("./api-subscribers.ts", import.meta.url), { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    defer("stop the subscribers' process", async () => void child.kill());
    const reply = <T>() => new Promise<T>((resolve, reject) => (child.once("message", (message) => resolve(message as T)), child.once("exit", () => reject(new Error("the subscribers' process exited")))));
    const bar = createProgressBar(`subscribing ${count}`, " subscribers");
    const subscribing = now();
    child.send({ url: server.url, jobId, count });
    await reply<{ ready: true }>();
    bar.update(count, count);
    bar.stop();
    const subscribeMs = now() - subscribing;
    const events = 100;
    const sentAt = new Map<string, number>();
    // The server's CPU time (this process: user + system) from the first publish to the last receipt.
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < events; i++) {
      const sampleIndex = i % 4;
      const step = Math.floor(i / 4) + 1;
      sentAt.set(`${sampleIndex}:${step}`, wallClock());
      await server.platform.events.publish({ type: "step", jobId, sampleIndex, step, totalSteps: 50, progress: i / events, preview: null });
      await sleep(intervalMs);
    }
    await sleep(500);
    const cpu = process.cpuUsage(cpuBefore);
    child.send({ report: true });
    const { receipts } = await reply<{ receipts: Record<string, number[]> }>();
    const received = [...sentAt].flatMap(([key, sent]) => (receipts[key] ?? []).map((receivedAt) => receivedAt - sent));
    return { count, subscribeMs, received, expected: count * events, cpuMicrosPerDelivery: (cpu.user + cpu.system) / (count * events) };
  }
  const latency = [await followers(1), await followers(subscriberCount), await followers(1)];

  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  console.log(`\nrun: ${new Date().toISOString()}`);
  console.log(`machine: ${cpu} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  console.log(`\n### 1. Step-event latency: bus publish → graphql-ws subscriber (100 events, ${intervalMs} ms apart)\n`);
  console.log("| subscribers | subscribe all (ms) | received / expected | p50 (ms) | p99 (ms) | max (ms) | server CPU per delivery (µs) |\n| --- | --- | --- | --- | --- | --- | --- |");
  for (const run of latency) console.log(`| ${run.count} | ${ms(run.subscribeMs)} | ${run.received.length} / ${run.expected} | ${ms(median(run.received), 2)} | ${ms(percentile(run.received, 99), 2)} | ${ms(max(run.received), 2)} | ${ms(run.cpuMicrosPerDelivery)} |`);
  const big = latency[1]!;
  console.log(`\nGoal: step-event p99 ≤ 50 ms with ${subscriberCount} graphql-ws subscribers: ${percentile(big.received, 99) <= 50 && big.received.length === big.expected ? "met" : "NOT met"} (${ms(percentile(big.received, 99), 2)} ms, ${big.received.length}/${big.expected} received)`);
  console.log(`load average after the events: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);

  if (!values["events-only"]) await measureQueries();

  /** Parts 2 and 3, on the seeded database. */
  async function measureQueries() {
    // ---- Seed: bulk SQL, no ORM round trips -------------------------------------------------
    const seedStarted = now();
    // The bulk path: the triggers that keep each prompt's counts would update the hot prompt's row a
    // million times; they are off while seeding and the counts are set once at the end.
    await prisma.$executeRawUnsafe(`ALTER TABLE "Job" DISABLE TRIGGER "Job_count_in_Prompt"`);
    await prisma.$executeRawUnsafe(`ALTER TABLE "Image" DISABLE TRIGGER "Image_count_in_Prompt"`);
    const words = `ARRAY[${WORDS.map((word) => `'${word}'`).join(",")}]`;
    const n = WORDS.length;
    await prisma.$executeRawUnsafe(`
      INSERT INTO "Prompt" (id, text, "normalizedText")
      SELECT gen_random_uuid(), t, t FROM (
        SELECT 'a ' || (${words})[1 + i % ${n}] || ' and a ' || (${words})[1 + (i / ${n}) % ${n}] || ' by the ' || (${words})[1 + (i / ${n * n}) % ${n}] || ' no ' || i AS t
        FROM generate_series(1, ${PROMPTS}) AS i) AS prompts`);
    await prisma.$executeRawUnsafe(`CREATE TEMP TABLE bench_prompt AS SELECT id, row_number() OVER (ORDER BY "createdAt", id) AS n FROM "Prompt"`);
    await prisma.$executeRawUnsafe(`
      INSERT INTO "Job" (id, "promptId", samples, seed, steps, "guidanceScale", width, height, scheduler, "modelName", "clipModelName", status, progress, "finishedAt")
      SELECT gen_random_uuid(), p.id, 4, j, 20, 7.5, 512, 512, 'EULER_ANCESTRAL', 'demo-sd-tiny', 'demo-clip-tiny', 'SUCCEEDED', 1, now()
      FROM generate_series(1, ${JOBS}) AS j
      JOIN bench_prompt p ON p.n = CASE WHEN j <= ${HOT_JOBS} THEN 1 ELSE 2 + (j % ${PROMPTS - 1}) END`);
    await prisma.$executeRawUnsafe(`
      INSERT INTO "Image" (id, "jobId", "promptId", "sampleIndex", seed, "clipScore", "clipEmbedding", rank, width, height, format, "storageKey", "thumbnailKey", "byteSize", sha256, "timingsMs")
      SELECT gen_random_uuid(), j.id, j."promptId", s, j.seed + s, random() * 40, '{}', s + 1, 512, 512, 'png',
             md5(j.id::text || s) || md5(j.id::text || s || 'x') || '.png', md5(j.id::text || s || 't') || md5(j.id::text || s || 'u') || '.webp', 300000, md5(j.id::text || s), '{}'
      FROM "Job" j CROSS JOIN generate_series(0, 3) AS s`);
    await prisma.$executeRawUnsafe(`
      UPDATE "Prompt" p SET "jobCount" = c.jobs, "imageCount" = c.jobs * 4
      FROM (SELECT "promptId", count(*) AS jobs FROM "Job" GROUP BY "promptId") AS c WHERE c."promptId" = p.id`);
    await prisma.$executeRawUnsafe(`ALTER TABLE "Job" ENABLE TRIGGER "Job_count_in_Prompt"`);
    await prisma.$executeRawUnsafe(`ALTER TABLE "Image" ENABLE TRIGGER "Image_count_in_Prompt"`);
    await prisma.$executeRawUnsafe(`VACUUM ANALYZE`);
    const seedMs = now() - seedStarted;
    const [counts] = await prisma.$queryRawUnsafe<{ prompts: bigint; images: bigint }[]>(`SELECT (SELECT count(*) FROM "Prompt") AS prompts, (SELECT count(*) FROM "Image") AS images`);
    const hot = (await prisma.$queryRawUnsafe<{ text: string }[]>(`SELECT text FROM "Prompt" p JOIN bench_prompt b ON b.id = p.id WHERE b.n = 1`))[0]!.text;
    const small = await prisma.$queryRawUnsafe<{ text: string }[]>(`SELECT text FROM "Prompt" ORDER BY random() LIMIT ${requestCount + WARM_UP}`);

    // ---- 2. Gallery --------------------------------------------------------------------------
    const GALLERY = `query ($prompt: String!, $after: String) { gallery(prompt: $prompt, first: 24, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id clipScore rank url thumbnailUrl job { id seed } } } } }`;
    const galleries = [
      await timed("gallery, first page of the 100,000-image prompt", requestCount, () => graphql(server.url, GALLERY, { prompt: hot })),
      await (async () => {
        let after: string | null = null;
        return timed("gallery, walking the 100,000-image prompt's pages", requestCount, async () => {
          const data = await graphql(server.url, GALLERY, { prompt: hot, after });
          after = data.gallery.pageInfo.endCursor;
        });
      })(),
      await timed("gallery, first page of a random 4-image prompt", requestCount, (i) => graphql(server.url, GALLERY, { prompt: small[i % small.length]!.text })),
    ];

    // ---- 3. searchPrompts --------------------------------------------------------------------
    const misspell = (word: string) => word.slice(0, 2) + word[3] + word[2] + word.slice(4);
    const searches = await timed("searchPrompts over 100,000 prompts", requestCount, (i) =>
      graphql(server.url, `query ($q: String!) { searchPrompts(query: $q, first: 20) { id text } }`, { q: i % 2 === 0 ? WORDS[i % n]! : misspell(WORDS[i % n]!) }),
    );

    console.log(`\nseed: ${counts!.prompts} prompts, ${counts!.images} images, in ${(seedMs / 1000).toFixed(1)} s`);
    console.log("\n### 2 and 3. Queries over HTTP, one after another\n");
    console.log("| query | requests | p50 (ms) | p99 (ms) | max (ms) |\n| --- | --- | --- | --- | --- |");
    for (const run of [...galleries, searches]) console.log(`| ${run.label} | ${run.latencies.length} | ${ms(median(run.latencies), 2)} | ${ms(percentile(run.latencies, 99), 2)} | ${ms(max(run.latencies), 2)} |`);
    const galleryP99 = Math.max(...galleries.map((run) => percentile(run.latencies, 99)));
    console.log(`\nGoal: gallery p99 ≤ 20 ms over 1,000,000 images: ${galleryP99 <= 20 ? "met" : "NOT met"} (worst p99 of the three: ${ms(galleryP99, 2)} ms)`);
    console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  }
} catch (error) {
  if (!state.interrupted) console.error(error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}

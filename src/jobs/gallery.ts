/**
 * Reading what was made: the gallery of a prompt (every image ever made for it, best CLIP score
 * first), fuzzy prompt search, and where a waiting job stands in the queue.
 */
import { WITHOUT_EMBEDDING, type Db, type ImageRow } from "../db/prisma.ts";
import { checkId, NotFoundError, type JobPlatform } from "./job-platform.ts";
import { checkPageSize, decodeCursor, toPage, type Page } from "./pages.ts";
import { normalizePromptText } from "./prompt-text.ts";

/** Least pg_trgm word similarity of a search result to the query. */
const SEARCH_THRESHOLD = 0.4;

/**
 * Images of the prompt (compared as normalized text) by CLIP score, best first, ties by id: the order
 * of the index ("promptId", "clipScore" DESC, "id"), which serves each page as a range scan.
 */
export async function gallery(platform: JobPlatform, promptText: string, first = 24, after?: string | null): Promise<Page<ImageRow>> {
  const prompt = await platform.prisma.prompt.findUnique({ where: { normalizedText: normalizePromptText(promptText) }, select: { id: true, imageCount: true } });
  if (!prompt) return { nodes: [], hasNextPage: false, endCursor: null, totalCount: 0 };
  return promptGallery(platform, prompt, first, after);
}

/** A page of the prompt's gallery; its totalCount is the prompt's imageCount, which triggers keep. */
export async function promptGallery(platform: JobPlatform, prompt: Pick<Db.Prompt, "id" | "imageCount">, first = 24, after?: string | null): Promise<Page<ImageRow>> {
  checkPageSize(first);
  const cursor = after ? decodeCursor(after, "gallery", ([score, id]) => (typeof score === "number" && typeof id === "string" ? { score, id } : undefined)) : undefined;
  const images = await platform.prisma.image.findMany({
    where: {
      promptId: prompt.id,
      ...(cursor && { OR: [{ clipScore: { lt: cursor.score } }, { clipScore: cursor.score, id: { gt: cursor.id } }] }),
    },
    orderBy: [{ clipScore: "desc" }, { id: "asc" }],
    take: first + 1,
    omit: WITHOUT_EMBEDDING,
  });
  return toPage(images, first, (image) => [image.clipScore, image.id], prompt.imageCount);
}

/**
 * Prompts whose text contains something like the query, most similar first: pg_trgm's word
 * similarity (the query against the closest stretch of the prompt), served by the trigram index.
 */
export async function searchPrompts(platform: JobPlatform, query: string, first = 20): Promise<Db.Prompt[]> {
  checkPageSize(first);
  const needle = normalizePromptText(query);
  if (needle.length === 0) return [];
  const [, ids] = await platform.prisma.$transaction([
    // pg_trgm's default threshold (0.6) misses a single transposed letter ("lighthuose"); 0.4 finds it
    // and still leaves out unrelated prompts. Set for this transaction only (set_config's `true`).
    platform.prisma.$queryRaw`SELECT set_config('pg_trgm.word_similarity_threshold', ${String(SEARCH_THRESHOLD)}, true)`,
    platform.prisma.$queryRaw<{ id: string }[]>`
      SELECT id FROM "Prompt"
      WHERE ${needle} <% "normalizedText"
      ORDER BY word_similarity(${needle}, "normalizedText") DESC, "createdAt" DESC
      LIMIT ${first}`,
  ]);
  const prompts = await platform.prisma.prompt.findMany({ where: { id: { in: ids.map((row) => row.id) } } });
  const byId = new Map(prompts.map((prompt) => [prompt.id, prompt]));
  return ids.map((row) => byId.get(row.id)!);
}

export interface QueueStanding {
  /** 1 = next to be claimed. */
  position: number;
  /** Seconds until it finishes, from recent jobs' speed; null until a job has finished. */
  estimatedSeconds: number | null;
}

/** Where a QUEUED job stands; undefined for a job in any other status. */
export async function queueStanding(platform: JobPlatform, jobId: string): Promise<QueueStanding | undefined> {
  checkId(jobId, "job");
  if ((await platform.prisma.job.count({ where: { id: jobId } })) === 0) throw new NotFoundError(`No job has the id ${jobId}`);
  return (await queueStandings(platform, [jobId])).get(jobId);
}

/**
 * Where each of the QUEUED jobs among `jobIds` stands, in two queries however many there are
 * (ids of jobs in other statuses, or of none, are left out). A job's position counts the waiting
 * jobs created before it or at the same moment, itself included; the work ahead of it is their
 * steps and what the running jobs have left, at the speed of the last 20 jobs that succeeded,
 * shared among as many workers as jobs are running.
 */
export async function queueStandings(platform: JobPlatform, jobIds: readonly string[]): Promise<Map<string, QueueStanding>> {
  const ahead = await platform.prisma.$queryRaw<{ id: string; position: bigint; work: number }[]>`
    SELECT id, position, queued_work + (SELECT coalesce(sum((1 - progress) * samples * steps), 0) FROM "Job" WHERE status = 'RUNNING') AS work
    FROM (
      SELECT id, count(*) OVER by_age AS position, sum(samples * steps) OVER by_age AS queued_work
      FROM "Job" WHERE status = 'QUEUED'
      WINDOW by_age AS (ORDER BY "createdAt" RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ) AS queue
    WHERE id = ANY(${[...jobIds]}::uuid[])`;
  if (ahead.length === 0) return new Map();
  const [speed] = await platform.prisma.$queryRaw<{ secondsPerStep: number | null; running: bigint }[]>`
    SELECT (SELECT sum(extract(epoch FROM "finishedAt" - "startedAt")) / nullif(sum(samples * steps), 0)
            FROM (SELECT * FROM "Job" WHERE status = 'SUCCEEDED' ORDER BY "finishedAt" DESC LIMIT 20) AS recent) AS "secondsPerStep",
           (SELECT count(*) FROM "Job" WHERE status = 'RUNNING') AS running`;
  const parallel = Math.max(1, Number(speed!.running));
  const secondsPerStep = speed!.secondsPerStep == null ? null : Number(speed!.secondsPerStep);
  return new Map(
    ahead.map((job) => [job.id, { position: Number(job.position), estimatedSeconds: secondsPerStep === null ? null : Math.round((Number(job.work) * secondsPerStep) / parallel) }]),
  );
}

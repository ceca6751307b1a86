/**
 * Atelier's in-process migrations (src/db/migrations.ts) on a fresh database of this file's own:
 * the status before and after, what `_prisma_migrations` records, and what the initial migration
 * adds beyond Prisma's DDL (CHECK constraints, the pg_trgm index). The tests run in order and
 * build on each other, as a first deploy does.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { deployMigrations, MIGRATIONS_DIR, migrationStatus } from "../../src/db/migrations.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

let database: TestDatabase;
let client: pg.Client;
/** Every migration in prisma/migrations, oldest first (their names start with a timestamp). */
let migrationNames: string[];

beforeAll(async () => {
  database = await createTestDatabase(inject("adminDatabaseUrl"), "atelier_migrations");
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  migrationNames = (await readdir(MIGRATIONS_DIR, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
});
afterAll(async () => {
  await client?.end();
  await database?.drop();
});

describe("deployMigrations and migrationStatus", () => {
  it("report every migration as pending on an empty database, oldest first", async () => {
    const status = await migrationStatus(database.url);
    expect(migrationNames[0]).toMatch(/^\d{14}_init$/);
    expect(status.pending).toEqual(migrationNames);
    expect(status).toMatchObject({ applied: [], failed: [] });
  });

  it("apply them, recording each in _prisma_migrations as `prisma migrate deploy` does", async () => {
    expect(await deployMigrations(database.url)).toEqual({ applied: migrationNames });
    const { rows } = await client.query(
      `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at, logs, applied_steps_count
         FROM _prisma_migrations ORDER BY migration_name`,
    );
    const expected = await Promise.all(
      migrationNames.map(async (name) => ({
        migration_name: name,
        checksum: createHash("sha256").update(await readFile(path.join(MIGRATIONS_DIR, name, "migration.sql"))).digest("hex"),
        finished: true,
        rolled_back_at: null,
        logs: null,
        applied_steps_count: 1,
      })),
    );
    expect(rows).toEqual(expected);
    expect(await migrationStatus(database.url)).toEqual({ applied: migrationNames, pending: [], failed: [] });
  });

  it("apply nothing the second time", async () => {
    expect(await deployMigrations(database.url)).toEqual({ applied: [] });
  });

  it("fail with a message that names an unreachable server", async () => {
    await expect(migrationStatus("postgresql://postgres@127.0.0.1:1/atelier")).rejects.toThrow(
      "Can't reach database server at `127.0.0.1:1`",
    );
  });
});

describe("the migrated schema's CHECK constraints", () => {
  const VALID_JOB = {
    samples: 1,
    seed: 0,
    steps: 1,
    guidanceScale: 0,
    width: 8,
    height: 8,
    progress: 0,
    attempts: 0,
  };
  const VALID_IMAGE = { sampleIndex: 0, rank: 1, byteSize: 0 };

  async function insertJob(overrides: Record<string, unknown>) {
    const prompt = await client.query(
      `INSERT INTO "Prompt" (id, text, "normalizedText") VALUES (gen_random_uuid(), 'p', gen_random_uuid()::text) RETURNING id`,
    );
    const row: Record<string, unknown> = { ...VALID_JOB, ...overrides };
    const columns = Object.keys(row);
    const job = await client.query(
      `INSERT INTO "Job" (id, "promptId", scheduler, "modelName", "clipModelName", ${columns.map((c) => `"${c}"`).join(", ")})
       VALUES (gen_random_uuid(), $1, 'EULER', 'demo', 'demo-clip', ${columns.map((_, i) => `$${i + 2}`).join(", ")}) RETURNING id, "promptId"`,
      [prompt.rows[0].id, ...Object.values(row)],
    );
    return job.rows[0] as { id: string; promptId: string };
  }

  async function insertImage(overrides: Record<string, unknown>) {
    const job = await insertJob({});
    const row: Record<string, unknown> = { ...VALID_IMAGE, ...overrides };
    const columns = Object.keys(row);
    await client.query(
      `INSERT INTO "Image" (id, "jobId", "promptId", seed, "clipScore", width, height, format, "storageKey", "thumbnailKey",
                            sha256, "timingsMs", ${columns.map((c) => `"${c}"`).join(", ")})
       VALUES (gen_random_uuid(), $1, $2, 0, 30, 8, 8, 'png', gen_random_uuid()::text, gen_random_uuid()::text, '', '{}',
               ${columns.map((_, i) => `$${i + 3}`).join(", ")})`,
      [job.id, job.promptId, ...Object.values(row)],
    );
  }

  it("accepts jobs and images at the edges of every CHECK constraint", async () => {
    await expect(insertJob({ seed: "9007199254740991", progress: 1, width: 2048, height: 16, guidanceScale: 30 })).resolves.toBeTruthy();
    await expect(insertImage({ sampleIndex: 7, rank: 8, byteSize: 2 ** 31 - 1 })).resolves.toBeUndefined();
  });

  it.each([
    ["Job_samples_check", { samples: 0 }],
    ["Job_steps_check", { steps: 0 }],
    ["Job_width_check", { width: 0 }],
    ["Job_width_check", { width: 100 }],
    ["Job_height_check", { height: -8 }],
    ["Job_height_check", { height: 511 }],
    ["Job_guidanceScale_check", { guidanceScale: -0.5 }],
    ["Job_seed_check", { seed: -1 }],
    ["Job_seed_check", { seed: "9007199254740992" }],
    ["Job_progress_check", { progress: -0.01 }],
    ["Job_progress_check", { progress: 1.01 }],
    ["Job_attempts_check", { attempts: -1 }],
  ])("rejects a job that breaks %s: %o", async (constraint, overrides) => {
    await expect(insertJob(overrides)).rejects.toMatchObject({ code: "23514", constraint });
  });

  it.each([
    ["Image_sampleIndex_check", { sampleIndex: -1 }],
    ["Image_rank_check", { rank: 0 }],
    ["Image_byteSize_check", { byteSize: -1 }],
  ])("rejects an image that breaks %s: %o", async (constraint, overrides) => {
    await expect(insertImage(overrides)).rejects.toMatchObject({ code: "23514", constraint });
  });

  it("indexes normalized prompt text by trigrams (pg_trgm)", async () => {
    const extension = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'");
    expect(extension.rowCount).toBe(1);
    const index = await client.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'Prompt_normalizedText_trgm_idx'");
    expect(index.rows[0]?.indexdef).toMatch(/USING gin \("normalizedText" gin_trgm_ops\)/);
  });
});

describe("the prompt counts the triggers keep", () => {
  it("count a prompt's jobs and images as rows come and go, cascades included", async () => {
    const prompt = await client.query(`INSERT INTO "Prompt" (id, text, "normalizedText") VALUES (gen_random_uuid(), 'counted', gen_random_uuid()::text) RETURNING id`);
    const promptId = prompt.rows[0].id as string;
    const counts = async () => (await client.query(`SELECT "jobCount", "imageCount" FROM "Prompt" WHERE id = $1`, [promptId])).rows[0];
    const job = await client.query(
      `INSERT INTO "Job" (id, "promptId", scheduler, "modelName", "clipModelName", samples, seed, steps, "guidanceScale", width, height)
       VALUES (gen_random_uuid(), $1, 'EULER', 'demo', 'demo-clip', 2, 0, 1, 0, 8, 8) RETURNING id`,
      [promptId],
    );
    const jobId = job.rows[0].id as string;
    for (const sampleIndex of [0, 1]) {
      await client.query(
        `INSERT INTO "Image" (id, "jobId", "promptId", "sampleIndex", seed, "clipScore", width, height, format, "storageKey", "thumbnailKey", "byteSize", sha256, "timingsMs")
         VALUES (gen_random_uuid(), $1, $2, $3, 0, 30, 8, 8, 'png', 'k', 't', 0, '', '{}')`,
        [jobId, promptId, sampleIndex],
      );
    }
    expect(await counts()).toEqual({ jobCount: 1, imageCount: 2 });
    await client.query(`DELETE FROM "Image" WHERE "jobId" = $1 AND "sampleIndex" = 0`, [jobId]);
    expect(await counts()).toEqual({ jobCount: 1, imageCount: 1 });
    // Deleting the job deletes its images by cascade: both counts follow.
    await client.query(`DELETE FROM "Job" WHERE id = $1`, [jobId]);
    expect(await counts()).toEqual({ jobCount: 0, imageCount: 0 });
  });
});

/**
 * Prisma's own CLI, run as a user runs it (`npx prisma …`), offline, through the WebAssembly
 * schema engine that prisma.config.ts puts in place of the native binary: it must agree with
 * Atelier's in-process migrations and find no drift between the migrations, the schema and a
 * migrated database. One database for the whole file: each CLI start costs seconds.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { deployMigrations } from "../../src/db/migrations.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PRISMA_CLI = fileURLToPath(new URL("../../node_modules/prisma/build/index.js", import.meta.url));

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(inject("adminDatabaseUrl"), "atelier_prisma_cli");
});
afterAll(() => database?.drop());

/** Runs `prisma <args>` from the repository root with DATABASE_URL set; never rejects. */
function prisma(args: string[], databaseUrl = database.url): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PRISMA_CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: databaseUrl } }, (error, stdout, stderr) =>
      resolve({ code: typeof error?.code === "number" ? error.code : error ? -1 : 0, output: `${stdout}${stderr}` }),
    );
  });
}

async function shadowDatabases(): Promise<string[]> {
  const client = new pg.Client({ connectionString: inject("adminDatabaseUrl") });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT datname FROM pg_database WHERE datname LIKE 'prisma_migrate_shadow_db_%'");
    return rows.map((row: { datname: string }) => row.datname);
  } finally {
    await client.end();
  }
}

describe("npx prisma, through the WebAssembly schema engine", () => {
  it("migrate status lists the migrations as pending on an empty database", async () => {
    const { code, output } = await prisma(["migrate", "status"]);
    expect(output).toMatch(/Following migrations have not yet been applied:\s+\d{14}_init\s+\d{14}_job_platform/);
    expect(code).toBe(1);
  });

  it("migrate status agrees with deployMigrations: up to date afterwards", async () => {
    expect((await deployMigrations(database.url)).applied.length).toBeGreaterThan(1);
    const { code, output } = await prisma(["migrate", "status"]);
    expect(output).toContain("Database schema is up to date!");
    expect(code).toBe(0);
  });

  it("migrate diff finds no drift from the migrations (replayed on a shadow database) to the schema", async () => {
    const shadowsBefore = await shadowDatabases();
    const args = ["migrate", "diff", "--from-migrations", "prisma/migrations", "--to-schema", "prisma/schema.prisma", "--exit-code"];
    const { code, output } = await prisma(args);
    expect(output).toContain("No difference detected.");
    expect(code).toBe(0);
    // The shadow database is dropped again.
    expect(await shadowDatabases()).toEqual(shadowsBefore);
  });

  it("migrate diff finds no drift from the migrated database to the schema", async () => {
    const args = ["migrate", "diff", "--from-config-datasource", "--to-schema", "prisma/schema.prisma", "--exit-code"];
    const { code, output } = await prisma(args);
    expect(output).toContain("No difference detected.");
    expect(code).toBe(0);
  });

  it("passes on the database's own error", async () => {
    const missing = new URL(database.url);
    missing.pathname = `/${database.name}_missing`;
    const { code, output } = await prisma(["migrate", "status"], missing.toString());
    expect(output).toContain(`P1003: Database \`${database.name}_missing\` does not exist`);
    expect(output).toContain(`Database error: database "${database.name}_missing" does not exist`);
    expect(code).toBe(1);
  });
});

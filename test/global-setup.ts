/**
 * Runs once per `vitest run`: picks the PostgreSQL server (test/support/test-database.ts: the one
 * ATELIER_TEST_DATABASE_URL names, else the local one on 5432, else a temporary embedded one) and
 * makes one fresh, migrated database on it that test files share through `inject("databaseUrl")`;
 * files that need a database of their own make one on `inject("adminDatabaseUrl")`. Also one
 * temporary folder under which tests make theirs (`inject("tempRoot")`, test/support/temp-dir.ts).
 * Everything is removed at the end: the database, the embedded server if it was started, the folder.
 *
 * It also builds the web client when its build is missing or stale, once, before any file runs:
 * every `atelier serve` the tests start then finds it fresh, rather than several building at once.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { deployMigrations } from "../src/db/migrations.ts";
import { ensureWebClient } from "../src/http/web-client-build.ts";
import { createLogger } from "../src/log.ts";
import { createTestDatabase, resolveTestServer } from "./support/test-database.ts";

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    databaseUrl: string;
    tempRoot: string;
  }
}

export default async function setup(project: TestProject) {
  const tempRoot = await fs.mkdtemp(path.join(os.tmpdir(), "atelier-test-"));
  // Readable by other users: as root, the embedded PostgreSQL runs as `postgres` inside it.
  await fs.chmod(tempRoot, 0o755);
  // Undone last to first, also when a step of the setup fails: nothing is left running or on disk.
  const undo: (() => Promise<unknown>)[] = [() => fs.rm(tempRoot, { recursive: true, force: true })];
  const teardown = async () => {
    for (const step of undo.reverse()) await step();
  };
  try {
    await ensureWebClient(createLogger("info", (line) => console.log(line.trimEnd())));
    const server = await resolveTestServer(tempRoot);
    undo.push(() => server.stop());
    console.log(`Tests use ${server.description}.`);
    const database = await createTestDatabase(server.adminUrl, "atelier_run");
    undo.push(() => database.drop());
    await deployMigrations(database.url);
    project.provide("adminDatabaseUrl", server.adminUrl);
    project.provide("databaseUrl", database.url);
    project.provide("tempRoot", tempRoot);
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

/**
 * Runs once per `vitest run`: one fresh, migrated database that test files share through
 * `inject("databaseUrl")`, and one temporary folder under which tests make theirs
 * (`inject("tempRoot")`, test/support/temp-dir.ts); both are removed at the end. Files that need a
 * database of their own make one with test/support/test-database.ts.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { deployMigrations } from "../src/db/migrations.ts";
import { createTestDatabase } from "./support/test-database.ts";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    tempRoot: string;
  }
}

export default async function setup(project: TestProject) {
  const database = await createTestDatabase("atelier_run");
  await deployMigrations(database.url);
  project.provide("databaseUrl", database.url);
  const tempRoot = await fs.mkdtemp(path.join(os.tmpdir(), "atelier-test-"));
  // Readable by other users: as root, the embedded PostgreSQL runs as `postgres` inside it.
  await fs.chmod(tempRoot, 0o755);
  project.provide("tempRoot", tempRoot);
  return async () => {
    await database.drop();
    await fs.rm(tempRoot, { recursive: true, force: true });
  };
}

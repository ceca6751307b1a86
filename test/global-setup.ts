/**
 * Runs once per `vitest run`: one fresh, migrated database that test files share through
 * `inject("databaseUrl")`, dropped at the end. Files that need isolation of their own make
 * another with test/support/test-database.ts.
 */
import type { TestProject } from "vitest/node";
import { deployMigrations } from "../src/db/migrations.ts";
import { createTestDatabase } from "./support/test-database.ts";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const database = await createTestDatabase("atelier_run");
  await deployMigrations(database.url);
  project.provide("databaseUrl", database.url);
  return () => database.drop();
}

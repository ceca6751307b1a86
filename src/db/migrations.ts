/**
 * Atelier's schema migrations (prisma/migrations), applied in-process by `atelier serve`,
 * `atelier worker` and `atelier migrate`: no Prisma CLI and no child process. The work is done by
 * Prisma's own schema engine, compiled to WebAssembly, the same code `npx prisma migrate` runs
 * through src/db/schema-engine, so a migration applied here is recorded in
 * `_prisma_migrations` exactly as `prisma migrate deploy` records it, and the CLI agrees afterwards.
 *
 * Failures throw SchemaEngineError: its message is Prisma's (with the database's own error text),
 * its `code` Prisma's error code when there is one (P3005 non-empty database, P3009 failed
 * migration, ...).
 */
import { fileURLToPath } from "node:url";
import type { DiagnoseMigrationHistoryOutput, MigrationList } from "@prisma/schema-engine-wasm/schema_engine_bg";
import { withEngineSession } from "./schema-engine/engine-session.ts";
import { readMigrationsDirectory } from "./schema-engine/migrations-directory.ts";

export { SchemaEngineError } from "./schema-engine/engine-errors.ts";

/** The repository's migrations folder, wherever the process was started from. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

/** Atelier manages every table and enum in its schema: nothing is left out of migrations. */
const NO_EXTERNAL_ENTITIES = { externalTables: [], externalEnums: [] };

export interface MigrationStatus {
  /** Migrations recorded as applied, in order (with any the database has but the folder lacks, last). */
  applied: string[];
  /** Migrations in the folder that the database has not applied yet, in order. */
  pending: string[];
  /** Migrations that started and failed; nothing more applies until they are resolved (`prisma migrate resolve`). */
  failed: string[];
}

/**
 * Applies the pending migrations in order, like `prisma migrate deploy` (which also creates the
 * database when it is missing; here it must exist). Returns the names of those applied now.
 */
export async function deployMigrations(connectionString: string): Promise<{ applied: string[] }> {
  const migrationsList = await readMigrationsDirectory(MIGRATIONS_DIR);
  const { appliedMigrationNames } = await withEngineSession({ connectionString }, (engine) =>
    engine.applyMigrations({ migrationsList, filters: NO_EXTERNAL_ENTITIES }),
  );
  return { applied: appliedMigrationNames };
}

/** Compares the migrations folder with the database's migration history, like `prisma migrate status`. */
export async function migrationStatus(connectionString: string): Promise<MigrationStatus> {
  const migrationsList = await readMigrationsDirectory(MIGRATIONS_DIR);
  const diagnostic = await withEngineSession({ connectionString }, (engine) =>
    engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters: NO_EXTERNAL_ENTITIES }),
  );
  return summarize(migrationsList, diagnostic);
}

function summarize(migrationsList: MigrationList, { history, failedMigrationNames }: DiagnoseMigrationHistoryOutput): MigrationStatus {
  const pending = history && history.diagnostic !== "migrationsDirectoryIsBehind" ? history.unappliedMigrationNames : [];
  const onlyInDatabase = history && history.diagnostic !== "databaseIsBehind" ? history.unpersistedMigrationNames : [];
  const notApplied = new Set([...pending, ...failedMigrationNames]);
  const local = migrationsList.migrationDirectories.map((directory) => directory.path);
  return {
    applied: [...local.filter((name) => !notApplied.has(name)), ...onlyInDatabase],
    pending,
    failed: failedMigrationNames,
  };
}

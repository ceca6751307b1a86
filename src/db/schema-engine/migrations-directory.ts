/**
 * A Prisma migrations folder (`<timestamp>_<name>/migration.sql` plus `migration_lock.toml`) read
 * into the list the schema engine takes, the way Prisma's CLI reads it: directories in name order,
 * each script as UTF-8 text (its checksum in `_prisma_migrations` is taken over those bytes), and
 * a missing file reported as that migration's error rather than a failure of the whole read.
 */
import type { Dirent } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { MigrationDirectory, MigrationList } from "@prisma/schema-engine-wasm/schema_engine_bg";

const LOCKFILE = "migration_lock.toml";
const SCRIPT = "migration.sql";

/** @param shadowDbInitScript SQL run on a shadow database before the migrations (prisma.config's `migrations.initShadowDb`). */
export async function readMigrationsDirectory(baseDir: string, shadowDbInitScript = ""): Promise<MigrationList> {
  const entries = await readdir(baseDir, { withFileTypes: true }).catch((): Dirent[] => []);
  const migrationDirectories = await Promise.all(
    entries.filter((entry) => entry.isDirectory()).map((entry) => readMigration(baseDir, entry.name)),
  );
  return {
    baseDir,
    lockfile: { path: LOCKFILE, content: await readFile(path.join(baseDir, LOCKFILE), "utf8").catch(() => null) },
    shadowDbInitScript,
    migrationDirectories: migrationDirectories.sort((a, b) => a.path.localeCompare(b.path)),
  };
}

async function readMigration(baseDir: string, name: string): Promise<MigrationDirectory> {
  const content = await readFile(path.join(baseDir, name, SCRIPT), "utf8").then(
    (value) => ({ tag: "ok" as const, value }),
    (error: Error) => ({ tag: "error" as const, value: error.message }),
  );
  return { path: name, migrationFile: { path: SCRIPT, content } };
}

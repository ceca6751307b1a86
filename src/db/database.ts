/**
 * The database a process works with: the operator's PostgreSQL (DATABASE_URL) or the embedded one,
 * opened, checked reachable, and closed again in the right order.
 */
import type { DatabaseConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";
import { deployMigrations } from "./migrations.ts";
import { createPrismaClient, type PrismaClient } from "./prisma.ts";
import { UserFacingError } from "../errors.ts";

export interface Database {
  readonly connectionString: string;
  readonly prisma: PrismaClient;
  /** Whether the database answers a trivial query now. */
  isReachable(): Promise<boolean>;
  /** Disconnects, then stops the embedded PostgreSQL if this process started it. Safe to call twice. */
  close(): Promise<void>;
}

/** Thrown when the database cannot be reached at start; the message names the (password-free) URL. */
export class DatabaseUnavailableError extends UserFacingError {
  override readonly name = "DatabaseUnavailableError";
}

export interface OpenOptions {
  /** Apply pending migrations from prisma/migrations before returning (serve, worker and migrate do). @default true */
  migrate?: boolean;
}

export async function openDatabase(config: DatabaseConfig, log: Logger, options: OpenOptions = {}): Promise<Database> {
  const server = await provideServer(config, log);
  const prisma = createPrismaClient(server.connectionString);
  const isReachable = () => prisma.$queryRaw`SELECT 1`.then(() => true, () => false);
  try {
    await prisma.$queryRaw`SELECT 1`;
  } catch (error) {
    await prisma.$disconnect();
    await server.stop();
    throw new DatabaseUnavailableError(
      `Cannot reach the database at ${redactPassword(server.connectionString)}: ${(error as Error).message}`,
    );
  }
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= prisma.$disconnect().finally(() => server.stop()));
  if (options.migrate ?? true) {
    try {
      const { applied } = await deployMigrations(server.connectionString);
      if (applied.length > 0) log.info("applied database migrations", { applied });
    } catch (error) {
      await close();
      throw error;
    }
  }
  return { connectionString: server.connectionString, prisma, isReachable, close };
}

/** The PostgreSQL server behind the config: the operator's, which we never stop, or the embedded one. */
async function provideServer(config: DatabaseConfig, log: Logger): Promise<{ connectionString: string; stop(): Promise<void> }> {
  if (config.kind === "external") return { connectionString: config.url, stop: async () => {} };
  const embedded = await startEmbeddedPostgres({ clusterDir: config.clusterDir, port: config.port });
  log.info(embedded.owned ? "embedded PostgreSQL started" : "embedded PostgreSQL already running, joined it", {
    clusterDir: config.clusterDir,
    port: config.port,
  });
  return embedded;
}

export function redactPassword(connectionString: string): string {
  return connectionString.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
}

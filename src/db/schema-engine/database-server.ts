/**
 * The PostgreSQL server behind the datasource. When the datasource is Atelier's embedded database
 * (DATABASE_URL unset, so prisma.config.ts pointed Prisma at it), nothing may be running yet on a
 * fresh clone: the server is started before the engine connects and stopped again, so that
 * `npx prisma migrate status` works with no setup and leaves nothing running. A cluster another
 * process runs (say `atelier serve`) is used as it is and left running.
 */
import { loadDatabaseConfig } from "../../config.ts";
import { embeddedConnectionString, startEmbeddedPostgres, type EmbeddedPostgres } from "../../db/embedded-postgres.ts";

export interface DatabaseServer {
  /** True when this process starts and stops the server (the embedded one), false for an external one. */
  readonly managed: boolean;
  /** Resolves once the server accepts connections, starting it (again) if needed. */
  ready(): Promise<void>;
  /** Stops the server if `ready` started it; `ready` may start it again. A no-op otherwise. */
  stop(): Promise<void>;
}

const EXTERNAL: DatabaseServer = { managed: false, ready: async () => {}, stop: async () => {} };

export function databaseServerFor(connectionString: string | undefined, env: NodeJS.ProcessEnv = process.env): DatabaseServer {
  const database = loadDatabaseConfig(env);
  if (database.kind !== "embedded" || connectionString !== embeddedConnectionString(database.port)) return EXTERNAL;
  let running: Promise<EmbeddedPostgres> | undefined;
  return {
    managed: true,
    ready: async () => {
      await (running ??= startEmbeddedPostgres({ clusterDir: database.clusterDir, port: database.port }));
    },
    stop: async () => {
      const server = running;
      running = undefined;
      // A start that failed has nothing to stop; its error went to whoever awaited `ready`.
      await (await server?.catch(() => undefined))?.stop();
    },
  };
}

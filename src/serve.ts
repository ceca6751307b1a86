/**
 * `atelier serve`: the composition root of the API process. Start order: database (embedded
 * PostgreSQL if configured, migrations) → models (demo models made when missing) → HTTP. Stop order is the reverse: stop accepting HTTP,
 * let requests finish, close the database, stop the embedded PostgreSQL.
 */
import type { AtelierConfig } from "./config.ts";
import { openDatabase } from "./db/database.ts";
import { migrationStatus } from "./db/migrations.ts";
import { createApp } from "./http/app.ts";
import { listen } from "./http/server.ts";
import type { Logger } from "./log.ts";
import { prepareModels } from "./models/prepare-models.ts";
import { VERSION } from "./version.ts";

export interface RunningServer {
  /** Base URL of the HTTP server. */
  readonly url: string;
  /** Drains and stops everything this process started. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startServer(config: AtelierConfig, log: Logger): Promise<RunningServer> {
  const database = await openDatabase(config.database, log);
  try {
    await prepareModels(config.models, log);
    const app = createApp({
      health: {
        version: VERSION,
        isDatabaseReachable: database.isReachable,
        pendingMigrations: async () => (await migrationStatus(database.connectionString)).pending,
      },
    });
    const http = await listen(app, config.http.host, config.http.port);
    log.info(`Atelier ${VERSION} listening on ${http.url}`);
    let stopping: Promise<void> | undefined;
    const stop = () => (stopping ??= http.close().finally(() => database.close()));
    return { url: http.url, stop };
  } catch (error) {
    await database.close();
    throw error;
  }
}

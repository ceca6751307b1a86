/**
 * `atelier serve`: the composition root of the API process. Start order: database (embedded
 * PostgreSQL if configured, migrations) → models (demo models made when missing) → job platform
 * (queue, event bus, image store) → the embedded worker (a child process) unless
 * ATELIER_EMBEDDED_WORKER=0 → the web client, built first when missing or stale → HTTP (/healthz,
 * /images/*, the client at /) → GraphQL on /graphql (HTTP and WebSocket).
 * Stop order is the reverse: close GraphQL (subscriptions, then in-flight requests), stop accepting
 * HTTP and let requests finish, stop the worker (its
 * grace period), close the platform and the database, stop the embedded PostgreSQL.
 */
import type { AtelierConfig } from "./config.ts";
import { openDatabase } from "./db/database.ts";
import { migrationStatus } from "./db/migrations.ts";
import { createApp } from "./http/app.ts";
import { ensureWebClient } from "./http/web-client-build.ts";
import { startGraphQL } from "./graphql/graphql-server.ts";
import { listen } from "./http/server.ts";
import type { Logger } from "./log.ts";
import { prepareModels } from "./models/prepare-models.ts";
import { openPlatform, type OpenPlatform } from "./jobs/open-platform.ts";
import { startEmbeddedWorker } from "../workers/embedded-worker.ts";
import { VERSION } from "./version.ts";

export interface RunningServer {
  /** Base URL of the HTTP server. */
  readonly url: string;
  /** What the API's job functions work with. */
  readonly platform: OpenPlatform;
  /** Drains and stops everything this process started. Safe to call twice. */
  stop(): Promise<void>;
}

/** @param env the environment `config` was read from; the embedded worker process gets it too. */
export async function startServer(config: AtelierConfig, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const database = await openDatabase(config.database, log);
  // Undone last to first when a later step fails, and by stop().
  const undo: (() => Promise<unknown>)[] = [() => database.close()];
  const unwind = async () => {
    const failures = [];
    for (const step of undo.reverse()) failures.push(...(await step().then(() => [], (error: unknown) => [error])));
    if (failures.length > 0) throw failures[0];
  };
  try {
    await prepareModels(config.models, log);
    const platform = await openPlatform(config, database, log);
    undo.push(() => platform.close());
    if (config.worker.embedded) {
      const worker = await startEmbeddedWorker(env, log);
      undo.push(() => worker.stop());
    }
    const webClient = await ensureWebClient(log);
    const app = createApp({
      health: {
        version: VERSION,
        isDatabaseReachable: database.isReachable,
        pendingMigrations: async () => (await migrationStatus(database.connectionString)).pending,
      },
      images: platform.store,
      logger: log,
      webClient,
    });
    const http = await listen(app, config.http.host, config.http.port);
    undo.push(() => http.close());
    const graphql = await startGraphQL({ app, server: http.server, platform, log, imageUrlBase: config.http.publicUrl, development: config.http.development, access: config.access });
    undo.push(() => graphql.stop());
    log.info(`Atelier ${VERSION} listening on ${http.url}`);
    let stopping: Promise<void> | undefined;
    return { url: http.url, platform, stop: () => (stopping ??= unwind()) };
  } catch (error) {
    await unwind();
    throw error;
  }
}

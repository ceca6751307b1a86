/**
 * A whole job platform for a test file: its own database (migrated), its own data directory with
 * the demo models, the queue, event bus and file image store, and optionally an in-process worker.
 * Settings are short (heartbeat timeout 3 s, grace 2 s) so recovery tests run in seconds.
 * `env()` gives the same settings to `atelier worker` child processes.
 */
import { inject } from "vitest";
import { loadConfig, type AtelierConfig } from "../../src/config.ts";
import { openDatabase, type Database } from "../../src/db/database.ts";
import { openPlatform, type OpenPlatform } from "../../src/jobs/open-platform.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import { prepareModels } from "../../src/models/prepare-models.ts";
import { startWorker, type RunningWorker } from "../../workers/worker.ts";
import { createTestDatabase, type TestDatabase } from "./test-database.ts";
import { makeTempDir } from "./temp-dir.ts";

export interface TestPlatform {
  config: AtelierConfig;
  platform: OpenPlatform;
  database: Database;
  /** The environment a worker process needs to join this platform. */
  env(overrides?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Starts an in-process worker (stopped by `stop()`). */
  startWorker(): Promise<RunningWorker>;
  /** Stops the in-process workers started so far. */
  stopWorkers(): Promise<void>;
  stop(): Promise<void>;
}

export const TEST_SETTINGS = {
  ATELIER_HEARTBEAT_TIMEOUT_SECONDS: "3",
  ATELIER_SHUTDOWN_GRACE_SECONDS: "2",
  ATELIER_STEP_PREVIEWS: "1",
  LOG_LEVEL: "warn",
};

export interface TestPlatformOptions {
  /** Variables on top of TEST_SETTINGS. */
  settings?: NodeJS.ProcessEnv;
  /** Another PostgreSQL admin URL than the run's (a test that restarts its server). */
  adminUrl?: string;
  log?: Logger;
}

export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const testDatabase: TestDatabase = await createTestDatabase(options.adminUrl ?? inject("adminDatabaseUrl"), "atelier_jobs");
  const dataDir = await makeTempDir("atelier-jobs");
  const variables = { ...TEST_SETTINGS, ...options.settings, DATABASE_URL: testDatabase.url, ATELIER_DATA_DIR: dataDir };
  const config = loadConfig(variables);
  const log = options.log ?? createLogger(config.logLevel);
  const database = await openDatabase(config.database, log);
  await prepareModels(config.models, log);
  const platform = await openPlatform(config, database, log);
  const workers: RunningWorker[] = [];
  return {
    config,
    platform,
    database,
    env: (overrides = {}) => ({ ...variables, ...overrides }),
    async startWorker() {
      const worker = await startWorker(platform, config, log);
      workers.push(worker);
      return worker;
    },
    async stopWorkers() {
      await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    },
    async stop() {
      await Promise.all(workers.map((worker) => worker.stop()));
      await platform.close();
      await database.close();
      await testDatabase.drop();
    },
  };
}

/** Every event of the job until its final status. */
export async function collectEvents<T>(events: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const event of events) collected.push(event);
  return collected;
}

/**
 * `atelier serve` as a user starts it (bin/atelier.js in a child process, the embedded worker
 * included) on a database of its own and a fresh data directory, with the tests' short settings,
 * and a GraphQL helper for what a test prepares or checks through the API.
 */
import { inject } from "vitest";
import { startCli, type CliProcess } from "./cli-process.ts";
import { freePort } from "./free-port.ts";
import { TEST_SETTINGS } from "./job-platform.ts";
import { makeTempDir } from "./temp-dir.ts";
import { createTestDatabase, type TestDatabase } from "./test-database.ts";

export interface ServeProcess {
  readonly url: string;
  readonly cli: CliProcess;
  /** The same server again (same database, data directory and port) after a stop. */
  restart(): Promise<void>;
  /** SIGTERM, and waits for the exit. */
  stop(): Promise<void>;
  /** Stops the server and drops its database. */
  dispose(): Promise<void>;
  /** A POST /graphql; `key` goes as `Authorization: Bearer <key>`. */
  graphql<T = any>(query: string, variables?: Record<string, unknown>, key?: string): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }>;
}

export async function startServe(settings: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const database: TestDatabase = await createTestDatabase(inject("adminDatabaseUrl"), "atelier_web");
  // At info, it says when it listens.
  const env = { ...TEST_SETTINGS, LOG_LEVEL: "info", ...settings, DATABASE_URL: database.url, ATELIER_DATA_DIR: await makeTempDir("atelier-web"), PORT: String(await freePort()) };
  let cli = await started(env);
  const url = `http://127.0.0.1:${env.PORT}`;
  const stop = async () => {
    if (cli.child.exitCode !== null || cli.child.signalCode !== null) return;
    cli.child.kill("SIGTERM");
    await cli.exited;
  };
  return {
    url,
    get cli() {
      return cli;
    },
    restart: async () => {
      await stop();
      cli = await started(env);
    },
    stop,
    dispose: async () => {
      await stop();
      await database.drop();
    },
    graphql: async (query, variables = {}, key) => {
      const response = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as never;
    },
  };
}

/** Longest a start may take before the test gives up on it. */
const START_TIMEOUT_MS = 90_000;

async function started(env: NodeJS.ProcessEnv): Promise<CliProcess> {
  const cli = startCli(["serve"], env);
  // However the test ends (a failed hook never reaches its dispose()), the server does not outlive it.
  const kill = () => cli.child.kill("SIGKILL");
  process.once("exit", kill);
  void cli.exited.then(() => process.off("exit", kill));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`atelier serve did not listen within ${START_TIMEOUT_MS / 1000} s:\n${cli.output()}`)), START_TIMEOUT_MS);
  });
  try {
    await Promise.race([cli.waitFor(/listening on http:\/\//), timeout]);
  } catch (error) {
    kill();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return cli;
}

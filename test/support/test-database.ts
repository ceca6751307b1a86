/**
 * The PostgreSQL server the tests run on, and fresh databases on it.
 *
 * `resolveTestServer()` (called once, by test/global-setup.ts) picks the server:
 * - ATELIER_TEST_DATABASE_URL set to a URL: that server (an admin connection that may create databases);
 * - ATELIER_TEST_DATABASE_URL=embedded, or unset with nothing answering on 127.0.0.1:5432: the embedded
 *   PostgreSQL that `atelier serve` runs (src/db/embedded-postgres.ts), in a temporary cluster on a
 *   free port, stopped by `stop()`;
 * - unset with a server on 127.0.0.1:5432: that server as `postgres` (trust auth, as CI's machine has).
 *
 * Test files get the chosen admin URL through `inject("adminDatabaseUrl")` and make databases of
 * their own with `createTestDatabase`; each gets a random name and is dropped by `drop()`.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "../../src/db/embedded-postgres.ts";
import { freePort } from "./free-port.ts";

const LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres";

export interface TestServer {
  /** Admin connection string: may CREATE and DROP databases. */
  readonly adminUrl: string;
  /** One line for the test output: which server this is. */
  readonly description: string;
  /** Stops the server when the tests started it; a no-op otherwise. */
  stop(): Promise<void>;
}

export async function resolveTestServer(tempRoot: string, setting = process.env.ATELIER_TEST_DATABASE_URL): Promise<TestServer> {
  if (setting && setting !== "embedded") {
    return { adminUrl: setting, description: `PostgreSQL at ${withoutPassword(setting)} (ATELIER_TEST_DATABASE_URL)`, stop: async () => {} };
  }
  if (!setting && (await answers("127.0.0.1", 5432))) {
    return { adminUrl: LOCAL_SERVER, description: `the local PostgreSQL at ${LOCAL_SERVER}`, stop: async () => {} };
  }
  const port = await freePort();
  const embedded = await startEmbeddedPostgres({ clusterDir: path.join(tempRoot, "postgres"), port });
  const adminUrl = new URL(embedded.connectionString);
  adminUrl.pathname = "/postgres";
  const why = setting ? "ATELIER_TEST_DATABASE_URL=embedded" : "nothing answers on 127.0.0.1:5432";
  return { adminUrl: adminUrl.toString(), description: `the embedded PostgreSQL on 127.0.0.1:${port}, a temporary cluster (${why})`, stop: () => embedded.stop() };
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(adminUrl: string, prefix = "atelier_test"): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Whether something accepts TCP connections there (a PostgreSQL, presumably; connecting will tell). */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1000 });
    const settle = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.once("connect", () => settle(true));
    socket.once("timeout", () => settle(false));
    socket.once("error", () => settle(false));
  });
}

function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}

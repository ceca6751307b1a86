import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedPostgresError, startEmbeddedPostgres } from "../../src/db/embedded-postgres.ts";
import { freePort } from "../support/free-port.ts";
import { postmastersFor } from "../support/postgres-processes.ts";
import { makeTempDir } from "../support/temp-dir.ts";

async function query(connectionString: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

describe("embedded PostgreSQL", () => {
  let clusterDir: string;
  let port: number;

  beforeAll(async () => {
    clusterDir = path.join(await makeTempDir("atelier-embedded"), "postgres");
    port = await freePort();
  });

  afterAll(() => {
    expect(postmastersFor(clusterDir)).toEqual([]);
  });

  it("initializes on first start, keeps data across a restart, and stops", async () => {
    const first = await startEmbeddedPostgres({ clusterDir, port });
    expect(first.owned).toBe(true);
    await query(first.connectionString, "CREATE TABLE kept (value text); INSERT INTO kept VALUES ('still here')");
    await first.stop();
    expect(postmastersFor(clusterDir)).toEqual([]);

    const second = await startEmbeddedPostgres({ clusterDir, port });
    const { rows } = await query(second.connectionString, "SELECT value FROM kept");
    expect(rows).toEqual([{ value: "still here" }]);
    await second.stop();
    expect(postmastersFor(clusterDir)).toEqual([]);
  });

  it("lets a second process join a running cluster without stopping it", async () => {
    const owner = await startEmbeddedPostgres({ clusterDir, port });
    const guest = await startEmbeddedPostgres({ clusterDir, port });
    expect(guest.owned).toBe(false);
    await guest.stop();
    expect((await query(owner.connectionString, "SELECT 1 AS ok")).rows).toEqual([{ ok: 1 }]);
    await owner.stop();
  });

  it("refuses a taken port with a message naming ATELIER_EMBEDDED_PG_PORT", async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const taken = (squatter.address() as net.AddressInfo).port;
    try {
      const attempt = startEmbeddedPostgres({ clusterDir, port: taken });
      await expect(attempt).rejects.toBeInstanceOf(EmbeddedPostgresError);
      await expect(attempt).rejects.toThrow(`Port ${taken} on 127.0.0.1 is already in use`);
      await expect(attempt).rejects.toThrow("ATELIER_EMBEDDED_PG_PORT");
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    expect(postmastersFor(clusterDir)).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0)("as root, refuses a data directory the postgres user cannot reach, saying what to set, and leaves nothing", async () => {
    const closed = await makeTempDir("atelier-closed");
    await fs.chmod(closed, 0o700);
    const unreachable = path.join(closed, "data", "postgres");
    const attempt = startEmbeddedPostgres({ clusterDir: unreachable, port });
    await expect(attempt).rejects.toBeInstanceOf(EmbeddedPostgresError);
    await expect(attempt).rejects.toThrow(`the system user postgres, which cannot reach ${unreachable}`);
    await expect(attempt).rejects.toThrow("ATELIER_DATA_DIR");
    expect(await fs.readdir(path.dirname(unreachable))).toEqual([]);
    expect(postmastersFor(unreachable)).toEqual([]);
  });
});

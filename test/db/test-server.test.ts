/**
 * The tests' own choice of PostgreSQL server (test/support/test-database.ts): a URL is used as given,
 * `embedded` starts a temporary embedded cluster that databases can be made on and that leaves no
 * process behind when stopped. (Which branch the whole run took is printed by the global setup.)
 */
import path from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { postmastersFor } from "../support/postgres-processes.ts";
import { makeTempDir } from "../support/temp-dir.ts";
import { createTestDatabase, resolveTestServer } from "../support/test-database.ts";

describe("the tests' PostgreSQL server", () => {
  it("uses a URL as given, starting nothing, and hides its password in the description", async () => {
    const dir = await makeTempDir("test-server-url");
    const server = await resolveTestServer(dir, "postgresql://admin:secret@db.example:6543/postgres");
    expect(server.adminUrl).toBe("postgresql://admin:secret@db.example:6543/postgres");
    expect(server.description).toContain("admin:***@db.example:6543");
    expect(server.description).not.toContain("secret");
    expect(postmastersFor(path.join(dir, "postgres"))).toEqual([]);
  });

  it("`embedded` starts a temporary cluster with pg_trgm, makes and drops databases, and stops", async () => {
    const dir = await makeTempDir("test-server-embedded");
    const server = await resolveTestServer(dir, "embedded");
    try {
      expect(server.description).toMatch(/^the embedded PostgreSQL on 127\.0\.0\.1:\d+, a temporary cluster \(ATELIER_TEST_DATABASE_URL=embedded\)$/);
      expect(postmastersFor(path.join(dir, "postgres"))).toHaveLength(1);
      const database = await createTestDatabase(server.adminUrl, "atelier_server_check");
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        await client.query("CREATE EXTENSION pg_trgm");
        const { rows } = await client.query("SELECT similarity('lighthouse', 'lighthous') > 0.5 AS close");
        expect(rows[0].close).toBe(true);
      } finally {
        await client.end();
      }
      await database.drop();
      const admin = new pg.Client({ connectionString: server.adminUrl });
      await admin.connect();
      const left = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database.name]).finally(() => admin.end());
      expect(left.rowCount).toBe(0);
    } finally {
      await server.stop();
    }
    expect(postmastersFor(path.join(dir, "postgres"))).toEqual([]);
  });
});

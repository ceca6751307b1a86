import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { startCli, runCli } from "../support/cli-process.ts";
import { freePort } from "../support/free-port.ts";
import { postmastersFor } from "../support/postgres-processes.ts";
import { makeTempDir } from "../support/temp-dir.ts";

const running: ReturnType<typeof startCli>[] = [];
afterAll(() => {
  for (const cli of running) cli.child.kill("SIGKILL");
});

async function healthz(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/healthz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function serve(env: NodeJS.ProcessEnv) {
  const cli = startCli(["serve"], env);
  running.push(cli);
  await cli.waitFor(/listening on (http:\/\/\S+)/);
  const url = /listening on (http:\/\/\S+)/.exec(cli.output())![1]!;
  return { cli, url };
}

describe("atelier serve", () => {
  it("starts on embedded defaults, answers /healthz, and leaves no process behind on SIGTERM", async () => {
    // A data directory that does not exist yet, as on a fresh clone.
    const dataDir = path.join(await makeTempDir("atelier-serve"), "fresh", "data");
    const { cli, url } = await serve({
      ATELIER_DATA_DIR: dataDir,
      ATELIER_EMBEDDED_PG_PORT: String(await freePort()),
      PORT: String(await freePort()),
    });
    const health = await healthz(url);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: "ok", database: { reachable: true, migrations: { upToDate: true, pending: [] } } });
    expect(health.body.version).toMatch(/^\d+\.\d+\.\d+/);

    // The demo models are made on first start, so the platform can generate right away.
    expect(cli.output()).toContain("made demo model demo-sd-tiny (random weights: images are noise)");
    expect(existsSync(path.join(dataDir, "models", "demo-clip-tiny", "demo-model.json"))).toBe(true);

    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    expect(postmastersFor(path.join(dataDir, "postgres"))).toEqual([]);
  });

  it("serves against DATABASE_URL without starting an embedded PostgreSQL", async () => {
    const dataDir = await makeTempDir("atelier-serve-external");
    const { cli, url } = await serve({ DATABASE_URL: inject("databaseUrl"), ATELIER_DATA_DIR: dataDir, PORT: String(await freePort()) });
    expect((await healthz(url)).body).toMatchObject({ status: "ok" });
    cli.child.kill("SIGINT");
    expect(await cli.exited).toBe(0);
    expect(postmastersFor(path.join(dataDir, "postgres"))).toEqual([]);
  });

  it("refuses to start on a bad variable, naming it", async () => {
    const { code, output } = await runCli(["serve"], { PORT: "eighty" });
    expect(code).toBe(1);
    expect(output).toContain('PORT="eighty": must be a whole number');
  });

  it("stops the embedded PostgreSQL again when the HTTP port is taken", async () => {
    const dataDir = await makeTempDir("atelier-serve-busy");
    const busy = await serve({ DATABASE_URL: inject("databaseUrl"), ATELIER_DATA_DIR: dataDir, PORT: String(await freePort()) });
    const port = new URL(busy.url).port;
    const { code, output } = await runCli(["serve"], {
      ATELIER_DATA_DIR: dataDir,
      ATELIER_EMBEDDED_PG_PORT: String(await freePort()),
      PORT: port,
    });
    expect(code).toBe(1);
    expect(output).toContain(`Port ${port} on 127.0.0.1 is already in use. Set PORT`);
    expect(postmastersFor(path.join(dataDir, "postgres"))).toEqual([]);
    busy.cli.child.kill("SIGTERM");
    await busy.cli.exited;
  });
});

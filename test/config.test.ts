import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, ENVIRONMENT, loadConfig, loadDatabaseConfig } from "../src/config.ts";

describe("loadConfig", () => {
  it("runs on embedded defaults when nothing is set", () => {
    const config = loadConfig({});
    expect(config.dataDir).toBe(path.resolve(".atelier"));
    expect(config.database).toEqual({ kind: "embedded", clusterDir: path.resolve(".atelier/postgres"), port: 54329 });
    expect(config.http).toEqual({ host: "127.0.0.1", port: 4000, publicUrl: "", development: false });
    expect(config.logLevel).toBe("info");
  });

  it("uses the operator's PostgreSQL when DATABASE_URL is set", () => {
    const config = loadConfig({ DATABASE_URL: "postgresql://u:p@db.internal:5432/atelier", ATELIER_DATA_DIR: "/srv/atelier" });
    expect(config.database).toEqual({ kind: "external", url: "postgresql://u:p@db.internal:5432/atelier" });
    expect(config.dataDir).toBe("/srv/atelier");
  });

  it("treats an empty value as unset", () => {
    expect(loadConfig({ PORT: "", DATABASE_URL: "" }).http.port).toBe(4000);
  });

  it("names the variable, the bad value and what is allowed", () => {
    expect(() => loadConfig({ PORT: "http" })).toThrowError(/PORT="http": must be a whole number/);
    expect(() => loadConfig({ PORT: "70000" })).toThrowError(/PORT="70000": must be a TCP port 1-65535/);
    expect(() => loadConfig({ LOG_LEVEL: "loud" })).toThrowError(/LOG_LEVEL="loud": must be one of debug, info, warn, error/);
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrowError(/DATABASE_URL="mysql:\/\/x": must be a postgresql:\/\/ or postgres:\/\/ URL/);
  });

  it("reports every bad variable at once", () => {
    let error: unknown;
    try {
      loadConfig({ PORT: "-1", ATELIER_EMBEDDED_PG_PORT: "x" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/PORT="-1"/);
    expect((error as Error).message).toMatch(/ATELIER_EMBEDDED_PG_PORT="x"/);
  });
});

describe("README configuration table", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  // The product's table ends where the table of what only the tests and reference scripts read begins.
  const productTable = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("The tests and the reference scripts read these:"));
  const rows = new Map(
    [...productTable.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| ([^|]*) \|/gm)].map((match) => [match[1]!, match[2]!.trim()]),
  );

  it.each(Object.keys(ENVIRONMENT))("documents %s with its default", (name) => {
    expect(rows.has(name), `README.md has no table row for ${name}`).toBe(true);
    const declared = ENVIRONMENT[name as keyof typeof ENVIRONMENT].default;
    expect(rows.get(name)).toBe(declared === undefined ? "(unset)" : `\`${declared}\``);
  });

  it("documents no variable the code does not read", () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(ENVIRONMENT).sort());
  });
});

describe("loadDatabaseConfig", () => {
  it("reads only the database settings, so a bad value elsewhere does not stop Prisma's CLI", () => {
    expect(loadDatabaseConfig({ PORT: "not a port", DATABASE_URL: "postgres://db/atelier" })).toEqual({ kind: "external", url: "postgres://db/atelier" });
    expect(() => loadDatabaseConfig({ ATELIER_EMBEDDED_PG_PORT: "0" })).toThrow(/ATELIER_EMBEDDED_PG_PORT="0"/);
  });
});

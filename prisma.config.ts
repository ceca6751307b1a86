/**
 * Prisma 7's configuration: where the schema and migrations are, and which database the CLI
 * (`prisma migrate …`, `prisma db …`) works on: DATABASE_URL when set, else Atelier's embedded
 * PostgreSQL (which the schema engine below starts on demand and stops again).
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "prisma/config";
import { loadDatabaseConfig } from "./src/config.ts";
import { embeddedConnectionString } from "./src/db/embedded-postgres.ts";

// Prisma's CLI runs migrations through a native schema-engine binary that it downloads on first
// use, which fails offline. Atelier runs the same engine compiled to WebAssembly (the npm package
// @prisma/schema-engine-wasm) behind a small Node program that speaks the binary's protocol. It is
// used online too, so that every machine migrates with the same engine that `atelier migrate` uses
// in-process, and an air-gapped install needs no extra step. Set PRISMA_SCHEMA_ENGINE_BINARY
// yourself to use a native binary instead. (This file is loaded before the CLI looks for the binary.)
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(new URL("./src/db/schema-engine/schema-engine.js", import.meta.url));

const database = loadDatabaseConfig();

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: {
    url: database.kind === "external" ? database.url : embeddedConnectionString(database.port),
  },
});

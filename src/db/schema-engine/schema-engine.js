#!/usr/bin/env node
// Prisma's CLI runs this file as its schema engine: prisma.config.ts points PRISMA_SCHEMA_ENGINE_BINARY
// here. The engine itself is TypeScript (main.ts and its modules), loaded through tsx.
import { register } from "tsx/esm/api";

register();
await import("./main.ts");

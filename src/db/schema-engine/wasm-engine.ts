/**
 * Prisma's schema engine (migrations, diffing, introspection) compiled to WebAssembly and run inside
 * this Node process, talking to the database through a driver adapter instead of its own network
 * code. It is the same Rust code as the native `schema-engine` binary, so the SQL it generates and
 * the `_prisma_migrations` rows it writes are the ones the native engine would.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import * as bindings from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { SchemaEngine } from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { ErrorCapturingSqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";

export type { SchemaEngine };

/** A Prisma schema file: its path (as shown in error messages) and its content. */
export type SchemaFile = [path: string, content: string];

export interface SchemaEngineOptions {
  /** The Prisma schema files the engine starts with; none for commands that read no schema. */
  datamodels?: SchemaFile[];
  /** How the engine reaches the database (and creates shadow databases). */
  adapterFactory: ErrorCapturingSqlMigrationAwareDriverAdapterFactory;
  /** Receives the engine's log lines: JSON objects in the native engine's stderr format. */
  onLog?: (line: string) => void;
}

/** The part of the WebAssembly global used here (the project's type libraries do not declare it). */
interface WebAssemblyApi {
  instantiate(bytes: Uint8Array, imports: Record<string, Record<string, unknown>>): Promise<{ instance: { exports: Record<string, unknown> } }>;
  RuntimeError: new () => Error;
}
const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly: WebAssemblyApi };

/** The message of the last Rust panic, which the engine reports here before it traps. */
let lastPanicMessage: string | undefined;
let loading: Promise<void> | undefined;

export async function openSchemaEngine(options: SchemaEngineOptions): Promise<SchemaEngine> {
  await (loading ??= loadWasm());
  // The engine wants `undefined`, not an empty list, when there is no schema.
  const datamodels = options.datamodels?.length ? options.datamodels : undefined;
  return bindings.SchemaEngine.new({ datamodels }, options.onLog ?? (() => {}), options.adapterFactory);
}

/** A trap (WebAssembly.RuntimeError) is how a Rust panic surfaces; the engine is unusable after it. */
export function panicMessage(error: unknown): string | undefined {
  if (!(error instanceof wasm.RuntimeError)) return undefined;
  return lastPanicMessage ?? error.message;
}

async function loadWasm(): Promise<void> {
  // The glue calls this global when Rust panics; Prisma's CLI defines it, so must any other host.
  (globalThis as Record<string, unknown>).PRISMA_WASM_PANIC_REGISTRY = {
    set_message: (message: string) => (lastPanicMessage = message),
  };
  // The package's entry imports the .wasm file as an ES module, which Node 20 cannot do without a
  // flag, so the module is instantiated here with the package's own JS glue as its imports.
  const entry = createRequire(import.meta.url).resolve("@prisma/schema-engine-wasm");
  const bytes = await readFile(path.join(path.dirname(entry), "schema_engine_bg.wasm"));
  const { instance } = await wasm.instantiate(bytes, { "./schema_engine_bg.js": withUnrefTimers(bindings) });
  bindings.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
}

/**
 * The engine arms 10-second timers it never clears; they must not keep a finished process (the CLI
 * shim, `atelier migrate`) alive for those 10 seconds. Pending I/O keeps the loop alive anyway.
 */
function withUnrefTimers(glue: typeof bindings): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...glue };
  for (const [name, value] of Object.entries(glue)) {
    if (!name.startsWith("__wbg_setTimeout_") || typeof value !== "function") continue;
    const setTimer = value as (...args: unknown[]) => NodeJS.Timeout;
    imports[name] = (...args: unknown[]) => {
      const timer = setTimer(...args);
      timer.unref();
      return timer;
    };
  }
  return imports;
}

/** The prisma-engines commit the WebAssembly module was built from. */
export async function engineVersion(): Promise<string> {
  await (loading ??= loadWasm());
  return bindings.version();
}

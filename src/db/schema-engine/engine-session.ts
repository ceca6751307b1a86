/**
 * One schema engine bound to one PostgreSQL database, with the connections it opens: what both
 * the CLI shim (for the length of a Prisma command) and Atelier's own migration step (for one
 * deploy or status check) work with.
 */
import { toSchemaEngineError } from "./engine-errors.ts";
import { createMigrationAdapters, type PostgresTarget } from "./postgres-adapters.ts";
import { openSchemaEngine, type SchemaEngine, type SchemaFile } from "./wasm-engine.ts";

export interface EngineSessionOptions extends PostgresTarget {
  /** The Prisma schema files the engine starts with; none for commands that read no schema. */
  datamodels?: SchemaFile[];
  /** Receives the engine's log lines (JSON, in the native engine's stderr format). */
  onLog?: (line: string) => void;
}

export interface EngineSession {
  /**
   * Runs engine work; a failure is thrown as a SchemaEngineError whose message is the one to show.
   * (Pass a function, not a bound method: wasm-bindgen methods need `engine` as their `this`.)
   */
  run<T>(work: (engine: SchemaEngine) => Promise<T>): Promise<T>;
  /** Frees the engine and closes every connection it left open. Safe to call twice. */
  close(): Promise<void>;
}

export async function openEngineSession(options: EngineSessionOptions): Promise<EngineSession> {
  const adapters = createMigrationAdapters(options);
  const failure = (error: unknown) => toSchemaEngineError(error, adapters.factory.errorRegistry);
  let engine: SchemaEngine;
  try {
    engine = await openSchemaEngine({ datamodels: options.datamodels, adapterFactory: adapters.factory, onLog: options.onLog });
  } catch (error) {
    await adapters.close();
    throw failure(error);
  }
  let panicked = false;
  const close = async () => {
    // After a panic the engine's memory is in an unknown state, and freeing it traps again.
    if (!panicked) engine.free();
    await adapters.close();
  };
  let closing: Promise<void> | undefined;
  return {
    run: (work) =>
      work(engine).catch((error: unknown) => {
        const engineError = failure(error);
        panicked ||= engineError.isPanic;
        throw engineError;
      }),
    close: () => (closing ??= close()),
  };
}

/** Opens a session, runs `work`, and closes the session whatever happened. */
export async function withEngineSession<T>(options: EngineSessionOptions, work: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  const session = await openEngineSession(options);
  try {
    return await session.run(work);
  } finally {
    await session.close();
  }
}

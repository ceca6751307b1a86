/**
 * What a failed engine call tells the user. The WebAssembly engine throws plain errors: a
 * `SchemaConnectorError` (its message includes the database's own error text, and a Prisma error
 * code such as P3006 when there is one), a trap when Rust panicked, or "External error id#N" when
 * JavaScript code under it (the driver adapter, the embedded server's start) threw: that error
 * waits in the adapter factory's registry under N, and its message is the one worth showing.
 */
import type { ErrorRegistry } from "@prisma/driver-adapter-utils";
import { panicMessage } from "./wasm-engine.ts";

/** A failed schema engine call, with the message the user should read. */
export class SchemaEngineError extends Error {
  override readonly name = "SchemaEngineError";

  constructor(
    message: string,
    /** Prisma's user-facing error code (P3006, P3018, ...) when the engine gave one. */
    readonly code: string | undefined,
    /** The engine panicked: its state is lost and the process must end. */
    readonly isPanic: boolean,
  ) {
    super(message);
  }
}

const EXTERNAL_ERROR = /External error id#(\d+)/;

export function toSchemaEngineError(error: unknown, registry: ErrorRegistry): SchemaEngineError {
  if (error instanceof SchemaEngineError) return error;
  const panic = panicMessage(error);
  if (panic !== undefined) return new SchemaEngineError(panic, undefined, true);
  const { message, code } = error as { message?: unknown; code?: unknown };
  const text = typeof message === "string" ? message : String(error);
  return new SchemaEngineError(
    text.replace(EXTERNAL_ERROR, (found, id: string) => externalErrorMessage(registry, Number(id)) ?? found),
    typeof code === "string" ? code : undefined,
    false,
  );
}

function externalErrorMessage(registry: ErrorRegistry, id: number): string | undefined {
  const record = registry.consumeError(id);
  if (!record) return undefined;
  return record.error instanceof Error ? record.error.message : String(record.error);
}

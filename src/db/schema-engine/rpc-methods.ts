/**
 * The JSON-RPC methods Prisma's CLI calls on its schema engine, answered by the WebAssembly engine.
 * Most pass straight through (same names, same parameters, same results). The exceptions are where
 * the WebAssembly engine's API differs from the native engine's RPC surface:
 *
 * - `diff` returns the script or summary, where the native engine sends it to the CLI in a `print`
 *   request (which is how the CLI prints it, or captures it for `--output`);
 * - `evaluateDataLoss` and `createMigration` on a fresh engine fail asking for "an external
 *   factory" for the shadow database: they read the migrations' replay that `devDiagnostic` leaves
 *   in the engine, so `devDiagnostic` runs first with the same migrations (the CLI's own call to it
 *   may have been made on another engine process, or before a reset);
 * - `getDatabaseVersion` is `version`, and `createDatabase` does not exist in the engine.
 *
 * Failures become JSON-RPC errors in the native engine's shape, which the CLI turns into its
 * messages: `data.message`, `data.error_code` (shown above the message), `data.is_panic`.
 */
import type {
  CreateMigrationInput,
  DevDiagnosticInput,
  DiffParams,
  EvaluateDataLossInput,
  GetDatabaseVersionInput,
  SchemaEngine,
} from "@prisma/schema-engine-wasm/schema_engine_bg";
import { userFacingError } from "./connection-errors.ts";
import { createDatabase } from "./database-admin.ts";
import { SchemaEngineError } from "./engine-errors.ts";
import type { EngineSession } from "./engine-session.ts";
import type { RpcClient, RpcOutcome } from "./json-rpc-server.ts";

export interface RpcContext {
  /** The engine session, opened on first use (opening connects to the database). */
  session(): Promise<EngineSession>;
  /** The datasource URL the engine was started with. */
  connectionString: string | undefined;
  client: RpcClient;
}

type Method = (params: unknown, context: RpcContext) => Promise<unknown>;

const PASS_THROUGH = [
  "applyMigrations",
  "dbExecute",
  "devDiagnostic",
  "diagnoseMigrationHistory",
  "ensureConnectionValidity",
  "introspect",
  "introspectSql",
  "markMigrationApplied",
  "markMigrationRolledBack",
  "reset",
  "schemaPush",
] as const satisfies readonly (keyof SchemaEngine)[];

type EngineMethods = Record<(typeof PASS_THROUGH)[number], (params: unknown) => Promise<unknown>>;

const METHODS: Record<string, Method> = {
  ...Object.fromEntries(
    PASS_THROUGH.map((name): [string, Method] => [
      name,
      (params, context) => withEngine(context, (engine) => (engine as unknown as EngineMethods)[name](params)),
    ]),
  ),
  getDatabaseVersion: (params, context) => withEngine(context, (engine) => engine.version(params as GetDatabaseVersionInput | undefined)),
  debugPanic: (_params, context) => withEngine(context, async (engine) => engine.debugPanic()),
  evaluateDataLoss: (params, context) =>
    withMigrationsReplayed(context, params as EvaluateDataLossInput, (engine) => engine.evaluateDataLoss(params as EvaluateDataLossInput)),
  createMigration: (params, context) =>
    withMigrationsReplayed(context, params as CreateMigrationInput, (engine) => engine.createMigration(params as CreateMigrationInput)),
  diff: async (params, context) => {
    const { exitCode, stdout } = await withEngine(context, (engine) => engine.diff(params as DiffParams));
    // The CLI writes the content and a newline of its own.
    if (stdout) await context.client.request("print", { content: stdout.replace(/\n$/, "") });
    return { exitCode };
  },
  createDatabase: async (_params, { connectionString }) => {
    if (!connectionString) throw new Error("createDatabase needs the engine to be started with --datasource");
    try {
      return { databaseName: await createDatabase(connectionString) };
    } catch (error) {
      const { errorCode, message } = userFacingError(error, connectionString);
      throw new SchemaEngineError(message, errorCode, false);
    }
  },
};

async function withMigrationsReplayed<T>(
  context: RpcContext,
  { migrationsList, filters }: Pick<DevDiagnosticInput, "migrationsList" | "filters">,
  work: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  return withEngine(context, async (engine) => {
    await engine.devDiagnostic({ migrationsList, filters });
    return work(engine);
  });
}

async function withEngine<T>(context: RpcContext, work: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  return (await context.session()).run(work);
}

/** Answers one request; never throws (a failure is the request's error response). */
export async function answerRequest(method: string, params: unknown, context: RpcContext): Promise<RpcOutcome> {
  try {
    const run = METHODS[method];
    if (!run) throw new Error(`The method ${method} is not supported by Atelier's WebAssembly schema engine.`);
    // Methods without a result answer `{}` (an empty struct, as the native engine answers).
    return { result: (await run(params, context)) ?? {} };
  } catch (error) {
    return errorOutcome(error instanceof SchemaEngineError ? error : new SchemaEngineError(String((error as Error)?.message ?? error), undefined, false));
  }
}

function errorOutcome(failure: SchemaEngineError): RpcOutcome {
  return {
    error: {
      code: 4466,
      // The CLI shows `message` itself for a panic, `data.message` otherwise.
      message: failure.isPanic ? failure.message : "An error happened. Check the data field for details.",
      data: { is_panic: failure.isPanic, message: failure.message, error_code: failure.code, meta: null },
    },
    // The engine is unusable after a panic: the process ends after this answer.
    last: failure.isPanic,
  };
}

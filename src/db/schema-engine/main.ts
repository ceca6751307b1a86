/**
 * The schema engine process Prisma's CLI starts (see schema-engine.js): `--version`, a `cli`
 * database command, or a JSON-RPC session on stdin/stdout until the CLI closes stdin or stops the
 * process with SIGTERM (it does both, at once, when it is done with the engine).
 */
import { readFile } from "node:fs/promises";
import { runCliCommand } from "./cli-commands.ts";
import { databaseServerFor, type DatabaseServer } from "./database-server.ts";
import { parseEngineArguments, type EngineInvocation } from "./engine-arguments.ts";
import { logLine, writeLog } from "./engine-log.ts";
import { openEngineSession, type EngineSession } from "./engine-session.ts";
import { serveJsonRpc, type RequestHandler } from "./json-rpc-server.ts";
import { answerRequest } from "./rpc-methods.ts";
import { engineVersion, type SchemaFile } from "./wasm-engine.ts";

/** Exit code of the native engine after a panic; the CLI then reports an engine crash. */
const PANIC_EXIT_CODE = 101;

async function main(invocation: EngineInvocation, server: DatabaseServer): Promise<number> {
  switch (invocation.mode) {
    case "version":
      process.stdout.write(`schema-engine-cli ${await engineVersion()}\n`);
      return 0;
    case "cli":
      return runCliCommand(invocation.command, invocation.datasource.url, () => server.ready());
    case "rpc":
      return serveEngine(invocation, server);
  }
}

async function serveEngine(invocation: Extract<EngineInvocation, { mode: "rpc" }>, server: DatabaseServer): Promise<number> {
  const connectionString = invocation.datasource?.url;
  let opening: Promise<EngineSession> | undefined;
  const session = () =>
    (opening ??= readSchemaFiles(invocation.datamodelPaths).then((datamodels) =>
      openEngineSession({
        // The engine connects even for commands that read no database (a diff of two schema files).
        connectionString: connectionString ?? missingDatasource(),
        beforeConnect: () => server.ready(),
        datamodels,
        onLog: writeLog,
      }),
    ));
  const closeSession = async () => {
    const open = opening;
    opening = undefined;
    // A session that failed to open has nothing to close; its error went to the request that opened it.
    await open?.then((engine) => engine.close(), () => {});
  };
  const answer: RequestHandler = async (method, params, client) => {
    const outcome = await answerRequest(method, params, { session, connectionString, client });
    // Prisma's CLI does not wait for its engine to exit: it exits at once when a command fails (as
    // `migrate status` does while migrations are pending). So a server this process manages is
    // stopped before each answer, and started again by the next request that needs it.
    if (server.managed) await closeSession().then(() => server.stop());
    return outcome;
  };
  try {
    const ended = await serveJsonRpc(process.stdin, process.stdout, answer);
    return ended === "last-request" ? PANIC_EXIT_CODE : 0;
  } finally {
    await closeSession();
  }
}

function missingDatasource(): never {
  throw new Error("No datasource: set `datasource.url` in prisma.config.ts.");
}

async function readSchemaFiles(paths: string[]): Promise<SchemaFile[]> {
  return Promise.all(paths.map(async (path): Promise<SchemaFile> => [path, await readFile(path, "utf8")]));
}

/** Runs the invocation and exits, stopping the embedded server first if this process started it. */
async function run(): Promise<void> {
  let server: DatabaseServer | undefined;
  const exit = async (code: number) => {
    await server?.stop().catch((error: unknown) => writeLog(logLine("ERROR", { message: String(error) })));
    process.exit(code);
  };
  // The CLI ends the engine with SIGTERM right after closing its stdin; Ctrl-C reaches it as SIGINT.
  // Either way the embedded server this process started must be stopped before it exits.
  process.once("SIGTERM", () => void exit(0));
  process.once("SIGINT", () => void exit(130));
  // The engine's glue throws outside any promise when it cannot read a request's parameters.
  process.once("uncaughtException", (error) => {
    writeLog(logLine("ERROR", { is_panic: false, message: error.message }));
    void exit(1);
  });
  try {
    const invocation = parseEngineArguments(process.argv.slice(2));
    if (invocation.mode !== "version") writeLog(logLine("INFO", { message: "Starting schema engine (WebAssembly)" }));
    const found = databaseServerFor(invocation.mode === "version" ? undefined : invocation.datasource?.url);
    server = found;
    await exit(await main(invocation, server));
  } catch (error) {
    // As JSON, because that is all the CLI reads on stderr.
    writeLog(logLine("ERROR", { is_panic: false, message: error instanceof Error ? error.message : String(error) }));
    await exit(1);
  }
}

await run();

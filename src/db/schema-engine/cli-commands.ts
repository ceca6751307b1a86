/**
 * `schema-engine --datasource JSON cli <command>`: one database-level command, answered the way
 * Prisma's CLI reads the native engine's answer. Success is exit code 0. Failure is a non-zero exit
 * code with JSON log lines on stderr, one of them an ERROR from target `schema_engine::logger` whose
 * fields carry `error_code` and `message` (the CLI skips the first stderr line before parsing: the
 * engine's start line, written by main.ts).
 */
import type { CliCommand } from "./engine-arguments.ts";
import { userFacingError } from "./connection-errors.ts";
import { checkConnection, createDatabase, dropDatabase } from "./database-admin.ts";
import { logLine, writeLog } from "./engine-log.ts";

const COMMANDS: Record<CliCommand, (connectionString: string) => Promise<unknown>> = {
  "can-connect-to-database": checkConnection,
  "create-database": createDatabase,
  "drop-database": dropDatabase,
};

/**
 * Runs the command and returns the process exit code.
 * @param serverReady resolves once the database server is up (the embedded one is started by it).
 */
export async function runCliCommand(command: CliCommand, connectionString: string, serverReady: () => Promise<void>): Promise<number> {
  try {
    await serverReady();
    await COMMANDS[command](connectionString);
    return 0;
  } catch (error) {
    const { errorCode, message } = userFacingError(error, connectionString);
    writeLog(logLine("ERROR", { is_panic: false, error_code: errorCode ?? "", message }));
    return 1;
  }
}

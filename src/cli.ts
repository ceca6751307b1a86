/**
 * The `atelier` command line. Each command loads the configuration (failing early with a message
 * that names any bad variable), then starts what it needs and nothing more.
 */
import { Command } from "commander";
import { loadConfig } from "./config.ts";
import { openDatabase } from "./db/database.ts";
import { UserFacingError } from "./errors.ts";
import { migrationStatus } from "./db/migrations.ts";
import { createLogger } from "./log.ts";
import { startServer } from "./serve.ts";
import { VERSION } from "./version.ts";
import { runUntilSignal } from "./cli/run-until-signal.ts";
import { registerGenerateCommand } from "./cli/generate-command.ts";
import { registerInspectCommand } from "./cli/inspect-command.ts";
import { registerModelsCommand } from "./cli/models-command.ts";
import { startWorkerProcess } from "../workers/worker.ts";
import { READY_MESSAGE } from "../workers/embedded-worker.ts";


function setup() {
  const config = loadConfig();
  return { config, log: createLogger(config.logLevel) };
}

const program = new Command()
  .name("atelier")
  .description("Atelier: self-hosted text-to-image with Stable Diffusion (ONNX) and CLIP ranking.")
  .version(VERSION)
  .showHelpAfterError();

program
  .command("serve")
  .description("Start the API server (HTTP on HOST:PORT). Uses DATABASE_URL, or an embedded PostgreSQL under ATELIER_DATA_DIR.")
  .action(async () => {
    const { config, log } = setup();
    await runUntilSignal(await startServer(config, log), log);
  });

program
  .command("worker")
  .description("Start a worker that claims generation jobs from the queue and runs them (ATELIER_WORKER_CONCURRENCY at a time).")
  .action(async () => {
    const { config, log } = setup();
    const worker = await startWorkerProcess(config, log);
    // Started by `atelier serve` as its embedded worker: report ready, and stop when the server is gone.
    if (process.send) {
      process.send(READY_MESSAGE);
      process.once("disconnect", () => process.kill(process.pid, "SIGTERM"));
      // The channel must not keep the process alive once the worker has stopped.
      process.channel?.unref();
    }
    await runUntilSignal(worker, log);
  });

program
  .command("migrate")
  .description("Apply pending database migrations (serve and worker also do this when they start).")
  .option("--status", "only report applied and pending migrations, change nothing")
  .action(async (options: { status?: boolean }) => {
    const { config, log } = setup();
    const database = await openDatabase(config.database, log, { migrate: !options.status });
    try {
      const status = await migrationStatus(database.connectionString);
      process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      if (status.pending.length > 0 || status.failed.length > 0) process.exitCode = 1;
    } finally {
      await database.close();
    }
  });

registerGenerateCommand(program);
registerInspectCommand(program);
registerModelsCommand(program);

program.parseAsync().catch((error: unknown) => {
  const userFacing = error instanceof UserFacingError;
  process.stderr.write(`atelier: ${userFacing ? (error as Error).message : error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});

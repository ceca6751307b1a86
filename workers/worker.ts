/**
 * `atelier worker`: the process that will claim generation jobs from the queue and run them.
 * Today it owns the lifecycle every worker needs (database ready and migrated, clean shutdown on a
 * signal); claiming jobs arrives with the job queue.
 */
import type { AtelierConfig } from "../src/config.ts";
import { openDatabase } from "../src/db/database.ts";
import type { Logger } from "../src/log.ts";

export interface RunningWorker {
  /** Stops claiming, finishes or releases the current job, closes the database. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startWorker(config: AtelierConfig, log: Logger): Promise<RunningWorker> {
  const database = await openDatabase(config.database, log);
  log.info("worker ready");
  return { stop: () => database.close() };
}

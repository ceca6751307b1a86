/**
 * The queue of generation jobs: pg-boss (10.4, the last line that runs on Node 20) in the same
 * PostgreSQL as the records, in its own schema `pgboss`. Each queue entry has the id of its Job row,
 * and is written in the same transaction as the row (`enqueue(jobId, tx)`), so a crash can neither
 * lose a job nor queue one that has no row.
 *
 * pg-boss is the lock: `claim()` hands an entry to exactly one caller (FOR UPDATE SKIP LOCKED), and
 * an entry stays claimed until `complete`, `retryOrFail` or `remove`. Attempts are counted the same
 * way on both sides: the n-th claim of an entry is the Job row's attempt n, and an entry failed on
 * its last attempt is not handed out again.
 */
import PgBoss from "pg-boss";
import type { Logger } from "../log.ts";
import type { Db } from "../db/prisma.ts";

/** The pg-boss queue every generation job goes through. */
export const GENERATE_QUEUE = "atelier-generate";

export interface JobQueueOptions {
  connectionString: string;
  /** Claims of one job before it ends FAILED (a crash or a model error each use one). */
  maxAttempts: number;
  /**
   * pg-boss's own limit on a claimed entry: past it, pg-boss's maintenance fails the entry by
   * itself. A backstop only (the worker heartbeat is what takes up a dead worker's job), so it
   * is long: the longest a single attempt of a job may run.
   */
  expireAfterSeconds: number;
  log: Logger;
}

/** What can run SQL inside a Prisma interactive transaction. */
type Transaction = Pick<Db.Prisma.TransactionClient, "$queryRawUnsafe">;

export interface JobQueue {
  /** Queues the job; call inside the transaction that creates its row. */
  enqueue(jobId: string, tx: Transaction): Promise<void>;
  /** Claims the oldest waiting job, or returns undefined when none waits. */
  claim(): Promise<string | undefined>;
  /** The job is done (succeeded, or ended by cancellation): its entry is never handed out again. */
  complete(jobId: string, tx?: Transaction): Promise<void>;
  /** The attempt failed: the entry is handed out again unless that was its last attempt. */
  retryOrFail(jobId: string, reason: string, tx?: Transaction): Promise<void>;
  /** Takes a waiting job off the queue (cancellation). Returns whether it was still waiting. */
  remove(jobId: string, tx?: Transaction): Promise<boolean>;
  /** Stops pg-boss's maintenance and closes its connections. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startJobQueue(options: JobQueueOptions): Promise<JobQueue> {
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema: "pgboss",
    application_name: "atelier-queue",
    // Cron scheduling is not used; expiry and archiving maintenance are.
    schedule: false,
    max: 4,
  });
  // pg-boss reports connection trouble as events; it reconnects by itself (its pool opens new connections).
  boss.on("error", (error) => options.log.warn("job queue: database error", { error: error.message }));
  await boss.start();
  await defineQueue(boss, options);

  const queueSettings = { retryLimit: options.maxAttempts - 1, retryDelay: 0, expireInSeconds: options.expireAfterSeconds };
  let stopping: Promise<void> | undefined;
  return {
    async enqueue(jobId, tx) {
      await boss.send(GENERATE_QUEUE, { jobId }, { ...queueSettings, id: jobId, db: inTransaction(tx) });
    },
    async claim() {
      const [entry] = await boss.fetch(GENERATE_QUEUE, { batchSize: 1 });
      return entry?.id;
    },
    async complete(jobId, tx) {
      await boss.complete(GENERATE_QUEUE, jobId, {}, tx && { db: inTransaction(tx) });
    },
    async retryOrFail(jobId, reason, tx) {
      await boss.fail(GENERATE_QUEUE, jobId, { reason }, tx && { db: inTransaction(tx) });
    },
    async remove(jobId, tx) {
      const result = await boss.cancel(GENERATE_QUEUE, jobId, tx && { db: inTransaction(tx) });
      return (result as unknown as { affected: number }).affected > 0;
    },
    stop: () => (stopping ??= boss.stop({ graceful: false, wait: true, close: true })),
  };
}

/** Creates the queue on first use and brings its settings up to date after that. */
async function defineQueue(boss: PgBoss, options: JobQueueOptions): Promise<void> {
  const settings = { name: GENERATE_QUEUE, retryLimit: options.maxAttempts - 1, retryDelay: 0, expireInSeconds: options.expireAfterSeconds };
  if (await boss.getQueue(GENERATE_QUEUE)) return boss.updateQueue(GENERATE_QUEUE, settings);
  try {
    await boss.createQueue(GENERATE_QUEUE, settings);
  } catch (error) {
    // Another process created it at the same moment.
    if (!(await boss.getQueue(GENERATE_QUEUE))) throw error;
  }
}

/** pg-boss runs its SQL through this, so the entry is written by the caller's Prisma transaction. */
function inTransaction(tx: Transaction): PgBoss.Db {
  return { executeSql: async (text: string, values: unknown[]) => ({ rows: await tx.$queryRawUnsafe<unknown[]>(text, ...values) }) } as PgBoss.Db;
}

/**
 * A worker: claims generation jobs from the queue and runs them, `concurrency` at a time, on any
 * number of machines against one database. `atelier worker` runs one as its own process;
 * `atelier serve` embeds one unless ATELIER_EMBEDDED_WORKER=0.
 *
 * Lifecycle: `startWorker()` begins claiming. `stop()` stops claiming, lets running jobs finish for
 * the grace period, then stops them within one denoising step and releases them to the queue
 * (another worker takes them up), and finally releases the models.
 *
 * Every worker also recovers jobs whose worker died (no heartbeat for the timeout), so a killed
 * worker's job is taken up by the others, or by itself once restarted.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";
import type { AtelierConfig } from "../src/config.ts";
import { openDatabase } from "../src/db/database.ts";
import { loadClipScorer, type ClipScorer } from "../src/inference/clip/clip-scorer.ts";
import { loadStableDiffusion } from "../src/inference/models/stable-diffusion-model.ts";
import { recoverStaleJobs } from "../src/jobs/job-attempts.ts";
import type { JobPlatform } from "../src/jobs/job-platform.ts";
import { openPlatform } from "../src/jobs/open-platform.ts";
import { sweepPendingObjects } from "../src/jobs/pending-objects.ts";
import type { Logger } from "../src/log.ts";
import { ensureModel } from "../src/models/ensure-model.ts";
import { parseModelReference } from "../src/models/model-reference.ts";
import { createModelCache } from "./model-cache.ts";
import { startHeartbeats } from "./heartbeats.ts";
import { runJob, type RunContext } from "./run-job.ts";

export interface RunningWorker {
  readonly workerId: string;
  /** Stops claiming, finishes or releases the running jobs, releases the models. Safe to call twice. */
  stop(): Promise<void>;
}

/** How often an idle worker looks for jobs when no "job queued" event woke it. */
const POLL_INTERVAL_MS = 2000;

/** `atelier worker`: a worker with its own database connections. */
export async function startWorkerProcess(config: AtelierConfig, log: Logger): Promise<RunningWorker> {
  const database = await openDatabase(config.database, log);
  try {
    const platform = await openPlatform(config, database, log);
    const worker = await startWorker(platform, config, log).catch(async (error: unknown) => {
      await platform.close();
      throw error;
    });
    let stopping: Promise<void> | undefined;
    const stop = () => (stopping ??= worker.stop().finally(() => platform.close()).finally(() => database.close()));
    return { workerId: worker.workerId, stop };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** A worker on a platform the caller opened (and closes after `stop()`). */
export async function startWorker(platform: JobPlatform, config: AtelierConfig, log: Logger): Promise<RunningWorker> {
  const settings = config.worker;
  const workerId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const models = createModelCache({
    capacity: settings.modelCacheSize,
    load: async (name) => {
      const model = await platform.catalog.find(name);
      if (!model) throw new Error(`model ${name} is not available on this worker`);
      return loadStableDiffusion(model.dir, config.models.runtime);
    },
  });
  let clip: Promise<ClipScorer> | undefined;
  const loadClip = () =>
    (clip ??= (async () => {
      const dir = await ensureModel(parseModelReference(config.models.clip, config.models.dir));
      return loadClipScorer(dir, { batchSize: config.models.batchSize });
    })().catch((error: unknown) => {
      clip = undefined;
      throw error;
    }));

  // Three beats per timeout: one lost beat never makes a live worker look dead.
  const beatMs = (config.jobs.heartbeatTimeoutSeconds / 3) * 1000;
  const databaseTrouble = { lastAt: 0 };
  const heartbeats = startHeartbeats({
    connectionString: platform.connectionString,
    workerId,
    intervalMs: beatMs,
    onFailed: (message, jobId) => {
      databaseTrouble.lastAt = Date.now();
      log.warn("heartbeat failed; retrying at the next one", { jobId, error: message });
    },
  });
  const context: RunContext = {
    platform,
    models,
    clip: loadClip,
    heartbeats,
    log,
    databaseTrouble,
    settings: {
      workerId,
      batchSize: config.models.batchSize,
      maxAttempts: config.jobs.maxAttempts,
      stepPreviews: settings.stepPreviews,
    },
  };

  const shutdown = new AbortController();
  let stopping = false;
  // Idle claim loops sleep until the poll interval passes or a "job queued" event wakes them.
  const sleepers = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of [...sleepers]) wake();
  };
  const idle = () =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, POLL_INTERVAL_MS);
      sleepers.add(wake);
    });
  const unsubscribe = platform.events.subscribe("*", {
    onEvent: (event) => event.type === "status" && event.status === "QUEUED" && wakeAll(),
  });

  const claimLoop = async () => {
    while (!stopping) {
      const jobId = await platform.queue.claim().catch((error: unknown) => {
        log.warn("could not claim a job; trying again", { error });
        return undefined;
      });
      if (jobId) await runJob(context, jobId, shutdown.signal);
      else await idle();
    }
  };
  const timeout = config.jobs.heartbeatTimeoutSeconds;
  const recovery = setInterval(() => {
    // After this worker could not reach the database, others may not have either: give every live
    // worker a full timeout to heartbeat again before calling anyone's job stale.
    if (Date.now() - context.databaseTrouble.lastAt < timeout * 1000) return;
    recoverStaleJobs(platform, timeout, config.jobs.maxAttempts, workerId).then(
      (recovered) => recovered.length > 0 && log.warn("took up jobs whose worker stopped heartbeating", { jobs: recovered }),
      (error: unknown) => {
        context.databaseTrouble.lastAt = Date.now();
        log.warn("stale-job recovery failed; trying again", { error });
      },
    );
    sweepPendingObjects(platform, timeout).then(
      (deleted) => deleted > 0 && log.info("deleted objects left without rows", { deleted }),
      (error: unknown) => log.warn("pending-object sweep failed; trying again", { error }),
    );
  }, beatMs);

  const loops = Array.from({ length: settings.concurrency }, () => claimLoop());
  log.info("worker ready", { workerId, concurrency: settings.concurrency });

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true;
      clearInterval(recovery);
      unsubscribe();
      wakeAll();
      const grace = setTimeout(() => {
        log.warn(`jobs still running after the ${settings.shutdownGraceSeconds} s grace period: releasing them to the queue`);
        shutdown.abort();
      }, settings.shutdownGraceSeconds * 1000);
      await Promise.all(loops);
      clearTimeout(grace);
      await heartbeats.stop();
      await models.close();
      await clip?.then((scorer) => scorer.release(), () => {});
      log.info("worker stopped", { workerId });
    })());
  return { workerId, stop };
}

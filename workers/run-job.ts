/**
 * One attempt at one claimed job, start to end:
 *
 *   1. mark it RUNNING on this worker (or close the entry when it was cancelled while queued)
 *   2. delete objects an earlier, dead attempt left without rows
 *   3. denoise the samples it still lacks, batch by batch, publishing every step
 *   4. store each sample as soon as it is decoded (scored, encoded, written, recorded)
 *   5. rank and finish: SUCCEEDED, or CANCELED keeping what was made
 *
 * While it runs it heartbeats; it stops within one denoising step when the job is cancelled, when
 * the heartbeat finds the job is no longer its own, or when the worker shuts down past its grace.
 * Any other error fails the attempt (the job is queued again or ends FAILED).
 */
import type { ClipScorer } from "../src/inference/clip/clip-scorer.ts";
import type { GenerationRequest } from "../src/inference/pipeline/generation-request.ts";
import { generateSamples, type StepEvent } from "../src/inference/pipeline/stable-diffusion-pipeline.ts";
import type { JobEvent } from "../src/events/job-event.ts";
import type { Logger } from "../src/log.ts";
import { failAttempt, finishJob, startAttempt } from "../src/jobs/job-attempts.ts";
import type { JobPlatform } from "../src/jobs/job-platform.ts";
import type { Heartbeats, TrackedJob } from "./heartbeats.ts";
import type { ModelCache } from "./model-cache.ts";
import { deletePendingObjects } from "../src/jobs/pending-objects.ts";
import { storeSample } from "./store-sample.ts";

export interface WorkerSettings {
  /** Identifies this worker in the job row: host:pid:random. */
  workerId: string;
  /** Samples denoised together (ATELIER_BATCH_SIZE). */
  batchSize: number;
  /** Claims of a job before it ends FAILED. */
  maxAttempts: number;
  /** Attach a small preview of the latents to every step event. */
  stepPreviews: boolean;
}

export interface RunContext {
  platform: JobPlatform;
  settings: WorkerSettings;
  models: ModelCache;
  clip: () => Promise<ClipScorer>;
  heartbeats: Heartbeats;
  log: Logger;
  /** When this worker last failed to reach the database (its recovery waits after an outage). */
  databaseTrouble: { lastAt: number };
}

/** Why a running attempt was stopped from outside the pipeline. */
export class AttemptStopped extends Error {
  constructor(readonly why: "canceled" | "lost" | "shutdown") {
    super(`attempt stopped: ${why}`);
  }
}

/** Runs the claimed job; `shutdown` aborts it (it is then released to the queue). Never throws. */
export async function runJob(context: RunContext, jobId: string, shutdown: AbortSignal): Promise<void> {
  const { platform, settings, log } = context;
  const started = await retryWhileDisconnected(() => startAttempt(platform, jobId, settings.workerId)).catch((error: unknown) => {
    log.error("could not start job; handing it back to the queue", { jobId, error });
    return null;
  });
  if (started === null) return void (await platform.queue.retryOrFail(jobId, "could not start").catch(() => {}));
  if (!started) return log.info("job was cancelled before it started", { jobId });

  const stop = new AbortController();
  const onShutdown = () => stop.abort(new AttemptStopped("shutdown"));
  shutdown.addEventListener("abort", onShutdown, { once: true });
  if (shutdown.aborted) onShutdown();
  const unsubscribe = platform.events.subscribe(jobId, {
    onEvent: (event) => {
      if (event.type === "status" && event.status === "CANCELED") stop.abort(new AttemptStopped("canceled"));
    },
  });
  const beat = context.heartbeats.track(jobId, started.progress, (why) => stop.abort(new AttemptStopped(why)));
  const progress: AttemptProgress = { value: started.progress, stepsRun: 0, beat };
  // How many steps had run when the attempt was told to stop, to log how promptly it stopped.
  let stepsAtStop = 0;
  stop.signal.addEventListener("abort", () => (stepsAtStop = progress.stepsRun), { once: true });

  log.info("job started", { jobId, attempt: started.attempts, model: started.modelName, samples: started.samples });
  try {
    await makeImages(context, jobId, stop.signal, progress);
    await retryWhileDisconnected(() => finishJob(platform, jobId), stop.signal);
    log.info("job finished", { jobId });
  } catch (error) {
    const reason = stop.signal.reason instanceof AttemptStopped ? stop.signal.reason.why : undefined;
    if (reason === "lost") log.warn("job is no longer this worker's; stopped", { jobId });
    else if (reason === "canceled") {
      await retryWhileDisconnected(() => finishJob(platform, jobId)).then(
        () => log.info("job cancelled; kept its finished images", { jobId, stepsAfterCancel: progress.stepsRun - stepsAtStop }),
        (failure: unknown) => log.error("could not rank a cancelled job's images", { jobId, error: failure }),
      );
    }
    else {
      const message = reason === "shutdown" ? "the worker shut down before the job finished" : errorMessage(error);
      if (!reason) log.error("job attempt failed", { jobId, error });
      const status = await retryWhileDisconnected(() => failAttempt(platform, started, message, settings.maxAttempts)).catch((failure: unknown) => {
        log.error("could not record the failed attempt; the heartbeat timeout will", { jobId, error: failure });
      });
      if (status) log.info(`job ${status === "QUEUED" ? "queued again" : status}`, { jobId });
    }
  } finally {
    beat.end();
    unsubscribe();
    shutdown.removeEventListener("abort", onShutdown);
  }
}

/** What an attempt has done so far: whole-job progress, and denoising steps run (one per sample per step). */
interface AttemptProgress {
  value: number;
  stepsRun: number;
  /** The job's heartbeat, which records the progress too. */
  beat: TrackedJob;
}

async function makeImages(context: RunContext, jobId: string, signal: AbortSignal, progress: AttemptProgress): Promise<void> {
  const { platform, settings } = context;
  const job = await platform.prisma.job.findUniqueOrThrow({ where: { id: jobId }, include: { prompt: true, images: { select: { sampleIndex: true } } } });
  // Objects an earlier attempt wrote without getting to their rows.
  await deletePendingObjects(platform, jobId);
  const done = new Set(job.images.map((image) => image.sampleIndex));
  const missing = Array.from({ length: job.samples }, (_, i) => i).filter((i) => !done.has(i));
  if (missing.length === 0) return;

  const lease = await context.models.acquire(job.modelName);
  try {
    const clip = await context.clip();
    const textEmbedding = await clip.embedText(job.prompt.text);
    const request: GenerationRequest = {
      prompt: job.prompt.text,
      negativePrompt: job.negativePrompt ?? "",
      samples: job.samples,
      seed: Number(job.seed),
      steps: job.steps,
      guidanceScale: job.guidanceScale,
      width: job.width,
      height: job.height,
      scheduler: job.scheduler,
    };
    // Whole-job progress: the samples done before this attempt, plus each sample's share of its steps.
    const sampleFractions = new Map<number, number>();
    const jobProgress = () => (done.size + [...sampleFractions.values()].reduce((sum, f) => sum + f, 0)) / job.samples;
    // Events go out in the order they happen. A step's preview starts encoding at once (on libuv's
    // threads); the chain only waits for it to hand the events to the bus in order, and the bus
    // sends what piles up meanwhile in one round trip.
    let handedOver: Promise<void> = Promise.resolve();
    const sends: Promise<void>[] = [];
    const publish = (event: Promise<JobEvent>) => {
      handedOver = handedOver.then(async () => {
        const send = event.then((ready) => platform.events.publish(ready));
        sends.push(send.catch((error: unknown) => context.log.debug("event not published", { jobId, error })));
        await send.catch(() => {});
      });
    };
    const onStep = (step: StepEvent) => {
      sampleFractions.set(step.sampleIndex, step.step / step.totalSteps);
      progress.stepsRun++;
      const value = (progress.value = jobProgress());
      progress.beat.progress(value);
      const preview = settings.stepPreviews && step.preview ? step.preview() : Promise.resolve(null);
      publish(preview.then((url) => ({ type: "step", jobId, sampleIndex: step.sampleIndex, step: step.step, totalSteps: step.totalSteps, progress: value, preview: url })));
    };
    // Each sample is stored while the next batch denoises; all are settled before the attempt ends,
    // so nothing is written after the job is ranked.
    const storing: Promise<void>[] = [];
    try {
      for await (const sample of generateSamples(lease.model, request, { batchSize: settings.batchSize, signal, onStep, sampleIndices: missing })) {
        const stored = retryWhileDisconnected(() => storeSample({ platform, job, clip, textEmbedding }, sample), signal).then((image) =>
          publish(Promise.resolve({ type: "image", jobId, imageId: image.id, sampleIndex: image.sampleIndex, clipScore: image.clipScore })),
        );
        // Awaited below; until then a failure must not count as unhandled.
        stored.catch(() => {});
        storing.push(stored);
      }
      await Promise.all(storing);
    } finally {
      await Promise.allSettled(storing);
    }
    await handedOver;
    await Promise.all(sends);
  } finally {
    lease.release();
  }
}

/**
 * Runs a database write again while the database is unreachable (PostgreSQL restarting), for up to
 * a minute, so a restart does not cost the job an attempt. Other errors are thrown at once.
 */
async function retryWhileDisconnected<T>(write: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (let delay = 200; ; delay = Math.min(5000, delay * 2)) {
    try {
      return await write();
    } catch (error) {
      if (!isConnectionError(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
      signal?.throwIfAborted();
    }
  }
}

/** Errors that mean "the database is not there right now", not "the write is wrong". */
function isConnectionError(error: unknown): boolean {
  const text = `${(error as { code?: string })?.code ?? ""} ${(error as Error)?.message ?? ""}`;
  // node-postgres, PostgreSQL (SQLSTATE 57P01-57P03 shutdown/startup, class 08 connection) and Prisma (P1001, P1017) spellings.
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|57P0[1-3]|\b08\d{3}\b|P1001|P1017|Connection terminated|connection error|not queryable|connection.*(closed|refused|ended)|closed the connection|Can't reach database|terminating connection|database system is (starting up|shutting down)|timeout exceeded when trying to connect/i.test(text);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Heartbeats for the jobs a worker runs, sent from a thread of their own (heartbeat-thread.ts) so
 * that they keep time while onnxruntime holds the main thread for a whole UNet step.
 *
 * Lifecycle: `startHeartbeats()` starts the thread; `track(jobId)` beats for a job every interval
 * until its handle's `end()`; `stop()` ends the thread and its connection. Safe to call twice.
 */
import { Worker } from "node:worker_threads";
import type { FromHeartbeatThread, HeartbeatThreadData, ToHeartbeatThread } from "./heartbeat-thread.ts";

export interface HeartbeatOptions {
  /** The database the jobs are in. */
  connectionString: string;
  /** The worker whose jobs are beaten for (the job row's workerId). */
  workerId: string;
  /** Milliseconds between beats. */
  intervalMs: number;
  /** Called when a beat could not reach the database (the next beat tries again), or the thread itself failed. */
  onFailed: (message: string, jobId?: string) => void;
}

export interface TrackedJob {
  /** Sets the progress the next beats record. */
  progress(value: number): void;
  /** Stops beating for the job. */
  end(): void;
}

export interface Heartbeats {
  /**
   * Beats for `jobId` from now on, starting at `progress`; `onLost` is called once if a beat finds
   * the job no longer running here: "canceled" (still this worker's to wrap up) or "lost" (taken up elsewhere).
   */
  track(jobId: string, progress: number, onLost: (why: "canceled" | "lost") => void): TrackedJob;
  stop(): Promise<void>;
}

// The thread is TypeScript, like the rest of Atelier: it registers tsx before loading its module.
const BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
import(workerData.tsx).then(({ register }) => { register(); return import(workerData.entry); });`;

export function startHeartbeats(options: HeartbeatOptions): Heartbeats {
  const data: HeartbeatThreadData & { tsx: string; entry: string } = {
    connectionString: options.connectionString,
    workerId: options.workerId,
    intervalMs: options.intervalMs,
    tsx: import.meta.resolve("tsx/esm/api"),
    entry: new URL("./heartbeat-thread.ts", import.meta.url).href,
  };
  const thread = new Worker(BOOTSTRAP, { eval: true, workerData: data });
  // The process's lifetime is the worker's business, not its heartbeat's.
  thread.unref();
  const send = (message: ToHeartbeatThread) => thread.postMessage(message);
  let stopped: Promise<void> | undefined;
  const exited = new Promise<void>((resolve) => thread.once("exit", () => resolve()));
  const lostCallbacks = new Map<string, (why: "canceled" | "lost") => void>();
  thread.on("message", (message: FromHeartbeatThread) => {
    if (message.kind === "lost") lostCallbacks.get(message.jobId)?.(message.why);
    else if (message.kind === "failed") options.onFailed(message.message, message.jobId);
  });
  thread.on("error", (error) => options.onFailed(`the heartbeat thread failed: ${error.message}`));

  return {
    track(jobId, progress, onLost) {
      lostCallbacks.set(jobId, onLost);
      send({ kind: "track", jobId, progress });
      return {
        progress: (value) => send({ kind: "progress", jobId, progress: value }),
        end: () => {
          lostCallbacks.delete(jobId);
          send({ kind: "untrack", jobId });
        },
      };
    },
    stop: () =>
      (stopped ??= (async () => {
        send({ kind: "stop" });
        // It closes its connection first; a thread that does not answer is ended anyway.
        const timeout = setTimeout(() => void thread.terminate(), 5000);
        await exited;
        clearTimeout(timeout);
      })()),
  };
}

/**
 * The worker `atelier serve` embeds (unless ATELIER_EMBEDDED_WORKER=0): an `atelier worker` child
 * process with the same environment, supervised by the server. A child rather than a worker in the
 * server's own process because onnxruntime-node runs each model on the calling thread: in-process,
 * every UNet step (seconds on a CPU for Stable Diffusion 1.5) would stall HTTP, GraphQL and event
 * delivery for its whole length.
 *
 * Lifecycle: `startEmbeddedWorker()` resolves once the child reports it is ready. A child that
 * exits on its own is restarted (after 1 s, doubling up to 30 s). `stop()` sends SIGTERM, so the
 * child finishes or releases its jobs within its grace period, and waits for it to exit. The child
 * also stops by itself when the server dies without stopping it (its IPC channel closes).
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Logger } from "../src/log.ts";

const BIN = fileURLToPath(new URL("../bin/atelier.js", import.meta.url));

/** What the child sends over IPC once its worker claims jobs. */
export const READY_MESSAGE = "atelier-worker-ready";

export interface EmbeddedWorker {
  /** Stops the child (its grace period applies) and waits for it. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startEmbeddedWorker(env: NodeJS.ProcessEnv, log: Logger): Promise<EmbeddedWorker> {
  let stopping = false;
  let child: ChildProcess;
  let exited: Promise<void>;
  let restartDelay = 1000;

  const spawn = () =>
    new Promise<void>((resolve, reject) => {
      // Its own process group: a Ctrl-C in the terminal reaches the server only, which stops the child in order.
      child = fork(BIN, ["worker"], { env, stdio: ["ignore", "inherit", "inherit", "ipc"], detached: true });
      const current = child;
      current.on("message", (message) => {
        if (message !== READY_MESSAGE) return;
        restartDelay = 1000;
        resolve();
      });
      exited = new Promise((done) =>
        current.once("exit", (code, signal) => {
          done();
          reject(new Error(`the embedded worker exited before it was ready (${signal ?? `exit code ${code}`})`));
          if (stopping) return;
          log.error("the embedded worker exited; restarting it", { code, signal, inMs: restartDelay });
          setTimeout(() => void (stopping || spawn().catch(() => {})), restartDelay);
          restartDelay = Math.min(30_000, restartDelay * 2);
        }),
      );
    });

  await spawn();
  let stopped: Promise<void> | undefined;
  return {
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
      })()),
  };
}

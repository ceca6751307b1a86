/**
 * The worker's heartbeat, on a thread of its own (started by heartbeats.ts).
 *
 * Why a thread: onnxruntime-node runs a session on the thread that calls it and returns only when
 * the run ends, and at full size one UNet step takes 15–50 s on a CPU (session creation minutes).
 * Heartbeats on the worker's main thread would stop for that long, and other workers would take
 * the job for dead. This thread has its own database connection and event loop, so it beats on
 * time however long the main thread is busy; it dies with the process, so a killed worker still
 * stops heartbeating.
 *
 * Messages in: `{ kind: "track", jobId, progress }`, `{ kind: "progress", jobId, progress }`,
 * `{ kind: "untrack", jobId }`, `{ kind: "stop" }`. Messages out: `{ kind: "lost", jobId, why }`
 * when the job is no longer running here (why: "canceled" while this worker still holds it, "lost"
 * when another worker took it up), `{ kind: "failed", jobId, message }` when the database could not
 * be reached (the next beat tries again), `{ kind: "stopped" }`.
 */
import { parentPort, workerData } from "node:worker_threads";
import pg from "pg";

export interface HeartbeatThreadData {
  connectionString: string;
  workerId: string;
  intervalMs: number;
}

export type ToHeartbeatThread =
  | { kind: "track" | "progress"; jobId: string; progress: number }
  | { kind: "untrack"; jobId: string }
  | { kind: "stop" };

export type FromHeartbeatThread =
  | { kind: "lost"; jobId: string; why: "canceled" | "lost" }
  | { kind: "failed"; jobId: string; message: string }
  | { kind: "stopped" };

// The database's clock stamps heartbeats: workers on other machines compare them.
const HEARTBEAT = `
  UPDATE "Job" SET "heartbeatAt" = now(), progress = GREATEST(progress, $3)
  WHERE id = $1::uuid AND "workerId" = $2 AND status = 'RUNNING'`;
// A beat that updated nothing asks why: a job cancelled while this worker holds it is still this
// worker's to wrap up (rank what it kept), which a job another worker took up is not. A statement
// of its own, so that it sees what the beat waited for: a beat blocked on cancelJob's row lock
// skips the row once the cancel commits, but a query in the beat's own statement would still read
// the row as it was when the beat began (RUNNING), and call a cancelled job lost.
const WHY_NOT_BEATEN = `
  SELECT EXISTS (SELECT FROM "Job" WHERE id = $1::uuid AND "workerId" = $2 AND status = 'CANCELED') AS canceled`;

const { connectionString, workerId, intervalMs } = workerData as HeartbeatThreadData;
const port = parentPort!;
const send = (message: FromHeartbeatThread) => port.postMessage(message);

/** Tracked job id → latest progress the main thread reported. */
const jobs = new Map<string, number>();
let client: pg.Client | undefined;

async function connection(): Promise<pg.Client> {
  if (client) return client;
  // Bounded waits: a beat that hangs on a dead server must not hold up the next one.
  const fresh = new pg.Client({ connectionString, connectionTimeoutMillis: intervalMs, query_timeout: intervalMs, application_name: "atelier heartbeat" });
  fresh.on("error", () => fresh === client && (client = undefined));
  await fresh.connect();
  return (client = fresh);
}

async function beat(jobId: string): Promise<void> {
  const progress = jobs.get(jobId);
  if (progress === undefined) return;
  try {
    const db = await connection();
    const beaten = (await db.query(HEARTBEAT, [jobId, workerId, progress])).rowCount === 1;
    if (beaten) return;
    const { canceled } = (await db.query<{ canceled: boolean }>(WHY_NOT_BEATEN, [jobId, workerId])).rows[0]!;
    // Untracked meanwhile: the attempt ended and may have cleared workerId itself.
    if (jobs.has(jobId)) {
      jobs.delete(jobId);
      send({ kind: "lost", jobId, why: canceled ? "canceled" : "lost" });
    }
  } catch (error) {
    const broken = client;
    client = undefined;
    broken?.end().catch(() => {});
    send({ kind: "failed", jobId, message: (error as Error).message });
  }
}

const timer = setInterval(() => {
  for (const jobId of jobs.keys()) void beat(jobId);
}, intervalMs);

port.on("message", (message: ToHeartbeatThread) => {
  switch (message.kind) {
    case "track":
      jobs.set(message.jobId, message.progress);
      break;
    case "progress":
      // A job found lost stays untracked: its attempt is being stopped.
      if (jobs.has(message.jobId)) jobs.set(message.jobId, message.progress);
      break;
    case "untrack":
      jobs.delete(message.jobId);
      break;
    case "stop":
      clearInterval(timer);
      jobs.clear();
      void (client?.end().catch(() => {}) ?? Promise.resolve()).then(() => {
        send({ kind: "stopped" });
        port.close();
      });
  }
});

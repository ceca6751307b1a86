/**
 * `subscribeJob(jobId)`: the job's current state first (so a late subscriber misses nothing that
 * matters), then its live events, ending after the final status. It subscribes before it reads the
 * row, so no event falls between the two; when the event bus reconnects after losing events, the
 * row is read again and a status change in between is yielded.
 */
import type { Db } from "../db/prisma.ts";
import { isFinalStatus, type JobEvent, type JobStatusEvent } from "../events/job-event.ts";
import { checkId, NotFoundError, type JobPlatform } from "./job-platform.ts";

export async function* subscribeJob(platform: JobPlatform, jobId: string, signal?: AbortSignal): AsyncGenerator<JobEvent> {
  checkId(jobId, "job");
  const inbox = new Inbox<JobEvent | "resync">();
  const unsubscribe = platform.events.subscribe(jobId, { onEvent: (event) => inbox.push(event), onResync: () => inbox.push("resync") });
  const onAbort = () => inbox.close();
  signal?.addEventListener("abort", onAbort);
  try {
    let current = await readStatus(platform, jobId);
    if (!current) throw new NotFoundError(`No job has the id ${jobId}`);
    yield current;
    while (!isFinalStatus(current.status)) {
      const next = await inbox.next();
      if (next === undefined) return;
      const event = next === "resync" ? await readStatus(platform, jobId) : next;
      if (!event) return;
      if (event.type === "status") {
        // The buffered announcement of the status just read, or a re-read that found no change.
        if (event.status === current.status && !isFinalStatus(event.status)) continue;
        current = event;
      }
      yield event;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    unsubscribe();
  }
}

async function readStatus(platform: JobPlatform, jobId: string): Promise<JobStatusEvent | undefined> {
  const job: Pick<Db.Job, "status" | "progress" | "errorMessage"> | null = await platform.prisma.job.findUnique({
    where: { id: jobId },
    select: { status: true, progress: true, errorMessage: true },
  });
  return job ? { type: "status", jobId, status: job.status, progress: job.progress, errorMessage: job.errorMessage } : undefined;
}

/** An unbounded FIFO that one consumer awaits. */
class Inbox<T> {
  readonly #items: T[] = [];
  #waiting: ((item: T | undefined) => void) | undefined;
  #closed = false;

  push(item: T): void {
    if (this.#closed) return;
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#waiting = undefined;
      resolve(item);
    } else this.#items.push(item);
  }

  /** The next item, or undefined once closed. */
  next(): Promise<T | undefined> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift());
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  close(): void {
    this.#closed = true;
    this.#waiting?.(undefined);
    this.#waiting = undefined;
  }
}

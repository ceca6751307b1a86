/**
 * Job events over PostgreSQL LISTEN/NOTIFY: `publish` sends one NOTIFY on the channel
 * `atelier_job_events` (inside the caller's transaction when given one, so the event is delivered
 * only if the change commits); each process holds ONE listening connection and fans every event
 * out in memory to its subscribers, however many there are.
 *
 * When the listening connection drops (PostgreSQL restarted), the bus reconnects with backoff and
 * then tells every subscriber `onResync`: events may have been missed, re-read the state.
 *
 * Lifecycle: `startEventBus()` connects and listens; `close()` stops listening and disconnects.
 */
import pg from "pg";
import type { Logger } from "../log.ts";
import { MAX_NOTIFY_BYTES, type JobEvent } from "./job-event.ts";

export const EVENT_CHANNEL = "atelier_job_events";

/** Most events one statement sends (its parameters stay far below PostgreSQL's 65,535). */
const MAX_EVENTS_PER_SEND = 100;

export interface EventBusOptions {
  connectionString: string;
  log: Logger;
  /** First wait before reconnecting the listener; doubles up to 5 s. @default 100 */
  reconnectDelayMs?: number;
}

export interface Subscriber {
  onEvent(event: JobEvent): void;
  /** The listener reconnected: events in between may be lost. */
  onResync?(): void;
}

/** Runs SQL in the caller's transaction (a Prisma interactive transaction client fits). */
export interface SqlTransaction {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

export interface EventBus {
  /** Sends the event to every process; in `tx`, only when the transaction commits. */
  publish(event: JobEvent, tx?: SqlTransaction): Promise<void>;
  /** Follows one job, or every job with "*". Returns the unsubscribe function. */
  subscribe(jobId: string | "*", subscriber: Subscriber): () => void;
  /** Number of subscribers in this process (for tests and health). */
  readonly subscriberCount: number;
  /** Stops listening and closes both connections. Safe to call twice. */
  close(): Promise<void>;
}

export async function startEventBus(options: EventBusOptions): Promise<EventBus> {
  const subscribers = new Map<string, Set<Subscriber>>();
  let subscriberCount = 0;
  let closed = false;
  // Publishing needs no session state, so a small pool that replaces broken connections by itself.
  const publisher = new pg.Pool({ connectionString: options.connectionString, max: 2, application_name: "atelier-events-publish" });
  publisher.on("error", (error) => options.log.debug("event bus: idle publish connection lost", { error: error.message }));

  const deliver = (event: JobEvent) => {
    for (const key of [event.jobId, "*"]) for (const subscriber of subscribers.get(key) ?? []) subscriber.onEvent(event);
  };
  const resyncAll = () => {
    for (const set of subscribers.values()) for (const subscriber of set) subscriber.onResync?.();
  };

  let listener: pg.Client | undefined;
  const listen = async (): Promise<void> => {
    const client = new pg.Client({ connectionString: options.connectionString, application_name: "atelier-events-listen" });
    client.on("notification", (message) => {
      if (message.channel !== EVENT_CHANNEL || !message.payload) return;
      try {
        deliver(JSON.parse(message.payload) as JobEvent);
      } catch (error) {
        options.log.warn("event bus: unreadable event", { error: (error as Error).message });
      }
    });
    client.on("error", (error) => {
      if (closed || listener !== client) return;
      options.log.warn("event bus: listening connection lost, reconnecting", { error: error.message });
      listener = undefined;
      client.end().catch(() => {});
      void reconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${EVENT_CHANNEL}`);
    listener = client;
  };
  const reconnect = async () => {
    let delay = options.reconnectDelayMs ?? 100;
    while (!closed) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (closed) return;
      try {
        await listen();
        options.log.info("event bus: listening again");
        resyncAll();
        return;
      } catch {
        delay = Math.min(5000, delay * 2);
      }
    }
  };
  try {
    await listen();
  } catch (error) {
    await publisher.end();
    throw error;
  }

  // Events published outside a transaction while a send is under way wait for the next send, which
  // carries all of them in one statement (one round trip; NOTIFYs keep their order within it).
  const waiting: { payload: string; sent: () => void; failed: (error: unknown) => void }[] = [];
  let sending = false;
  const sendWaiting = async () => {
    sending = true;
    while (waiting.length > 0) {
      const batch = waiting.splice(0, MAX_EVENTS_PER_SEND);
      const calls = batch.map((_, i) => `pg_notify($1, $${i + 2})`).join(", ");
      try {
        await publisher.query(`SELECT ${calls}`, [EVENT_CHANNEL, ...batch.map((entry) => entry.payload)]);
        for (const entry of batch) entry.sent();
      } catch (error) {
        for (const entry of batch) entry.failed(error);
      }
    }
    sending = false;
  };

  let closing: Promise<void> | undefined;
  return {
    async publish(event, tx) {
      const payload = fitPayload(event);
      if (tx) return void (await tx.$executeRawUnsafe("SELECT pg_notify($1, $2)", EVENT_CHANNEL, payload));
      const sent = new Promise<void>((resolve, reject) => waiting.push({ payload, sent: resolve, failed: reject }));
      if (!sending) void sendWaiting();
      await sent;
    },
    subscribe(jobId, subscriber) {
      let set = subscribers.get(jobId);
      if (!set) subscribers.set(jobId, (set = new Set()));
      set.add(subscriber);
      subscriberCount++;
      return () => {
        if (!set.delete(subscriber)) return;
        subscriberCount--;
        if (set.size === 0) subscribers.delete(jobId);
      };
    },
    get subscriberCount() {
      return subscriberCount;
    },
    close: () =>
      (closing ??= (async () => {
        closed = true;
        await Promise.allSettled([listener?.end(), publisher.end()]);
      })()),
  };
}

/** The event as a NOTIFY payload; a step preview that would not fit is left out rather than failing the step. */
function fitPayload(event: JobEvent): string {
  const payload = JSON.stringify(event);
  if (Buffer.byteLength(payload) <= MAX_NOTIFY_BYTES) return payload;
  if (event.type === "step" && event.preview) return JSON.stringify({ ...event, preview: null });
  throw new Error(`A ${event.type} event of job ${event.jobId} is ${Buffer.byteLength(payload)} bytes, over NOTIFY's ${MAX_NOTIFY_BYTES}`);
}

/**
 * The event bus on a real PostgreSQL: one listening connection per process however many
 * subscribers; events only on commit when published in a transaction; payloads under NOTIFY's
 * limit (a preview that does not fit is left out); reconnection after the connection is killed.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "../../src/db/prisma.ts";
import { startEventBus, type EventBus } from "../../src/events/event-bus.ts";
import type { JobEvent, StepProgressEvent } from "../../src/events/job-event.ts";
import { createLogger } from "../../src/log.ts";
import { createTestDatabase, type TestDatabase } from "../support/test-database.ts";

const JOB = "5b0e1d3c-8f6a-4f41-9d8e-2f1a7c3b9e10";
let bus: EventBus;
let prisma: PrismaClient;
// A database of this file's own: connection counts must not see other files' processes.
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(inject("adminDatabaseUrl"), "atelier_events");
  bus = await startEventBus({ connectionString: database.url, log: createLogger("error") });
  prisma = createPrismaClient(database.url);
});
afterAll(async () => {
  await bus?.close();
  await prisma?.$disconnect();
  await database?.drop();
});

function step(overrides: Partial<StepProgressEvent> = {}): StepProgressEvent {
  return { type: "step", jobId: JOB, sampleIndex: 0, step: 1, totalSteps: 10, progress: 0.1, preview: null, ...overrides };
}

function nextEvents(jobId: string, count: number): Promise<JobEvent[]> {
  return new Promise((resolve) => {
    const events: JobEvent[] = [];
    const unsubscribe = bus.subscribe(jobId, {
      onEvent: (event) => {
        events.push(event);
        if (events.length === count) {
          unsubscribe();
          resolve(events);
        }
      },
    });
  });
}

async function listeningConnections(): Promise<number> {
  const [row] = await prisma.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'atelier-events-listen' AND datname = current_database()`;
  return Number(row!.n);
}

describe("the event bus", () => {
  it("fans one NOTIFY out to 1,000 subscribers over a single listening connection, in publish order", async () => {
    const received = Array.from({ length: 1000 }, () => nextEvents(JOB, 3));
    expect(bus.subscriberCount).toBe(1000);
    for (const n of [1, 2, 3]) await bus.publish(step({ step: n }));
    for (const events of await Promise.all(received)) expect(events.map((event) => (event as StepProgressEvent).step)).toEqual([1, 2, 3]);
    expect(bus.subscriberCount).toBe(0);
    expect(await listeningConnections()).toBe(1);
  });

  it("delivers an event published in a transaction only when it commits", async () => {
    const events = nextEvents(JOB, 1);
    await expect(
      prisma.$transaction(async (tx) => {
        await bus.publish(step({ step: 99 }), tx);
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    await prisma.$transaction((tx) => bus.publish(step({ step: 100 }), tx));
    expect(((await events)[0] as StepProgressEvent).step).toBe(100);
  });

  it("leaves out a preview that would not fit a NOTIFY payload, and refuses other oversized events", async () => {
    const events = nextEvents(JOB, 2);
    await bus.publish(step({ step: 1, preview: `data:image/webp;base64,${"A".repeat(5000)}` }));
    await bus.publish(step({ step: 2, preview: `data:image/webp;base64,${"A".repeat(9000)}` }));
    const [small, large] = (await events) as StepProgressEvent[];
    expect(small!.preview).toHaveLength(5000 + "data:image/webp;base64,".length);
    expect(large!.preview).toBeNull();
    await expect(bus.publish({ type: "status", jobId: JOB, status: "FAILED", progress: 0, errorMessage: "x".repeat(9000) })).rejects.toThrow(/over NOTIFY's 7999/);
  });

  it("listens again after its connection is killed, and tells subscribers to re-read", async () => {
    const resynced = new Promise<void>((resolve) => {
      const unsubscribe = bus.subscribe(JOB, { onEvent: () => {}, onResync: () => (unsubscribe(), resolve()) });
    });
    await prisma.$queryRaw`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'atelier-events-listen' AND datname = current_database()`;
    await resynced;
    const events = nextEvents(JOB, 1);
    await bus.publish(step({ step: 7 }));
    expect(((await events)[0] as StepProgressEvent).step).toBe(7);
  });
});

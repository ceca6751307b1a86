/**
 * Opens what the job functions work with (a JobPlatform) on an open database: the queue, the event
 * bus's listening connection, the image store and the model catalog. Closed in reverse order.
 */
import type { AtelierConfig } from "../config.ts";
import type { Database } from "../db/database.ts";
import { startEventBus } from "../events/event-bus.ts";
import type { Logger } from "../log.ts";
import { parseModelReference } from "../models/model-reference.ts";
import { openImageStore } from "../storage/open-image-store.ts";
import type { JobPlatform } from "./job-platform.ts";
import { startJobQueue } from "./job-queue.ts";
import { createModelCatalog } from "./model-catalog.ts";

export interface OpenPlatform extends JobPlatform {
  /** Closes the store, the event bus and the queue (not the database). Safe to call twice. */
  close(): Promise<void>;
}

export async function openPlatform(config: AtelierConfig, database: Database, log: Logger): Promise<OpenPlatform> {
  const queue = await startJobQueue({
    connectionString: database.connectionString,
    maxAttempts: config.jobs.maxAttempts,
    expireAfterSeconds: config.jobs.attemptTimeoutSeconds,
    log,
  });
  const events = await startEventBus({ connectionString: database.connectionString, log }).catch(async (error: unknown) => {
    await queue.stop();
    throw error;
  });
  const store = openImageStore(config.storage);
  log.info(`images are stored as ${store.description}`);
  let closing: Promise<void> | undefined;
  return {
    prisma: database.prisma,
    connectionString: database.connectionString,
    queue,
    events,
    store,
    catalog: createModelCatalog(config.models),
    limits: config.jobs.limits,
    clipModelName: parseModelReference(config.models.clip, config.models.dir).name,
    close: () => (closing ??= Promise.allSettled([store.close(), events.close(), queue.stop()]).then(() => undefined)),
  };
}

/**
 * What the job functions (submit, cancel, follow, galleries) work with: the records, the queue, the
 * event bus, the image store and the models. One process builds it once (src/serve.ts, the worker)
 * and passes it down; nothing in src/jobs/ opens connections of its own.
 */
import type { PrismaClient } from "../db/prisma.ts";
import type { EventBus } from "../events/event-bus.ts";
import type { ImageStore } from "../storage/image-store.ts";
import type { JobLimits } from "./job-limits.ts";
import type { JobQueue } from "./job-queue.ts";
import type { ModelCatalog } from "./model-catalog.ts";
import { UserFacingError } from "../errors.ts";

export interface JobPlatform {
  prisma: PrismaClient;
  /** The database's URL, for the one part that needs a connection of its own: the worker's heartbeat thread. */
  connectionString: string;
  queue: JobQueue;
  events: EventBus;
  store: ImageStore;
  catalog: ModelCatalog;
  limits: JobLimits;
  /** The CLIP model (ATELIER_CLIP_MODEL) that scores every job's images. */
  clipModelName: string;
}

/** No job (or image) has that id. */
export class NotFoundError extends UserFacingError {
  override readonly name = "NotFoundError";
}

/** The job is in a status that does not allow the operation, e.g. cancelling a finished job. */
export class JobStateError extends UserFacingError {
  override readonly name = "JobStateError";
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether the string can be a row's id (a UUID). */
export function isId(id: string): boolean {
  return UUID.test(id);
}

/** Ids are UUIDs; anything else names no row (rather than a database error about uuid syntax). */
export function checkId(id: string, what: "job" | "image"): string {
  if (!isId(id)) throw new NotFoundError(`No ${what} has the id ${JSON.stringify(id)} (ids are UUIDs)`);
  return id;
}

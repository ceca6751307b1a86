/**
 * What resolvers hand to the field resolvers for each GraphQL type: database rows as Prisma returns
 * them, the catalog's models, and the events as the bus carries them. Codegen maps the schema's
 * types to these (src/graphql/generate-resolver-types.ts).
 */
import type { Db, ImageRow } from "../db/prisma.ts";
import type { ImageReadyEvent, JobStatusEvent, StepProgressEvent } from "../events/job-event.ts";
import type { CatalogModel } from "../jobs/model-catalog.ts";

/** A job row; one read for a subscription event comes with its prompt, read at the same moment. */
export type JobModel = Db.Job & { prompt?: Db.Prompt };
export type ImageModel = ImageRow;
export type PromptModel = Db.Prompt;
export type ModelModel = CatalogModel;
// Events carry the row as read when the event was delivered: a subscription's loaders live as long
// as the subscription, so rows that change (a job's status) are not read through them.
export type JobStatusChangedModel = JobStatusEvent & { __typename: "JobStatusChanged"; job: JobModel };
export type StepProgressModel = StepProgressEvent & { __typename: "StepProgress" };
export type ImageReadyModel = ImageReadyEvent & { __typename: "ImageReady"; image: ImageRow | null };

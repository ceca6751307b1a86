/**
 * The resolvers of schema.graphql, typed by the generated Resolvers type. They translate between
 * GraphQL and the job layer (src/jobs/), which does the work; rows are read through the request's
 * loaders so a page costs a constant number of queries.
 */
import { GraphQLError, GraphQLScalarType, Kind } from "graphql";
import { WITHOUT_EMBEDDING, type PrismaClient } from "../db/prisma.ts";
import type { JobEvent } from "../events/job-event.ts";
import { cancelJob } from "../jobs/cancel-job.ts";
import { deleteImage } from "../jobs/delete-image.ts";
import { deleteJob } from "../jobs/delete-job.ts";
import { gallery, promptGallery, searchPrompts } from "../jobs/gallery.ts";
import { listJobs } from "../jobs/list-jobs.ts";
import type { Page } from "../jobs/pages.ts";
import { isId } from "../jobs/job-platform.ts";
import { submitJob } from "../jobs/submit-job.ts";
import { subscribeJob } from "../jobs/subscribe-job.ts";
import type { Resolvers } from "../generated/graphql/resolvers.ts";
import { toGraphQLError, translated } from "./errors.ts";
import type { ImageReadyModel, JobStatusChangedModel, StepProgressModel } from "./models.ts";

export const resolvers: Resolvers = {
  DateTime: new GraphQLScalarType<Date, string>({
    name: "DateTime",
    serialize: (value) => (value as Date).toISOString(),
    parseValue: (value) => parseDate(value),
    parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
  }),
  Seed: new GraphQLScalarType<number, number>({
    name: "Seed",
    serialize: (value) => Number(value),
    parseValue: (value) => parseSeed(value),
    parseLiteral: (ast) => parseSeed(ast.kind === Kind.INT ? Number(ast.value) : undefined),
  }),

  Query: {
    job: (_, { id }, { loaders }) => (isId(id) ? loaders.job.load(id) : null),
    image: (_, { id }, { loaders }) => (isId(id) ? loaders.image.load(id) : null),
    jobs: (_, { first, after, status }, { platform }) => translated(() => listJobs(platform, first ?? 20, after, status ?? undefined)).then(connection),
    gallery: (_, { prompt, first, after }, context) => translated(() => gallery(context.platform, prompt, first ?? 24, after)).then(connection),
    searchPrompts: (_, { query, first }, { platform }) => translated(() => searchPrompts(platform, query, first ?? 20)),
    models: (_, __, { platform }) => platform.catalog.list(),
  },

  Mutation: {
    generate: (_, { input }, { platform }) => translated(() => submitJob(platform, input), "input"),
    cancelJob: (_, { id }, { platform }) => translated(() => cancelJob(platform, id)),
    deleteImage: (_, { id }, { platform }) => translated(async () => (await deleteImage(platform, id)).id),
    deleteJob: (_, { id }, { platform }) => translated(async () => (await deleteJob(platform, id)).id),
  },

  Subscription: {
    jobEvents: {
      subscribe: (_, { jobId }, { platform }) => ({ [Symbol.asyncIterator]: () => jobEventPayloads(platform.prisma, subscribeJob(platform, jobId)) }),
      resolve: (event: JobEventModel) => event,
    },
  },

  JobEvent: {
    __resolveType: (event) => event.__typename,
  },

  JobStatusChanged: {
    job: (event) => event.job,
  },

  ImageReady: {
    image: (event) => {
      if (!event.image) throw new GraphQLError(`Image ${event.imageId} was deleted`, { extensions: { code: "NOT_FOUND" } });
      return event.image;
    },
  },

  Job: {
    prompt: async (job, _, { loaders }) => job.prompt ?? (await loaders.prompt.load(job.promptId))!,
    seed: (job) => Number(job.seed),
    model: async (job, _, { platform }) => {
      const model = await platform.catalog.find(job.modelName);
      if (!model) throw new GraphQLError(`Model ${job.modelName} is no longer available`, { extensions: { code: "NOT_FOUND" } });
      return model;
    },
    clipModel: (job) => job.clipModelName,
    images: (job, _, { loaders }) => loaders.imagesOfJob.load(job.id),
    error: (job) => job.errorMessage,
    queuePosition: async (job, _, { loaders }) => (job.status === "QUEUED" ? ((await loaders.queueStanding.load(job.id))?.position ?? null) : null),
    estimatedSecondsRemaining: async (job, _, { loaders }) => (job.status === "QUEUED" ? ((await loaders.queueStanding.load(job.id))?.estimatedSeconds ?? null) : null),
  },

  Image: {
    job: async (image, _, { loaders }) => (await loaders.job.load(image.jobId))!,
    prompt: async (image, _, { loaders }) => (await loaders.prompt.load(image.promptId))!,
    seed: (image) => Number(image.seed),
    url: (image, _, { imageUrlBase }) => `${imageUrlBase}/images/${image.storageKey}`,
    thumbnailUrl: (image, _, { imageUrlBase }) => `${imageUrlBase}/images/${image.thumbnailKey}`,
  },

  Prompt: {

    bestImage: (prompt, _, { loaders }) => loaders.bestImageOfPrompt.load(prompt.id),
    gallery: (prompt, { first, after }, { platform }) => translated(() => promptGallery(platform, prompt, first ?? 24, after)).then(connection),
  },

  Model: {
    kind: () => "stable-diffusion",
    defaultSteps: (model) => model.defaults.steps,
    defaultGuidanceScale: (model) => model.defaults.guidanceScale,
    defaultWidth: (model) => model.defaults.width,
    defaultHeight: (model) => model.defaults.height,
    defaultScheduler: (model) => model.defaults.scheduler,
    sizeStep: (model) => model.sizeMultiple,
  },
};

type JobEventModel = JobStatusChangedModel | StepProgressModel | ImageReadyModel;

/**
 * The job layer's events as the schema's union members, with the rows they name read now: once per
 * event, however many subscribers follow the job (the event bus hands each of them the same event
 * object), which also lets shared-subscribe.ts execute the event once for all of them.
 */
async function* jobEventPayloads(prisma: PrismaClient, events: AsyncGenerator<JobEvent>): AsyncGenerator<JobEventModel> {
  try {
    for await (const event of events) {
      let payload = payloads.get(event);
      if (!payload) payloads.set(event, (payload = jobEventPayload(prisma, event)));
      yield await payload;
    }
  } catch (error) {
    toGraphQLError(error);
  }
}

const payloads = new WeakMap<JobEvent, Promise<JobEventModel>>();

async function jobEventPayload(prisma: PrismaClient, event: JobEvent): Promise<JobEventModel> {
  if (event.type === "status") return { ...event, __typename: "JobStatusChanged", job: await prisma.job.findUniqueOrThrow({ where: { id: event.jobId }, include: { prompt: true } }) };
  if (event.type === "step") return { ...event, __typename: "StepProgress" };
  return { ...event, __typename: "ImageReady", image: await prisma.image.findUnique({ where: { id: event.imageId }, omit: WITHOUT_EMBEDDING }) };
}

function connection<T>(page: Page<T>) {
  return { edges: page.nodes, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor }, totalCount: page.totalCount };
}

function parseDate(value: unknown): Date {
  const date = typeof value === "string" ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new GraphQLError(`DateTime must be an ISO-8601 string, got ${JSON.stringify(value)}`, { extensions: { code: "BAD_USER_INPUT" } });
  return date;
}

function parseSeed(value: unknown): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  throw new GraphQLError(`Seed must be a whole number between 0 and ${Number.MAX_SAFE_INTEGER}, got ${JSON.stringify(value)}`, { extensions: { code: "BAD_USER_INPUT" } });
}

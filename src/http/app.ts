/** The Express application: every HTTP route Atelier serves, in one place. */
import express, { type Express } from "express";
import type { Logger } from "../log.ts";
import type { ImageStore } from "../storage/image-store.ts";
import { healthHandler, type HealthChecks } from "./health.ts";
import { imagesHandler } from "./images.ts";
import { webClientHandler } from "./web-client.ts";

export interface AppOptions {
  health: HealthChecks;
  /** Serves GET /images/<key> from this store; without it there is no such route. */
  images?: ImageStore;
  /** Where routes log what the client is not told (a failing image store). */
  logger?: Logger;
  /** Serves this built web client at / (web-client.ts); without it there is none. */
  webClient?: string;
}

export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", healthHandler(options.health));
  if (options.images) app.use("/images", imagesHandler(options.images, options.logger));
  // It passes /graphql on, which startGraphQL mounts on this app later.
  if (options.webClient) app.use(webClientHandler(options.webClient));
  return app;
}

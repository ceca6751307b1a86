/** The Express application: every HTTP route Atelier serves, in one place. */
import express, { type Express } from "express";
import { healthHandler, type HealthChecks } from "./health.ts";

export interface AppOptions {
  health: HealthChecks;
}

export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", healthHandler(options.health));
  return app;
}

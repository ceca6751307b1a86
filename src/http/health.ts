/**
 * GET /healthz: whether this instance can serve. A load balancer or `curl` reads `status`; the
 * details say what is wrong. 200 when everything is ok, 503 otherwise.
 */
import type { Request, Response } from "express";

export interface HealthChecks {
  version: string;
  isDatabaseReachable(): Promise<boolean>;
  /** Names of migrations in prisma/migrations not yet applied to the database. */
  pendingMigrations(): Promise<string[]>;
}

export interface HealthReport {
  status: "ok" | "unavailable";
  version: string;
  database: { reachable: boolean; migrations: { upToDate: boolean; pending: string[] } | null };
}

export async function checkHealth(checks: HealthChecks): Promise<HealthReport> {
  const reachable = await checks.isDatabaseReachable();
  const pending = reachable ? await checks.pendingMigrations().catch(() => undefined) : undefined;
  const migrations = pending ? { upToDate: pending.length === 0, pending } : null;
  const ok = reachable && migrations?.upToDate === true;
  return { status: ok ? "ok" : "unavailable", version: checks.version, database: { reachable, migrations } };
}

export function healthHandler(checks: HealthChecks) {
  return async (_request: Request, response: Response) => {
    const report = await checkHealth(checks);
    response.status(report.status === "ok" ? 200 : 503).json(report);
  };
}

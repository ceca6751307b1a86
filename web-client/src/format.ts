/** How values read in the views. */
import type { JobStatus, Scheduler } from "./generated/graphql.ts";

/** Every scheduler the API knows, as people name them (typed by the schema: a new one must be named here). */
export const SCHEDULER_LABELS: Record<Scheduler, string> = {
  PNDM: "PNDM",
  DDIM: "DDIM",
  EULER: "Euler",
  EULER_ANCESTRAL: "Euler ancestral",
  DPM_PP_2M: "DPM++ 2M",
  DPM_PP_2M_KARRAS: "DPM++ 2M Karras",
  LCM: "LCM",
};

export const STATUS_LABELS: Record<JobStatus, string> = {
  QUEUED: "Queued",
  RUNNING: "Running",
  SUCCEEDED: "Done",
  FAILED: "Failed",
  CANCELED: "Cancelled",
};

/** A CLIP score: 100 × a cosine, so two decimals tell samples apart. */
export function formatScore(score: number): string {
  return score.toFixed(2);
}

export function formatSize(width: number, height: number): string {
  return `${width} × ${height}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Milliseconds between two ISO times, as "0.8 s", "12 s" or "3 min 5 s"; undefined without both. */
export function formatDuration(from: string | null, to: string | null): string | undefined {
  if (!from || !to) return undefined;
  return formatSeconds((Date.parse(to) - Date.parse(from)) / 1000);
}

export function formatSeconds(seconds: number): string {
  if (seconds < 10) return `${Math.max(0, seconds).toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "just now", "5 minutes ago", "yesterday", … and a date after a week. */
export function timeAgo(iso: string, now = Date.now()): string {
  const seconds = (now - Date.parse(iso)) / 1000;
  if (seconds < 45) return "just now";
  if (seconds < 3600) return relative.format(-Math.max(1, Math.round(seconds / 60)), "minute");
  if (seconds < 86_400) return relative.format(-Math.round(seconds / 3600), "hour");
  if (seconds < 7 * 86_400) return relative.format(-Math.round(seconds / 86_400), "day");
  return new Date(iso).toLocaleDateString();
}

export function formatDateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

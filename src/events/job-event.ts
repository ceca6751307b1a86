/**
 * What happens to a job, as it travels from the worker (or the API) through PostgreSQL's
 * LISTEN/NOTIFY to every process that follows the job. Each event is one NOTIFY payload, so it
 * stays well under PostgreSQL's 8000-byte limit: it names rows by id instead of carrying them, and
 * a step preview is a small WebP (see MAX_NOTIFY_BYTES).
 */
import type { Db } from "../db/prisma.ts";

export type JobEvent = JobStatusEvent | StepProgressEvent | ImageReadyEvent;

/** The job entered a status (QUEUED again after a failed attempt, too). */
export interface JobStatusEvent {
  type: "status";
  jobId: string;
  status: Db.JobStatus;
  progress: number;
  errorMessage: string | null;
}

/** One denoising step of one sample finished. */
export interface StepProgressEvent {
  type: "step";
  jobId: string;
  sampleIndex: number;
  /** 1-based. */
  step: number;
  totalSteps: number;
  /** Whole job, 0 … 1. */
  progress: number;
  /** A small data: URL of the current latents, when previews are on and it fits the payload. */
  preview: string | null;
}

/** A sample's image is stored and its row written. */
export interface ImageReadyEvent {
  type: "image";
  jobId: string;
  imageId: string;
  sampleIndex: number;
  clipScore: number;
}

export const FINAL_STATUSES: readonly Db.JobStatus[] = ["SUCCEEDED", "FAILED", "CANCELED"];

export function isFinalStatus(status: Db.JobStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/** PostgreSQL rejects NOTIFY payloads of 8000 bytes or more. */
export const MAX_NOTIFY_BYTES = 7999;

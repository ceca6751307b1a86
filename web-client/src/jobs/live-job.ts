/**
 * What the job view shows, folded from the job as last read (a query, or a JobStatusChanged event,
 * which carries the whole job) and the events since: each sample's latest step and preview, and the
 * images stored so far. Pure, so the order of arrival is the only thing that matters.
 */
import type { ImageCardFragment, JobDetailsFragment, JobEventsSubscription, JobStatus } from "../generated/graphql.ts";

export interface SampleProgress {
  step: number;
  totalSteps: number;
  /** data: URL of the latest preview, when the server sends them. */
  preview: string | null;
}

export interface LiveJob {
  job: JobDetailsFragment;
  /** By sample index; a sample with an image is done and needs none. */
  samples: Record<number, SampleProgress>;
  /** The whole job's progress, 0 to 1. */
  progress: number;
}

export type JobEvent = JobEventsSubscription["jobEvents"];

const FINAL: readonly JobStatus[] = ["SUCCEEDED", "FAILED", "CANCELED"];

export function isFinal(status: JobStatus): boolean {
  return FINAL.includes(status);
}

/** The job as read now: its status and images replace what the events had said. */
export function fromJob(job: JobDetailsFragment, previous?: LiveJob): LiveJob {
  // Back in the queue (its worker died): the steps so far will be made again.
  const samples = job.status === "QUEUED" || !previous ? {} : previous.samples;
  const progress = isFinal(job.status) || job.status === "QUEUED" ? job.progress : Math.max(job.progress, previous?.progress ?? 0);
  return { job, samples, progress };
}

export function applyEvent(live: LiveJob, event: JobEvent): LiveJob {
  switch (event.__typename) {
    case "JobStatusChanged":
      return fromJob(event.job, live);
    case "StepProgress": {
      const { sampleIndex, step, totalSteps, preview } = event;
      // A step without a preview keeps the last one rather than blanking the card.
      const shown = preview ?? live.samples[sampleIndex]?.preview ?? null;
      return { ...live, progress: Math.max(live.progress, event.progress), samples: { ...live.samples, [sampleIndex]: { step, totalSteps, preview: shown } } };
    }
    case "ImageReady":
      return { ...live, job: withImage(live.job, event.image) };
  }
}

export function withoutImage(live: LiveJob, imageId: string): LiveJob {
  return { ...live, job: { ...live.job, images: live.job.images.filter((image) => image.id !== imageId) } };
}

function withImage(job: JobDetailsFragment, image: ImageCardFragment): JobDetailsFragment {
  if (job.images.some((known) => known.id === image.id)) return job;
  return { ...job, images: [...job.images, image] };
}

/** One sample's place in the view: its image once made, its progress until then. */
export interface SampleView {
  sampleIndex: number;
  image: ImageCardFragment | undefined;
  progress: SampleProgress | undefined;
  /** 0 to 100. */
  percent: number;
}

/**
 * While the job runs, every sample, by sample index. Once it has ended, the images it kept (a
 * cancelled job keeps those finished before; an image can be deleted), in rank order.
 */
export function sampleViews(live: LiveJob): SampleView[] {
  const views = Array.from({ length: live.job.samples }, (_, sampleIndex): SampleView => {
    const image = live.job.images.find((candidate) => candidate.sampleIndex === sampleIndex);
    const progress = live.samples[sampleIndex];
    const percent = image ? 100 : progress ? Math.round((100 * progress.step) / progress.totalSteps) : 0;
    return { sampleIndex, image, progress, percent };
  });
  if (!isFinal(live.job.status)) return views;
  const rank = (view: SampleView) => view.image?.rank ?? Number.POSITIVE_INFINITY;
  return views.filter((view) => view.image).sort((a, b) => rank(a) - rank(b) || a.sampleIndex - b.sampleIndex);
}

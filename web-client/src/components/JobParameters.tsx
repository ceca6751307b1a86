import type { ReactNode } from "react";
import type { JobDetailsFragment } from "../generated/graphql.ts";
import { formatDateTime, formatDuration, formatSize, SCHEDULER_LABELS } from "../format.ts";

/**
 * Everything a job ran with, and when: enough to make its images again. For one of its images,
 * `imageSeed` is that image's seed (otherwise the seeds of all samples are shown), and `more`
 * adds what is known of the image itself.
 */
export function JobParameters({ job, imageSeed, more = [] }: { job: JobDetailsFragment; imageSeed?: number; more?: [string, ReactNode][] }) {
  const waited = formatDuration(job.createdAt, job.startedAt);
  const ran = formatDuration(job.startedAt, job.finishedAt);
  const rows: [string, ReactNode][] = [
    ["Model", job.model.name],
    ["Scheduler", SCHEDULER_LABELS[job.scheduler]],
    ["Steps", String(job.steps)],
    ["Guidance scale", String(job.guidanceScale)],
    ["Size", formatSize(job.width, job.height)],
    ["Seed", imageSeed !== undefined ? String(imageSeed) : job.samples > 1 ? `${job.seed} – ${job.seed + job.samples - 1}` : String(job.seed)],
    ["Samples", String(job.samples)],
    ["Negative prompt", job.negativePrompt ?? undefined],
    ["Ranked by", job.clipModel],
    ["Submitted", formatDateTime(job.createdAt)],
    ["Waited", waited],
    ["Ran", ran],
    ...more,
  ];
  return (
    <dl className="params">
      {rows
        .filter(([, value]) => value !== undefined)
        .map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
    </dl>
  );
}

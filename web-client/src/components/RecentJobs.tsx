import { useEffect } from "react";
import { usePages } from "../api/use-pages.ts";
import { RecentJobsDocument } from "../generated/graphql.ts";
import { timeAgo } from "../format.ts";
import { isFinal } from "../jobs/live-job.ts";
import { paths } from "../router.ts";
import { Link } from "./Link.tsx";
import { ProgressBar } from "./ProgressBar.tsx";
import { StatusBadge } from "./StatusBadge.tsx";

/** While a listed job is queued or running, the list is read again this often. */
const POLL_MS = 2000;

/** The newest jobs with their status (and best image), each linking to its live view. */
export function RecentJobs({ pageSize, more }: { pageSize: number; more: "button" | "link" }) {
  const jobs = usePages(RecentJobsDocument, {}, (result) => result.jobs, pageSize);
  const active = jobs.nodes.some((job) => !isFinal(job.status));
  const { reload } = jobs;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [active, reload]);

  if (jobs.error && jobs.nodes.length === 0) return <p className="notice notice-error">{jobs.error.message}</p>;
  if (jobs.totalCount === 0) return <p className="empty">No jobs yet. Your first one will show here.</p>;
  return (
    <>
      <ul className="job-list">
        {jobs.nodes.map((job) => {
          const best = job.images.find((image) => image.rank === 1) ?? job.images[0];
          return (
            <li key={job.id}>
              <Link to={paths.job(job.id)} className="job-row">
                {best ? <img className="job-thumb" src={best.thumbnailUrl} alt="" /> : <span className="job-thumb job-thumb-empty" />}
                <span className="job-row-text">
                  <span className="job-row-prompt">{job.prompt.text}</span>
                  <span className="muted">
                    {job.samples} {job.samples === 1 ? "image" : "images"} · {timeAgo(job.createdAt)}
                  </span>
                  {job.status === "RUNNING" && <ProgressBar percent={job.progress * 100} label={`Progress of “${job.prompt.text}”`} />}
                </span>
                <StatusBadge status={job.status} />
              </Link>
            </li>
          );
        })}
      </ul>
      {more === "link" && jobs.totalCount !== undefined && jobs.totalCount > jobs.nodes.length && (
        <Link to={paths.jobs()} className="more-link">
          All {jobs.totalCount} jobs →
        </Link>
      )}
      {more === "button" && jobs.hasMore && (
        <button type="button" className="button-ghost more-button" disabled={jobs.loading} onClick={jobs.loadMore}>
          {jobs.loading ? "Loading…" : "Show more"}
        </button>
      )}
    </>
  );
}

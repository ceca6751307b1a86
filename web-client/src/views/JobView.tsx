import { useState } from "react";
import { request } from "../api/graphql-client.ts";
import { ImageDialog } from "../components/ImageDialog.tsx";
import { JobParameters } from "../components/JobParameters.tsx";
import { Link } from "../components/Link.tsx";
import { ProgressBar } from "../components/ProgressBar.tsx";
import { SampleCard } from "../components/SampleCard.tsx";
import { ScoreChart } from "../components/ScoreChart.tsx";
import { StatusBadge } from "../components/StatusBadge.tsx";
import { CancelJobDocument, GenerateDocument, type JobDetailsFragment } from "../generated/graphql.ts";
import { formatDuration, formatSeconds } from "../format.ts";
import { rerunInput } from "../jobs/generate-input.ts";
import { isFinal, sampleViews, withoutImage, type LiveJob } from "../jobs/live-job.ts";
import { useLiveJob } from "../jobs/use-live-job.ts";
import { navigate, paths, useLocation, withSearchParam } from "../router.ts";
import { useTitle } from "../use-title.ts";

/** A job live: every sample's steps and previews, then its images ranked, and what to do next. */
export function JobView({ id }: { id: string }) {
  const { live, failure, reload, update } = useLiveJob(id);
  const { search } = useLocation();
  const openImage = search.get("image") ?? undefined;
  useTitle(live?.job.prompt.text ?? "Job");

  if (failure === "missing") {
    return (
      <section className="panel empty-state">
        <h1>No such job</h1>
        <p className="muted">It may have been deleted, or the link is incomplete.</p>
        <Link className="button-primary" to={paths.create()}>
          Create a new one
        </Link>
      </section>
    );
  }
  if (!live) {
    return failure ? <p className="notice notice-error">{failure.message}</p> : <p className="loading">Loading the job…</p>;
  }

  const { job } = live;
  const samples = sampleViews(live);
  const ranked = job.images.filter((image) => image.rank !== null);
  return (
    <div className="job-layout">
      <header className="job-header">
        <p className="breadcrumb">
          <Link to={paths.jobs()}>Jobs</Link> / <span className="muted">{job.id.slice(0, 8)}</span>
        </p>
        <div className="job-title-row">
          <h1 className="job-title">{job.prompt.text}</h1>
          <StatusBadge status={job.status} />
        </div>
        <JobStatusLine live={live} />
        <ProgressBar percent={live.progress * 100} label="Job progress" />
        <JobActions job={job} />
        {job.notes.length > 0 && (
          <ul className="notes">
            {job.notes.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
        )}
      </header>

      <section className="samples" aria-label="Samples">
        {samples.map((sample) => (
          <SampleCard
            key={sample.sampleIndex}
            sample={sample}
            jobStatus={job.status}
            width={job.width}
            height={job.height}
            onOpen={(image) => navigate(withSearchParam("image", image.id), { replace: true })}
            onDeleted={(image) => {
              update((current) => withoutImage(current, image.id));
              // The job's other images are ranked again.
              void reload();
            }}
          />
        ))}
        {samples.length === 0 && job.status === "SUCCEEDED" && <p className="empty">Every image of this job was deleted.</p>}
      </section>

      <aside className="job-aside">
        {ranked.length > 1 && (
          <div className="panel">
            <ScoreChart images={ranked} />
          </div>
        )}
        <div className="panel">
          <h2>Parameters</h2>
          <JobParameters job={job} />
        </div>
      </aside>

      {openImage && <ImageDialog imageId={openImage} onClose={() => navigate(withSearchParam("image", undefined), { replace: true })} />}
    </div>
  );
}

/** Where the job is, in words: its place in the queue, its progress, how it ended. */
function JobStatusLine({ live }: { live: LiveJob }) {
  const { job } = live;
  switch (job.status) {
    case "QUEUED":
      return (
        <p className="status-line" role="status">
          {job.queuePosition ? `Number ${job.queuePosition} in the queue` : "Waiting in the queue"}
          {job.estimatedSecondsRemaining !== null && ` · done in about ${formatSeconds(job.estimatedSecondsRemaining)}`}
        </p>
      );
    case "RUNNING":
      // Not a live region: it changes every step, too often to be read out.
      return (
        <p className="status-line">
          Generating {job.samples} {job.samples === 1 ? "image" : "images"} · {Math.round(live.progress * 100)}%
        </p>
      );
    case "SUCCEEDED":
      return (
        <p className="status-line" role="status">
          Finished in {formatDuration(job.startedAt, job.finishedAt) ?? "–"}; images ranked by CLIP score, best first.
        </p>
      );
    case "CANCELED":
      return (
        <p className="notice notice-warning" role="status">
          Cancelled. {job.images.length === 0 ? "No image was finished before that." : `The ${job.images.length === 1 ? "image" : `${job.images.length} images`} finished before that ${job.images.length === 1 ? "is" : "are"} kept and ranked.`}
        </p>
      );
    case "FAILED":
      return (
        <p className="notice notice-error" role="alert">
          This job failed{job.error ? `: ${job.error}` : "."}
        </p>
      );
  }
}

/** Cancel while it runs; run it again, with the same seed (the same images) or another. */
function JobActions({ job }: { job: JobDetailsFragment }) {
  const [busy, setBusy] = useState<"cancel" | "same" | "vary">();
  const [failure, setFailure] = useState<string>();
  const act = async (what: "cancel" | "same" | "vary") => {
    setBusy(what);
    setFailure(undefined);
    try {
      if (what === "cancel") await request(CancelJobDocument, { id: job.id });
      else navigate(paths.job((await request(GenerateDocument, { input: rerunInput(job, { sameSeed: what === "same" }) })).generate.id));
    } catch (error) {
      setFailure(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(undefined);
    }
  };
  const active = !isFinal(job.status);
  return (
    <div className="job-actions">
      {active && (
        <button type="button" className="button-danger" disabled={busy === "cancel"} onClick={() => void act("cancel")}>
          {busy === "cancel" ? "Cancelling…" : "Cancel"}
        </button>
      )}
      <button type="button" className="button-ghost" disabled={busy !== undefined} onClick={() => void act("same")}>
        Run again with the same seed
      </button>
      <button type="button" className="button-ghost" disabled={busy !== undefined} onClick={() => void act("vary")}>
        Vary seed
      </button>
      <Link className="button-ghost" to={paths.gallery(job.prompt.text)}>
        Gallery of this prompt
      </Link>
      {failure && (
        <p className="notice notice-error" role="alert">
          {failure}
        </p>
      )}
    </div>
  );
}

import type { ImageCardFragment, JobStatus } from "../generated/graphql.ts";
import { formatScore } from "../format.ts";
import type { SampleView } from "../jobs/live-job.ts";
import { DeleteImageButton } from "./DeleteImageButton.tsx";
import { ProgressBar } from "./ProgressBar.tsx";

interface SampleCardProps {
  sample: SampleView;
  jobStatus: JobStatus;
  /** The job's image size, for the card's shape before there is an image. */
  width: number;
  height: number;
  onOpen(image: ImageCardFragment): void;
  onDeleted(image: ImageCardFragment): void;
}

/**
 * One sample of a job: the live preview of its latents and its progress while it denoises, then
 * its image with the rank and CLIP score it got.
 */
export function SampleCard({ sample, jobStatus, width, height, onOpen, onDeleted }: SampleCardProps) {
  const { image, progress, percent } = sample;
  const number = sample.sampleIndex + 1;
  const waiting = jobStatus === "QUEUED" ? "Waiting in the queue" : jobStatus === "RUNNING" ? "Waiting for its turn" : "Not made";
  const detail = image ? "done" : progress ? `step ${progress.step} of ${progress.totalSteps}` : waiting.toLowerCase();
  return (
    <article className={`sample${image?.rank === 1 ? " sample-best" : ""}`} aria-label={`Sample ${number}`}>
      <div className="sample-media" style={{ aspectRatio: `${width} / ${height}` }}>
        {image ? (
          <button type="button" className="sample-open" onClick={() => onOpen(image)} aria-label={`Open sample ${number} full size`}>
            <img src={image.url} alt={`Sample ${number}, seed ${image.seed}`} width={image.width} height={image.height} />
          </button>
        ) : progress?.preview ? (
          <img className="sample-preview" src={progress.preview} alt={`Preview of sample ${number} at step ${progress.step}`} />
        ) : (
          <div className="sample-placeholder">
            <span>{waiting}</span>
          </div>
        )}
        {image?.rank != null && <span className="rank-badge">#{image.rank}</span>}
      </div>
      <div className="sample-body">
        <div className="sample-heading">
          <h3>Sample {number}</h3>
          {image && (
            <span className="score" title="CLIP score: how well the image matches the prompt">
              CLIP <strong>{formatScore(image.clipScore)}</strong>
            </span>
          )}
        </div>
        <ProgressBar percent={percent} label={`Sample ${number} progress`} detail={detail} />
        <div className="sample-footer">
          <span className="muted">{image ? `Seed ${image.seed}` : progress ? `Step ${progress.step} / ${progress.totalSteps}` : waiting}</span>
          {image && (
            <span className="sample-actions">
              <a className="button-small button-ghost" href={image.url} download={`atelier-${image.seed}.png`} aria-label={`Download sample ${number}`}>
                Download
              </a>
              <DeleteImageButton imageId={image.id} label={`Delete sample ${number}`} onDeleted={() => onDeleted(image)} />
            </span>
          )}
        </div>
      </div>
    </article>
  );
}

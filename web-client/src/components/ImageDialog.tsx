import { useId } from "react";
import { useQuery } from "../api/use-query.ts";
import { ImageDetailsDocument } from "../generated/graphql.ts";
import { formatBytes, formatDateTime, formatScore } from "../format.ts";
import { paths } from "../router.ts";
import { JobParameters } from "./JobParameters.tsx";
import { Link } from "./Link.tsx";
import { Modal } from "./Modal.tsx";

/** One image full size, with everything known about how it was made, and a download button. */
export function ImageDialog({ imageId, onClose }: { imageId: string; onClose(): void }) {
  const { data, error } = useQuery(ImageDetailsDocument, { id: imageId });
  const title = useId();
  const image = data?.image;
  return (
    <Modal labelledBy={title} onClose={onClose} className="modal-wide">
      <button type="button" className="modal-close" aria-label="Close" onClick={onClose}>
        ×
      </button>
      {error && <p className="notice notice-error">{error.message}</p>}
      {data && !image && (
        <>
          <h2 id={title}>Image not found</h2>
          <p className="muted">It may have been deleted.</p>
        </>
      )}
      {!data && !error && (
        <h2 id={title} className="muted">
          Loading…
        </h2>
      )}
      {image && (
        <div className="image-details">
          <div className="image-details-media">
            <img src={image.url} alt={`${image.job.prompt.text}, seed ${image.seed}`} width={image.width} height={image.height} />
          </div>
          <div className="image-details-info">
            <h2 id={title}>{image.job.prompt.text}</h2>
            <div className="image-details-scores">
              <div>
                <span className="muted">CLIP score</span>
                <strong>{formatScore(image.clipScore)}</strong>
              </div>
              <div>
                <span className="muted">Rank in its job</span>
                <strong>{image.rank ? `#${image.rank} of ${image.job.images.length}` : "not ranked yet"}</strong>
              </div>
            </div>
            <JobParameters
              job={image.job}
              imageSeed={image.seed}
              more={[
                ["Stored", formatDateTime(image.createdAt)],
                [
                  "File",
                  <>
                    PNG, {formatBytes(image.byteSize)}, SHA-256 <code title={image.sha256}>{image.sha256.slice(0, 12)}…</code>
                  </>,
                ],
              ]}
            />
            <div className="actions">
              <a className="button-primary" href={image.url} download={`atelier-${image.seed}.png`}>
                Download PNG
              </a>
              <Link className="button-ghost" to={paths.job(image.job.id)}>
                Open its job
              </Link>
            </div>
          </div>
        </div>
      )}
    </Modal>
  );
}

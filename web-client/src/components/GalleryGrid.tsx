import { useEffect, useRef } from "react";
import { usePages } from "../api/use-pages.ts";
import { GalleryDocument } from "../generated/graphql.ts";
import { formatScore } from "../format.ts";
import { navigate, paths, withSearchParam } from "../router.ts";
import { Link } from "./Link.tsx";

const PAGE_SIZE = 24;

/**
 * Every image of a prompt, best CLIP score first, in a grid that loads the next page as its end
 * scrolls into view (and from a button, for the keyboard and for screens too tall to scroll).
 */
export function GalleryGrid({ prompt }: { prompt: string }) {
  const gallery = usePages(GalleryDocument, { prompt }, (result) => result.gallery, PAGE_SIZE);
  const end = useRef<HTMLDivElement>(null);
  const { loadMore, hasMore } = gallery;

  useEffect(() => {
    const sentinel = end.current;
    if (!sentinel || !hasMore) return;
    // Starts loading a screen before the end is reached.
    const observer = new IntersectionObserver((entries) => entries.some((entry) => entry.isIntersecting) && loadMore(), { rootMargin: "0px 0px 600px 0px" });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [loadMore, hasMore]);

  if (gallery.error && gallery.nodes.length === 0) return <p className="notice notice-error">{gallery.error.message}</p>;
  if (gallery.totalCount === 0) {
    return (
      <div className="panel empty-state">
        <h2>No images for this prompt yet</h2>
        <p className="muted">Prompts match whatever their case and spacing; try the search above for similar ones.</p>
        <Link className="button-primary" to={paths.create(prompt)}>
          Generate it
        </Link>
      </div>
    );
  }
  return (
    <>
      <div className="gallery-count">
        <p className="muted" aria-live="polite">
          {gallery.totalCount === undefined ? "Loading…" : `${gallery.totalCount} ${gallery.totalCount === 1 ? "image" : "images"}, best CLIP score first`}
        </p>
        <Link className="button-ghost button-small" to={paths.create(prompt)}>
          Generate more
        </Link>
      </div>
      <ul className="gallery" aria-label="Images">
        {gallery.nodes.map((image, index) => (
          <li key={image.id}>
            <button type="button" className="gallery-item" onClick={() => navigate(withSearchParam("image", image.id), { replace: true })} aria-label={`Image ${index + 1}: CLIP score ${formatScore(image.clipScore)}, seed ${image.seed}`}>
              <img src={image.thumbnailUrl} alt="" loading="lazy" width={image.width} height={image.height} />
              <span className="rank-badge">#{index + 1}</span>
              <span className="gallery-score">{formatScore(image.clipScore)}</span>
            </button>
          </li>
        ))}
      </ul>
      <div ref={end} className="gallery-end">
        {hasMore && (
          <button type="button" className="button-ghost" disabled={gallery.loading} onClick={loadMore}>
            {gallery.loading ? "Loading…" : "Load more"}
          </button>
        )}
      </div>
    </>
  );
}

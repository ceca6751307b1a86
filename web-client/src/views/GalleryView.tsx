import { useId } from "react";
import { useQuery } from "../api/use-query.ts";
import { GalleryGrid } from "../components/GalleryGrid.tsx";
import { ImageDialog } from "../components/ImageDialog.tsx";
import { Link } from "../components/Link.tsx";
import { PromptSearch } from "../components/PromptSearch.tsx";
import { RecentJobsDocument } from "../generated/graphql.ts";
import { navigate, paths, useLocation, withSearchParam } from "../router.ts";
import { useTitle } from "../use-title.ts";

/** /gallery?prompt=…: a prompt's images ranked; without a prompt, the search and recent prompts. */
export function GalleryView() {
  const { search } = useLocation();
  const prompt = search.get("prompt") ?? undefined;
  const openImage = search.get("image") ?? undefined;
  const title = useId();
  useTitle(prompt ? `Gallery: ${prompt}` : "Gallery");
  return (
    <div className="gallery-layout">
      <PromptSearch initial={prompt} />
      <section aria-labelledby={title}>
        {prompt ? (
          <>
            <h1 id={title} className="gallery-title">
              {prompt}
            </h1>
            <GalleryGrid key={prompt} prompt={prompt} />
          </>
        ) : (
          <>
            <h1 id={title}>Gallery</h1>
            <p className="muted">Search for a prompt to see every image made for it, best CLIP score first.</p>
            <RecentPrompts />
          </>
        )}
      </section>
      {openImage && <ImageDialog imageId={openImage} onClose={() => navigate(withSearchParam("image", undefined), { replace: true })} />}
    </div>
  );
}

/** The prompts of the latest jobs, as a start. */
function RecentPrompts() {
  const { data } = useQuery(RecentJobsDocument, { first: 30 });
  const prompts = [...new Set(data?.jobs.edges.map((edge) => edge.node.prompt.text))].slice(0, 12);
  if (prompts.length === 0) return null;
  return (
    <div className="recent-prompts">
      <h2>Recent prompts</h2>
      <ul className="prompt-chips">
        {prompts.map((text) => (
          <li key={text}>
            <Link to={paths.gallery(text)} className="prompt-chip">
              {text}
            </Link>
          </li>
        ))}
      </ul>
    </div>
  );
}

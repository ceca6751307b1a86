/**
 * A small router on the History API: the URL is the view's state (/jobs/<id>, /gallery?prompt=…),
 * so every view can be shared and reloaded; the server answers each client route with index.html.
 */
import { useSyncExternalStore } from "react";

const CHANGE = "atelier:navigate";

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

/** The current path and query string; re-renders when either changes. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, () => window.location.pathname + window.location.search);
  const url = new URL(href, window.location.origin);
  return { path: url.pathname, search: url.searchParams };
}

/**
 * Goes to a view. `replace` changes the current entry instead (a search parameter that only opens a
 * dialog should not make Back step through every image looked at).
 */
export function navigate(to: string, { replace = false } = {}): void {
  const samePath = new URL(to, window.location.origin).pathname === window.location.pathname;
  if (replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  // A new view starts at its top; the same view with another parameter keeps its place.
  if (!samePath) window.scrollTo(0, 0);
  window.dispatchEvent(new Event(CHANGE));
}

/** The current URL with one search parameter set (or removed, for undefined). */
export function withSearchParam(name: string, value: string | undefined): string {
  const url = new URL(window.location.href);
  if (value === undefined) url.searchParams.delete(name);
  else url.searchParams.set(name, value);
  return url.pathname + url.search;
}

/** Paths of the views, in one place. */
export const paths = {
  /** With a prompt, the Create form starts with it. */
  create: (prompt?: string) => (prompt === undefined ? "/" : `/?${new URLSearchParams({ prompt })}`),
  job: (id: string) => `/jobs/${encodeURIComponent(id)}`,
  jobs: () => "/jobs",
  gallery: (prompt?: string) => (prompt === undefined ? "/gallery" : `/gallery?${new URLSearchParams({ prompt })}`),
};

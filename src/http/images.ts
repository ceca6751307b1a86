/**
 * GET (and HEAD) /images/<key>: the bytes of a generated image, by its store key. The same URLs
 * serve both stores: for the S3 store the route proxies, reading the object through the store,
 * rather than redirecting to the bucket, so a private bucket works and clients never learn where
 * the bytes live.
 *
 * Keys are content-addressed (`<sha256 hex>.png|webp`), so what a URL names never changes: the
 * response may be cached for good, and the ETag needs no hashing (see below).
 */
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { isImageKey, type ImageStore } from "../storage/image-store.ts";
import type { Logger } from "../log.ts";

const CONTENT_TYPES = { png: "image/png", webp: "image/webp" } as const;

/** Mount under a prefix: `app.use("/images", imagesHandler(store))`. */
export function imagesHandler(store: ImageStore, logger?: Logger): RequestHandler {
  return async (request: Request, response: Response, next: NextFunction) => {
    if (request.method !== "GET" && request.method !== "HEAD") return next();

    // The raw path below the mount, not percent-decoded: a valid key is only [0-9a-f] and ".png" or
    // ".webp", so an escape (`%2e%2e%2f`…) or a "/" already makes it invalid, and the store is
    // never handed anything it would have to refuse.
    const key = request.path.slice(1);
    if (!isImageKey(key)) return notFound(response);

    let bytes: Buffer | undefined;
    try {
      bytes = await store.get(key);
    } catch (error) {
      // The store's message can name a bucket, an endpoint or a path: for the log, not the client.
      logger?.error("image store read failed", { key, store: store.description, error });
      return response.status(502).set("Cache-Control", "no-store").json({ error: "Image storage is unavailable" });
    }
    // Read before answering 304 too: a deleted image must be 404, and "*" matches only what exists.
    if (!bytes) return notFound(response);

    const [hex, extension] = key.split(".") as [string, keyof typeof CONTENT_TYPES];
    // The key's hex IS the SHA-256 of the bytes (contentKey), so it is a strong validator as is.
    response.set({
      ETag: `"${hex}"`,
      "Cache-Control": "public, max-age=31536000, immutable",
      "X-Content-Type-Options": "nosniff",
    });
    if (noneMatch(request.get("If-None-Match"), hex)) return response.status(304).end();

    response.status(200).set({ "Content-Type": CONTENT_TYPES[extension], "Content-Length": String(bytes.length) });
    response.end(request.method === "HEAD" ? undefined : bytes);
  };
}

function notFound(response: Response) {
  response.status(404).json({ error: "No such image" });
}

/**
 * Whether If-None-Match names this representation (RFC 9110 §13.1.2): "*", or any entity tag in
 * the list whose opaque tag equals ours by weak comparison (a `W/` prefix does not matter).
 */
function noneMatch(header: string | undefined, opaqueTag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  // Whole quoted tags, not the text between commas: a comma may appear inside an entity tag. A `W/`
  // stands outside the quotes, so weak comparison needs nothing more.
  for (const [, tag] of header.matchAll(/"([^"]*)"/g)) if (tag === opaqueTag) return true;
  return false;
}

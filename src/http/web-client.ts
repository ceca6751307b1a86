/**
 * The web client's built files (web-client/dist/, see web-client-build.ts) at /. Vite names every
 * file under /assets by a hash of its content, so those may be cached for good; index.html names
 * the current assets, so browsers revalidate it on every load (no-cache, with its ETag) and a new
 * build reaches them at once. Any other GET that names no file and none of the API's own routes is
 * a client route (/jobs/<id>, /gallery?prompt=…): it gets index.html, and the client's router
 * draws the view, so a shared or reloaded link works.
 */
import path from "node:path";
import express, { type NextFunction, type Request, type Response, type Router } from "express";

/** The server's own routes: a request for one of them is never a client route. */
const API_PATHS = ["/graphql", "/images", "/healthz"];

/** @param distDir a built client: index.html and assets/. */
export function webClientHandler(distDir: string): Router {
  const index = path.join(distDir, "index.html");
  const revalidate = { "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" };
  const router = express.Router();
  router.use(
    "/assets",
    express.static(path.join(distDir, "assets"), { index: false, redirect: false, immutable: true, maxAge: "1y", setHeaders: (response) => response.set("X-Content-Type-Options", "nosniff") }),
    // A hashed name that is not there is an old build's: index.html would only break the page.
    (_request: Request, response: Response) => void response.status(404).type("text/plain").send("Not found"),
  );
  router.use(express.static(distDir, { index: false, redirect: false, setHeaders: (response) => response.set(revalidate) }));
  router.use((request: Request, response: Response, next: NextFunction) => {
    if ((request.method !== "GET" && request.method !== "HEAD") || isApiPath(request.path) || path.extname(request.path) !== "") return next();
    response.sendFile(index, { headers: revalidate });
  });
  return router;
}

function isApiPath(requestPath: string): boolean {
  return API_PATHS.some((prefix) => requestPath === prefix || requestPath.startsWith(`${prefix}/`));
}

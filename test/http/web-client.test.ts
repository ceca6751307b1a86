/**
 * The web client's files over real HTTP, and its build on start. Serving: hashed assets cached for
 * good, index.html revalidated, client routes answered with index.html, the API's own paths and
 * missing assets not. Building: a client with no build, or whose sources changed since, is built
 * (by Vite, with a log line); a fresh one is not. Both on a small client of their own in a
 * temporary folder, so the checkout's web-client/ is not touched.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.ts";
import type { HealthChecks } from "../../src/http/health.ts";
import { listen, type HttpServer } from "../../src/http/server.ts";
import { ensureWebClient, sourceDigest } from "../../src/http/web-client-build.ts";
import { createLogger } from "../../src/log.ts";
import { makeTempDir } from "../support/temp-dir.ts";

const health: HealthChecks = { version: "test", isDatabaseReachable: async () => true, pendingMigrations: async () => [] };

/** A client Vite can build: a page and one module. */
async function writeClient(root: string, greeting: string): Promise<void> {
  await fs.mkdir(path.join(root, "src"), { recursive: true });
  await fs.writeFile(path.join(root, "index.html"), `<!doctype html><html><body><div id="root"></div><script type="module" src="/src/main.ts"></script></body></html>`);
  await fs.writeFile(path.join(root, "src/main.ts"), `document.getElementById("root")!.textContent = ${JSON.stringify(greeting)};\n`);
}

describe("building the web client on start", () => {
  let root: string;
  const lines: string[] = [];
  const log = createLogger("info", (line) => void lines.push(line));

  beforeAll(async () => {
    root = await makeTempDir("web-client-build");
    await writeClient(root, "hello");
  });

  it("builds a client that has no build yet, saying so", async () => {
    const dist = await ensureWebClient(log, root);
    expect(dist).toBe(path.join(root, "dist"));
    expect(lines.join("")).toMatch(/building the web client \(no build yet\)[\s\S]*built the web client in [\d.]+ s/);
    const assets = await fs.readdir(path.join(dist, "assets"));
    expect(assets.some((file) => /^index-[\w-]+\.js$/.test(file))).toBe(true);
    expect(await fs.readFile(path.join(dist, ".source-digest"), "utf8")).toBe(await sourceDigest(root));
    // Only dist/ is left: the build went to a folder of its own first.
    expect((await fs.readdir(root)).sort()).toEqual(["dist", "index.html", "src"]);
  });

  it("leaves a fresh build alone", async () => {
    lines.length = 0;
    const before = await fs.stat(path.join(root, "dist/index.html"));
    await ensureWebClient(log, root);
    expect(lines).toEqual([]);
    expect((await fs.stat(path.join(root, "dist/index.html"))).mtimeMs).toBe(before.mtimeMs);
  });

  it("builds again once a source changed", async () => {
    lines.length = 0;
    await writeClient(root, "hello again");
    const dist = await ensureWebClient(log, root);
    expect(lines.join("")).toContain("building the web client (web-client/ changed since its last build)");
    const [script] = (await fs.readdir(path.join(dist, "assets"))).filter((file) => file.endsWith(".js"));
    expect(await fs.readFile(path.join(dist, "assets", script!), "utf8")).toContain("hello again");
  });
});

describe("serving the web client", () => {
  let server: HttpServer;
  let asset: string;

  beforeAll(async () => {
    const dist = await makeTempDir("web-client-dist");
    await fs.mkdir(path.join(dist, "assets"));
    asset = "/assets/index-Abc123.js";
    await fs.writeFile(path.join(dist, asset), "console.log('client');");
    await fs.writeFile(path.join(dist, "index.html"), `<!doctype html><script type="module" src="${asset}"></script>`);
    await fs.writeFile(path.join(dist, "favicon.svg"), "<svg/>");
    const app = createApp({ health, webClient: dist });
    // Stands in for what startGraphQL mounts after the client.
    app.get("/graphql", (_request, response) => void response.json({ graphql: true }));
    server = await listen(app, "127.0.0.1", 0);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("serves hashed assets to be cached for good", async () => {
    const response = await fetch(`${server.url}${asset}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await response.text()).toBe("console.log('client');");
  });

  it("serves index.html at / and at every client route, revalidated on each load", async () => {
    for (const route of ["/", "/jobs/5b7f3c1e-0000-4000-8000-000000000000", "/gallery?prompt=a%20red%20fox", "/jobs"]) {
      const response = await fetch(`${server.url}${route}`);
      expect(response.status, route).toBe(200);
      expect(response.headers.get("content-type"), route).toMatch(/^text\/html/);
      expect(response.headers.get("cache-control"), route).toBe("no-cache");
      expect(await response.text(), route).toContain(asset);
    }
    const etag = (await fetch(server.url)).headers.get("etag")!;
    // As a browser revalidates (fetch on its own would add "cache-control: no-cache", which forbids a 304).
    expect((await fetch(server.url, { headers: { "if-none-match": etag, "cache-control": "max-age=0" } })).status).toBe(304);
  });

  it("leaves the API's paths to the API, and answers a missing asset with 404", async () => {
    expect(await (await fetch(`${server.url}/graphql`)).json()).toEqual({ graphql: true });
    expect((await fetch(`${server.url}/healthz`)).headers.get("content-type")).toMatch(/^application\/json/);
    const image = await fetch(`${server.url}/images/0000`);
    expect(image.status).toBe(404);
    expect(await image.text()).not.toContain(asset);
    expect((await fetch(`${server.url}/assets/index-Old999.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/robots.txt`)).status).toBe(404);
    expect((await fetch(`${server.url}/`, { method: "POST" })).status).toBe(404);
  });
});

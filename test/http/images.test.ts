/**
 * GET /images/<key> over real HTTP, on both image stores (files in a temporary folder, a bucket on
 * s3rver): the bytes and their headers, revalidation with If-None-Match, HEAD, keys that are not
 * there or not keys at all, a failing store, and no route when the app has no store.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/http/app.ts";
import type { HealthChecks } from "../../src/http/health.ts";
import { listen, type HttpServer } from "../../src/http/server.ts";
import { createLogger } from "../../src/log.ts";
import { createFileImageStore } from "../../src/storage/file-image-store.ts";
import { contentKey, type ImageStore } from "../../src/storage/image-store.ts";
import { createS3ImageStore } from "../../src/storage/s3-image-store.ts";
import { startS3Server, type TestS3Server } from "../support/s3-server.ts";
import { makeTempDir } from "../support/temp-dir.ts";

const health: HealthChecks = { version: "test", isDatabaseReachable: async () => true, pendingMigrations: async () => [] };

let s3: TestS3Server;
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3?.close();
});

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** Starts the app on a free port; everything opened is closed after the suite. */
function serving(open: () => Promise<{ store?: ImageStore; logger?: ReturnType<typeof createLogger> }>) {
  const state: { url: string } = { url: "" };
  let server: HttpServer | undefined;
  let store: ImageStore | undefined;
  beforeAll(async () => {
    const opened = await open();
    store = opened.store;
    server = await listen(createApp({ health, images: store, logger: opened.logger }), "127.0.0.1", 0);
    state.url = server.url;
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
  });
  return state;
}

/**
 * A GET with the path sent exactly as written. fetch (like a browser) resolves "." and ".." segments,
 * `%2e%2e` ones included, before sending, so a traversal attempt would never reach the server.
 */
function rawGet(url: string, rawPath: string): Promise<{ status: number; contentType: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    http
      .get({ hostname, port, path: rawPath }, (response) => {
        let body = "";
        response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode!, contentType: response.headers["content-type"], body }));
      })
      .on("error", reject);
  });
}

let s3Prefixes = 0;
const stores: [string, () => Promise<ImageStore>][] = [
  ["file", async () => createFileImageStore(await makeTempDir("images"))],
  ["S3", async () => createS3ImageStore({ ...s3.options, prefix: `images-${++s3Prefixes}/` })],
];

describe.each(stores)("GET /images/<key> from the %s store", (_kind, openStore) => {
  const png = Buffer.concat([Buffer.from("\x89PNG\r\n\x1a\n", "latin1"), randomBytes(5_000)]);
  const webp = Buffer.concat([Buffer.from("RIFF....WEBPVP8 ", "latin1"), randomBytes(3_000)]);
  const pngKey = contentKey(sha256(png), "png");
  const webpKey = contentKey(sha256(webp), "webp");
  const pngTag = `"${sha256(png)}"`;
  // Keys the route handed to the store: none may come from an invalid key.
  const gets: string[] = [];

  const server = serving(async () => {
    const store = await openStore();
    await store.put(pngKey, png, "image/png");
    await store.put(webpKey, webp, "image/webp");
    return { store: { ...store, get: (key: string) => (gets.push(key), store.get(key)) } };
  });
  const image = (key: string, init?: RequestInit) => fetch(`${server.url}/images/${key}`, init);

  it("serves the PNG's bytes with its content type, length, ETag and cache headers", async () => {
    const response = await image(pngKey);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(png);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(response.headers.get("content-length")).toBe(String(png.length));
    expect(response.headers.get("etag")).toBe(`"${createHash("sha256").update(png).digest("hex")}"`);
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("serves a WebP as image/webp", async () => {
    const response = await image(webpKey);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/webp");
    expect(response.headers.get("etag")).toBe(`"${sha256(webp)}"`);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(webp);
  });

  it.each([
    ["the ETag", () => pngTag],
    ["the weak form", () => `W/${pngTag}`],
    ["a list holding it", () => `"other", ${pngTag}`],
    ["a list holding its weak form, without spaces", () => `W/"other",W/${pngTag}`],
    ["*", () => "*"],
  ])("answers 304 with no body to If-None-Match: %s", async (_form, header) => {
    const response = await image(pngKey, { headers: { "If-None-Match": header() } });
    expect(response.status).toBe(304);
    expect(await response.text()).toBe("");
    expect(response.headers.get("etag")).toBe(pngTag);
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  it.each([`"other"`, `W/"other", "${sha256(webp)}"`, pngTag.toUpperCase(), sha256(png)])(
    "serves the bytes to the non-matching If-None-Match %s",
    async (header) => {
      const response = await image(pngKey, { headers: { "If-None-Match": header } });
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer())).toEqual(png);
    },
  );

  it("answers HEAD with the headers and no body", async () => {
    const response = await image(webpKey, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/webp");
    expect(response.headers.get("content-length")).toBe(String(webp.length));
    expect(response.headers.get("etag")).toBe(`"${sha256(webp)}"`);
    expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await response.text()).toBe("");
  });

  it("answers 404 for a valid key with no image, also to If-None-Match: *", async () => {
    const missing = contentKey(sha256(Buffer.from("never put")), "png");
    for (const headers of [{}, { "If-None-Match": "*" }] as Record<string, string>[]) {
      const response = await image(missing, { headers });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: expect.any(String) });
    }
  });

  it.each([
    ["an encoded traversal", "..%2F..%2Fetc%2Fpasswd"],
    ["an encoded traversal, dots encoded too", "%2e%2e%2f%2e%2e%2fetc%2fpasswd"],
    ["encoded dot segments", "%2e%2e/%2e%2e/etc/passwd"],
    ["a traversal ending in a key", `..%2f..%2f${pngKey}`],
    ["an encoded backslash traversal", "%2E%2E%5C%2E%2E%5Cetc%5Cpasswd"],
    ["a key with a folder, as on disk", `${pngKey.slice(0, 2)}/${pngKey}`],
    ["a key with a trailing slash", `${pngKey}/`],
    ["a key in uppercase", pngKey.toUpperCase()],
    ["uppercase hex", `${sha256(png).toUpperCase()}.png`],
    ["another extension", pngKey.replace(".png", ".jpg")],
    ["an uppercase extension", pngKey.replace(".png", ".PNG")],
    ["no extension", sha256(png)],
    ["63 hex digits", `${sha256(png).slice(1)}.png`],
    ["a key and a NUL", `${pngKey}%00`],
    // The path is not decoded, so an escaped character makes even a stored key not a key.
    ["a stored key with an escaped digit", `%${pngKey.charCodeAt(0).toString(16)}${pngKey.slice(1)}`],
    ["a malformed escape", "%zz.png"],
    ["nothing", ""],
  ])("answers 404 in JSON to %s, without asking the store", async (_name, key) => {
    gets.length = 0;
    const response = await rawGet(server.url, `/images/${key}`);
    expect(response.status).toBe(404);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toEqual({ error: expect.any(String) });
    expect(gets).toEqual([]);
  });

  it("answers 404 in JSON to an invalid key sent with fetch too", async () => {
    const response = await image("..%2F..%2Fetc%2Fpasswd");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: expect.any(String) });
  });
});

describe.each([
  ["file", async () => {
    // A file where the root folder should be: every read fails with ENOTDIR, not "not found".
    const root = path.join(await makeTempDir("images"), "not-a-folder");
    await fs.writeFile(root, "");
    return createFileImageStore(root);
  }],
  ["S3", async () => createS3ImageStore({ ...s3.options, bucket: "no-such-bucket" })],
] as [string, () => Promise<ImageStore>][])("GET /images/<key> from a failing %s store", (_kind, openStore) => {
  const lines: string[] = [];
  let description = "";
  const server = serving(async () => {
    const store = await openStore();
    description = store.description;
    return { store, logger: createLogger("debug", (line) => lines.push(line)) };
  });

  it("answers 502 with an error that names nothing inside, and logs what failed", async () => {
    const key = contentKey(sha256(Buffer.from("any")), "png");
    const response = await fetch(`${server.url}/images/${key}`);
    expect(response.status).toBe(502);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({ error: "Image storage is unavailable" });
    expect(body).not.toMatch(/bucket|ENOTDIR|not-a-folder|127\.0\.0\.1/i);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("image store read failed");
    expect(lines[0]).toContain(key);
    expect(lines[0]).toContain(JSON.stringify(description).slice(1, -1));
  });
});

describe("an app without an image store", () => {
  const server = serving(async () => ({}));

  it("has no /images route: Express's own 404", async () => {
    const response = await fetch(`${server.url}/images/${contentKey(sha256(Buffer.from("any")), "png")}`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await response.text()).toContain("Cannot GET /images/");
  });
});

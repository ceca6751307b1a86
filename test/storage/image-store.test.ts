/**
 * Both image stores against the ImageStore contract: one suite, run on files in a temporary folder
 * and on a real S3 API (s3rver, a local S3 server on its own port), then what only one store has:
 * the folder layout on disk, and paging and the key prefix in a bucket. Last, that the ATELIER_S3_*
 * settings open the store they describe.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import path from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createFileImageStore } from "../../src/storage/file-image-store.ts";
import { contentKey, type ImageStore } from "../../src/storage/image-store.ts";
import { openImageStore } from "../../src/storage/open-image-store.ts";
import { createS3ImageStore, type S3StoreOptions } from "../../src/storage/s3-image-store.ts";
import { startS3Server, type TestS3Server } from "../support/s3-server.ts";
import { makeTempDir } from "../support/temp-dir.ts";

let s3: TestS3Server;
let s3server: TestS3Server["server"];
let s3Options: S3StoreOptions;
let BUCKET: string;

beforeAll(async () => {
  s3 = await startS3Server();
  ({ server: s3server, options: s3Options, bucket: BUCKET } = s3);
});

afterAll(async () => {
  await s3?.close();
});

const openStores: ImageStore[] = [];
afterEach(async () => {
  await Promise.all(openStores.splice(0).map((store) => store.close()));
});

function opened(store: ImageStore): ImageStore {
  openStores.push(store);
  return store;
}

/** A key as Atelier makes them, a different one for each seed. */
function keyFor(seed: string, extension: "png" | "webp" = "png"): string {
  return contentKey(createHash("sha256").update(seed).digest("hex"), extension);
}

async function listKeys(store: ImageStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.keys()) keys.push(key);
  return keys.sort();
}

let s3Tests = 0;
const emptyStores: [string, () => Promise<ImageStore>][] = [
  ["file", async () => createFileImageStore(await makeTempDir("images"))],
  // The tests share one bucket; a prefix of its own keeps each test's objects apart.
  ["S3", async () => createS3ImageStore({ ...s3Options, prefix: `test-${++s3Tests}/` })],
];

describe.each(emptyStores)("the %s image store", (_kind, openEmpty) => {
  let store: ImageStore;
  beforeEach(async () => {
    store = opened(await openEmpty());
  });

  it("gives back the bytes that were put", async () => {
    const bytes = randomBytes(10_000);
    await store.put(keyFor("a"), bytes, "image/png");
    const read = await store.get(keyFor("a"));
    expect(Buffer.isBuffer(read)).toBe(true);
    expect(read).toEqual(bytes);
  });

  it("replaces the object under a key put again", async () => {
    await store.put(keyFor("a", "webp"), Buffer.from("first"), "image/webp");
    await store.put(keyFor("a", "webp"), Buffer.from("second"), "image/webp");
    expect((await store.get(keyFor("a", "webp")))?.toString()).toBe("second");
  });

  it("has nothing under a key never put", async () => {
    expect(await store.get(keyFor("never put"))).toBeUndefined();
  });

  it("deletes one object and keeps the others", async () => {
    await store.put(keyFor("a"), Buffer.from("a"), "image/png");
    await store.put(keyFor("b"), Buffer.from("b"), "image/png");
    await store.delete(keyFor("a"));
    expect(await store.get(keyFor("a"))).toBeUndefined();
    expect((await store.get(keyFor("b")))?.toString()).toBe("b");
  });

  it("deletes a key with no object without an error", async () => {
    await expect(store.delete(keyFor("never put"))).resolves.toBeUndefined();
  });

  it("lists exactly the keys put, across fan-out folders", async () => {
    const keys = ["a", "b", "c", "d", "e", "f"].map((seed, i) => keyFor(seed, i % 2 === 0 ? "png" : "webp"));
    expect(new Set(keys.map((key) => key.slice(0, 2))).size).toBeGreaterThan(1);
    expect(await listKeys(store)).toEqual([]);
    for (const key of keys) await store.put(key, Buffer.from(key), "image/png");
    expect(await listKeys(store)).toEqual([...keys].sort());
  });

  it.each([
    "../../etc/passwd",
    `${keyFor("a").slice(0, 2)}/../../${keyFor("a")}`,
    keyFor("a").toUpperCase(),
    keyFor("a").replace(".png", ".jpg"),
    "",
  ])("refuses the key %j", async (badKey) => {
    const allowed = /Invalid image key .*: must be 64 lowercase hex digits \(a SHA-256\) and \.png or \.webp/;
    await expect(store.put(badKey, Buffer.from("x"), "image/png")).rejects.toThrow(allowed);
    await expect(store.get(badKey)).rejects.toThrow(allowed);
    await expect(store.delete(badKey)).rejects.toThrow(allowed);
  });

  it("can be closed twice", async () => {
    await store.close();
    await store.close();
  });
});

describe("the file image store on disk", () => {
  it("keeps an object at <root>/<first two characters>/<key>", async () => {
    const root = await makeTempDir("images");
    const store = opened(createFileImageStore(root));
    expect(store.description).toBe(`files under ${root}`);
    await store.put(keyFor("a"), Buffer.from("bytes"), "image/png");
    expect(await fs.readFile(path.join(root, keyFor("a").slice(0, 2), keyFor("a")), "utf8")).toBe("bytes");
  });

  it("lists no leftover temporary file or stray file", async () => {
    const root = await makeTempDir("images");
    const store = opened(createFileImageStore(root));
    await store.put(keyFor("a"), Buffer.from("bytes"), "image/png");
    const folder = path.join(root, keyFor("a").slice(0, 2));
    await fs.writeFile(path.join(folder, `${keyFor("b")}.0b7e-crashed.tmp`), "half");
    await fs.writeFile(path.join(root, "README"), "not an image");
    await fs.writeFile(path.join(folder, keyFor("not in this folder")), "misplaced");
    expect(await listKeys(store)).toEqual([keyFor("a")]);
  });

  it("lists nothing before the root folder exists", async () => {
    const store = opened(createFileImageStore(path.join(await makeTempDir("images"), "not yet made")));
    expect(await listKeys(store)).toEqual([]);
  });
});

describe("the S3 image store in a bucket", () => {
  it("pages through more keys than one listing returns", async () => {
    const store = opened(createS3ImageStore({ ...s3Options, prefix: "paged/", pageSize: 2 }));
    const keys = ["a", "b", "c", "d", "e"].map((seed) => keyFor(seed));
    for (const key of keys) await store.put(key, Buffer.from(key), "image/png");

    let listings = 0;
    const countListings = (request: IncomingMessage) => {
      if (request.url?.includes("list-type=2")) listings++;
    };
    s3server.httpServer.on("request", countListings);
    try {
      expect(await listKeys(store)).toEqual([...keys].sort());
    } finally {
      s3server.httpServer.off("request", countListings);
    }
    expect(listings).toBe(3);
  });

  it("fails, not finds nothing, when the bucket does not exist", async () => {
    const store = opened(createS3ImageStore({ ...s3Options, bucket: "no-such-bucket" }));
    await expect(store.get(keyFor("a"))).rejects.toThrow(/bucket does not exist/);
  });

  it("puts the prefix before every object name and strips it from the keys it lists", async () => {
    const prefixed = opened(createS3ImageStore({ ...s3Options, prefix: "atelier/" }));
    const unprefixed = opened(createS3ImageStore(s3Options));
    expect(prefixed.description).toBe(`s3://${BUCKET}/atelier/ at ${s3Options.endpoint}`);
    await prefixed.put(keyFor("inside"), Buffer.from("inside"), "image/png");
    await unprefixed.put(keyFor("outside"), Buffer.from("outside"), "image/png");

    const { region, endpoint, forcePathStyle, credentials } = s3Options;
    const client = new S3Client({ region, endpoint, forcePathStyle, credentials });
    try {
      const listing = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "atelier/" }));
      expect(listing.Contents?.map((object) => object.Key)).toEqual([`atelier/${keyFor("inside")}`]);
    } finally {
      client.destroy();
    }
    expect(await listKeys(prefixed)).toEqual([keyFor("inside")]);
    expect(await prefixed.get(keyFor("outside"))).toBeUndefined();
    // Objects under other prefixes (these tests' own) are not keys of the bucket's top level.
    expect(await listKeys(unprefixed)).toEqual([keyFor("outside")]);
  });
});

describe("the image store the configuration names", () => {
  it("is files under <data dir>/images without ATELIER_S3_BUCKET", async () => {
    const dataDir = await makeTempDir("data");
    const config = loadConfig({ ATELIER_DATA_DIR: dataDir });
    expect(config.storage).toEqual({ kind: "files", dir: path.join(dataDir, "images") });
    expect(opened(openImageStore(config.storage)).description).toBe(`files under ${path.join(dataDir, "images")}`);
  });

  it("is the bucket ATELIER_S3_* describe", async () => {
    const config = loadConfig({
      ATELIER_S3_BUCKET: BUCKET,
      ATELIER_S3_PREFIX: "configured/",
      ATELIER_S3_ENDPOINT: s3Options.endpoint,
      ATELIER_S3_FORCE_PATH_STYLE: "true",
      ATELIER_S3_ACCESS_KEY_ID: "S3RVER",
      ATELIER_S3_SECRET_ACCESS_KEY: "S3RVER",
    });
    const store = opened(openImageStore(config.storage));
    await store.put(keyFor("configured"), Buffer.from("configured"), "image/png");
    expect((await opened(createS3ImageStore({ ...s3Options, prefix: "configured/" })).get(keyFor("configured")))?.toString()).toBe("configured");
  });

  it("refuses one S3 key without the other", () => {
    expect(() => loadConfig({ ATELIER_S3_BUCKET: BUCKET, ATELIER_S3_ACCESS_KEY_ID: "S3RVER" })).toThrowError(
      /ATELIER_S3_ACCESS_KEY_ID and ATELIER_S3_SECRET_ACCESS_KEY must be set together/,
    );
  });

  it("names the bad S3 values and what is allowed", () => {
    expect(() => loadConfig({ ATELIER_S3_BUCKET: "s3://images" })).toThrowError(/ATELIER_S3_BUCKET="s3:\/\/images": must be a bucket name/);
    expect(() => loadConfig({ ATELIER_S3_ENDPOINT: "minio:9000" })).toThrowError(/ATELIER_S3_ENDPOINT="minio:9000": must be an http\(s\) URL/);
    expect(() => loadConfig({ ATELIER_S3_FORCE_PATH_STYLE: "yes" })).toThrowError(/ATELIER_S3_FORCE_PATH_STYLE="yes": must be true or false/);
    expect(() => loadConfig({ ATELIER_S3_PREFIX: "/atelier/" })).toThrowError(/ATELIER_S3_PREFIX="\/atelier\/": must be a key prefix/);
  });
});

/**
 * Where image bytes live. Rows in PostgreSQL keep an object's key; the bytes go to a store behind
 * this one small interface: files under `<data dir>/images` (a shared volume serves several
 * machines) or an S3-compatible bucket. Keys are content-addressed (`<sha256 hex>.png`,
 * `<sha256 hex>.webp`), so writing a key twice writes the same bytes and a retried job that stores
 * a sample again changes nothing.
 */
export interface ImageStore {
  /** One line for logs, e.g. "files under /srv/atelier/images" or "s3://bucket/prefix at http://…". */
  readonly description: string;
  /** Writes the object; an existing object under the key is replaced (it holds the same bytes). */
  put(key: string, bytes: Buffer, contentType: string): Promise<void>;
  /** The object's bytes, or undefined when there is none under the key. */
  get(key: string): Promise<Buffer | undefined>;
  /** Removes the object; a key with no object is not an error. */
  delete(key: string): Promise<void>;
  /** Every key in the store (for consistency checks: no object without a row). */
  keys(): AsyncIterable<string>;
  /** Releases connections. Safe to call twice. */
  close(): Promise<void>;
}

/** The key of an object with these bytes: its SHA-256 in hex and the format's extension. */
export function contentKey(sha256Hex: string, extension: "png" | "webp"): string {
  return `${sha256Hex}.${extension}`;
}

const IMAGE_KEY = /^[0-9a-f]{64}\.(png|webp)$/;

/** Whether `key` has the form `contentKey` gives; anything else in a store's space is not ours. */
export function isImageKey(key: string): boolean {
  return IMAGE_KEY.test(key);
}

/**
 * Throws unless `key` has the form `contentKey` gives. Stores call it on every key they are handed:
 * a key becomes a file path or an object name, and one like `../../etc/passwd` must reach neither.
 */
export function assertImageKey(key: string): void {
  if (!isImageKey(key)) {
    throw new Error(`Invalid image key ${JSON.stringify(key)}: must be 64 lowercase hex digits (a SHA-256) and .png or .webp`);
  }
}

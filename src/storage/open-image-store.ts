/**
 * Opens the image store the configuration names (ATELIER_S3_BUCKET set: a bucket; else files under
 * the data directory), so the rest of Atelier sees only the ImageStore interface.
 */
import { createFileImageStore } from "./file-image-store.ts";
import type { ImageStore } from "./image-store.ts";
import { createS3ImageStore, type S3StoreOptions } from "./s3-image-store.ts";

export type StorageConfig = { kind: "files"; dir: string } | ({ kind: "s3" } & S3StoreOptions);

export function openImageStore(config: StorageConfig): ImageStore {
  return config.kind === "files" ? createFileImageStore(config.dir) : createS3ImageStore(config);
}

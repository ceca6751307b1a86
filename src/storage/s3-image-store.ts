/**
 * The image store in an S3 bucket: AWS itself or an S3-compatible server (MinIO, Cloudflare R2,
 * Ceph, s3rver in the tests), so that machines which share no volume share their images.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  paginateListObjectsV2,
} from "@aws-sdk/client-s3";
import { assertImageKey, isImageKey, type ImageStore } from "./image-store.ts";

export interface S3StoreOptions {
  /** The bucket; it must exist already (the store does not create it). */
  bucket: string;
  /**
   * Put before every key, e.g. "atelier/", so the bucket can hold other things too. Used as given:
   * without a trailing slash, keys run on from it ("atelier" + key).
   */
  prefix?: string | undefined;
  /** URL of an S3-compatible server, e.g. "http://minio:9000"; unset: AWS S3 in `region`. */
  endpoint?: string | undefined;
  /** The bucket's region; S3-compatible servers mostly accept any ("us-east-1"; R2 wants "auto"). */
  region: string;
  /**
   * Address the bucket as `<endpoint>/<bucket>/<key>` instead of `<bucket>.<endpoint>/<key>`: MinIO
   * and s3rver need it, as a bucket name does not resolve as a host name there.
   */
  forcePathStyle?: boolean | undefined;
  /** A fixed key pair; unset: the AWS SDK's default chain (environment, ~/.aws, instance role…). */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Most keys one ListObjectsV2 request returns; unset: S3's 1000. For tests, which page through a few. */
  pageSize?: number | undefined;
}

export function createS3ImageStore(options: S3StoreOptions): ImageStore {
  const { bucket, prefix = "" } = options;
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    credentials: options.credentials,
    // Since 3.729 the SDK adds CRC32 checksum headers to every upload and checks them on downloads.
    // Some S3-compatible servers reject such headers (R2 answered 501 NotImplemented at first:
    // aws/aws-sdk-js-v3#6810), so checksums go only where an operation requires one. An upload of a
    // Buffer stays covered by the payload SHA-256 that SigV4 signs.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const objectName = (key: string) => {
    assertImageKey(key);
    return prefix + key;
  };

  return {
    description: `s3://${bucket}/${prefix} at ${options.endpoint ?? `AWS ${options.region}`}`,

    async put(key, bytes, contentType) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: objectName(key), Body: bytes, ContentType: contentType }));
    },

    async get(key) {
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectName(key) }));
        const bytes = await response.Body!.transformToByteArray();
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (error) {
        if (error instanceof NoSuchKey) return undefined;
        // Some S3-compatible servers answer a bare 404 without the NoSuchKey code; a missing bucket
        // is a broken configuration, not a missing image.
        if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404 && error.name !== "NoSuchBucket") {
          return undefined;
        }
        throw error;
      }
    },

    async delete(key) {
      // S3 answers 204 for a key with no object too.
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectName(key) }));
    },

    async *keys() {
      const pages = paginateListObjectsV2({ client, pageSize: options.pageSize }, { Bucket: bucket, Prefix: prefix });
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          const key = object.Key?.slice(prefix.length);
          if (key !== undefined && isImageKey(key)) yield key;
        }
      }
    },

    async close() {
      client.destroy();
    },
  };
}

/**
 * A real local S3 server (s3rver) on its own port, with one bucket, for the S3 image store's tests:
 * `options` opens a store on it directly, `settings` are the ATELIER_S3_* variables that do the same.
 */
import crypto from "node:crypto";
import S3rver from "s3rver";
import type { S3StoreOptions } from "../../src/storage/s3-image-store.ts";
import { freePort } from "./free-port.ts";
import { makeTempDir } from "./temp-dir.ts";

// s3rver 3.7 encrypts its ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node 17
// on) leaves out unless Node runs with --openssl-legacy-provider: every truncated listing fails with
// InternalError (jamhall/s3rver#818). Triple DES with the key three times over is the same cipher
// (same bytes out) and is still in OpenSSL's default provider. Only s3rver asks for "des" here.
const { createCipheriv, createDecipheriv } = crypto;
type CipherArguments = Parameters<typeof createCipheriv>;
function desAsTripleDes([algorithm, key, ...rest]: CipherArguments): CipherArguments {
  return algorithm === "des" ? ["des-ede3-cbc", Buffer.concat([key, key, key] as Buffer[]), ...rest] : [algorithm, key, ...rest];
}
Object.assign(crypto, {
  createCipheriv: (...args: CipherArguments) => createCipheriv(...desAsTripleDes(args)),
  createDecipheriv: (...args: CipherArguments) => createDecipheriv(...desAsTripleDes(args)),
});

export interface TestS3Server {
  readonly server: S3rver;
  readonly bucket: string;
  readonly options: S3StoreOptions;
  readonly settings: Record<string, string>;
  close(): Promise<void>;
}

export async function startS3Server(bucket = "atelier-test"): Promise<TestS3Server> {
  const port = await freePort();
  const server = new S3rver({ address: "127.0.0.1", port, directory: await makeTempDir("s3rver"), silent: true, configureBuckets: [{ name: bucket }] });
  await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
  return {
    server,
    bucket,
    options: { bucket, endpoint, region: "us-east-1", forcePathStyle: true, credentials },
    settings: {
      ATELIER_S3_BUCKET: bucket,
      ATELIER_S3_ENDPOINT: endpoint,
      ATELIER_S3_FORCE_PATH_STYLE: "true",
      ATELIER_S3_ACCESS_KEY_ID: credentials.accessKeyId,
      ATELIER_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
    close: () => server.close(),
  };
}

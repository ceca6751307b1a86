/** The little of s3rver (a local S3 server, test/storage) that the tests use; the package ships no types. */
declare module "s3rver" {
  import type { Server } from "node:http";
  import type { AddressInfo } from "node:net";

  interface S3rverOptions {
    address?: string;
    port?: number;
    /** Where buckets and objects are kept on disk. */
    directory?: string;
    silent?: boolean;
    /** Buckets created at `run()`. */
    configureBuckets?: { name: string }[];
  }

  class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    /** The HTTP server `run()` started. */
    httpServer: Server;
  }

  export = S3rver;
}

/**
 * Atelier's configuration: every environment variable the platform reads is declared once in
 * `ENVIRONMENT` below, with its meaning, default and rule. `loadConfig` validates them all at start
 * and fails with one message naming each bad variable, its value and what is allowed. The README's
 * configuration table lists the same variables (a test keeps the two in step).
 */
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { UserFacingError } from "./errors.ts";
import type { JobLimits } from "./jobs/job-limits.ts";
import type { StorageConfig } from "./storage/open-image-store.ts";

/** One environment variable: what it means, its default, and the rule its value must follow. */
interface VariableSpec<T> {
  /** What the variable controls, for the README table and `--help`. */
  description: string;
  /** The default as a user would write it, or undefined when unset means "not used". */
  default: string | undefined;
  /** Parses the raw string; its error message says what is allowed. */
  schema: z.ZodType<T>;
}

const port = z.coerce
  .number({ message: "must be a whole number" })
  .int("must be a whole number")
  .min(1, "must be a TCP port 1-65535")
  .max(65535, "must be a TCP port 1-65535");

/** A whole number in min..max; the message says so. */
function wholeNumber(min: number, max: number) {
  const allowed = `must be a whole number between ${min} and ${max}`;
  return z.coerce.number({ message: allowed }).int(allowed).min(min, allowed).max(max, allowed);
}

/** A positive decimal number up to max. */
function positiveNumber(max: number) {
  const allowed = `must be a number above 0 and at most ${max}`;
  return z.coerce.number({ message: allowed }).gt(0, allowed).max(max, allowed);
}

const onOff = z.enum(["0", "1"], { message: "must be 0 (off) or 1 (on)" }).transform((value) => value === "1");

const postgresUrl = z
  .string()
  .refine((value) => /^postgres(ql)?:\/\/[^/]+/.test(value), "must be a postgresql:// or postgres:// URL");

/**
 * Keys separated by commas; blanks around them are dropped. Checked in accessConfig, whose message,
 * unlike a schema's, does not repeat the value: the keys are secrets.
 */
const apiKeys = z.string().transform((value) => value.split(",").map((key) => key.trim()).filter((key) => key !== ""));

export const ENVIRONMENT = {
  DATABASE_URL: {
    description:
      "PostgreSQL connection URL for production. When unset, Atelier starts an embedded PostgreSQL under the data directory.",
    default: undefined,
    schema: postgresUrl.optional(),
  },
  ATELIER_DATA_DIR: {
    description: "Where Atelier keeps its files: the embedded PostgreSQL cluster, images, generated demo models.",
    default: "./.atelier",
    schema: z.string().min(1, "must be a directory path"),
  },
  ATELIER_EMBEDDED_PG_PORT: {
    description: "TCP port of the embedded PostgreSQL on 127.0.0.1 (only used when DATABASE_URL is unset).",
    default: "54329",
    schema: port,
  },
  HOST: {
    description: "Interface the HTTP server listens on. Use 0.0.0.0 to accept connections from other machines.",
    default: "127.0.0.1",
    schema: z.string().min(1, "must be a host name or IP address"),
  },
  PORT: {
    description: "HTTP port of `atelier serve` (GraphQL, images, web client, /healthz).",
    default: "4000",
    schema: port,
  },
  ATELIER_PUBLIC_URL: {
    description:
      "The API's public base URL (e.g. https://atelier.example.com behind a proxy): image URLs in GraphQL answers start with it. When unset, they are relative (/images/<key>).",
    default: undefined,
    schema: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).optional(),
  },
  ATELIER_API_KEYS: {
    description:
      "API keys, comma-separated, each of 16 or more visible characters: when set, mutations and subscriptions need `Authorization: Bearer <key>` (over WebSocket, `authorization` in the connection_init payload). When unset, the API is open to anyone who can reach it.",
    default: undefined,
    schema: apiKeys.optional(),
  },
  ATELIER_PRIVATE: {
    description: "1 makes queries need an API key too (ATELIER_API_KEYS must be set); 0 leaves queries open to anyone.",
    default: "0",
    schema: onOff,
  },
  NODE_ENV: {
    description: "development shows internal errors' messages and stack traces in GraphQL answers; any other value hides them.",
    default: undefined,
    schema: z.string().optional(),
  },
  ATELIER_SD_MODEL: {
    description:
      "The Stable Diffusion model: a folder in optimum's ONNX layout, a Hugging Face repo id fetched with `atelier models pull`, or a generated demo model (demo-sd-tiny, demo-sd-small).",
    default: "demo-sd-tiny",
    schema: z.string().min(1, "must name a model folder, a Hugging Face repo id or a demo model"),
  },
  ATELIER_CLIP_MODEL: {
    description:
      "The CLIP model that scores and ranks images: a folder in the transformers.js layout, a Hugging Face repo id fetched with `atelier models pull`, or a demo model (demo-clip-tiny, demo-clip-small).",
    default: "demo-clip-tiny",
    schema: z.string().min(1, "must name a model folder, a Hugging Face repo id or a demo model"),
  },
  ATELIER_EXECUTION_PROVIDERS: {
    description:
      "onnxruntime execution providers to try in order, comma-separated: cpu, cuda (after `npm run setup:cuda`), webgpu.",
    default: "cpu",
    schema: z
      .string()
      .transform((value) => value.split(",").map((part) => part.trim()))
      .pipe(z.array(z.enum(["cpu", "cuda", "webgpu"], { message: "must be a comma-separated list of cpu, cuda, webgpu" })).min(1)),
  },
  ATELIER_INTRA_OP_THREADS: {
    description: "Threads onnxruntime uses inside one operator; 0 lets onnxruntime choose (one per core).",
    default: "0",
    schema: z.coerce.number().int("must be a whole number").min(0, "must be 0 or more"),
  },
  ATELIER_BATCH_SIZE: {
    description:
      "Most samples denoised together in one UNet run (classifier-free guidance doubles the UNet batch). On the CPU a batch needs beyond the weights (4.0 GiB) about 1.5 GiB for SD 1.5 at 512×512 with guidance, and 0.4 GiB more per further sample; a batch that would not fit in free memory is split.",
    default: "1",
    schema: z.coerce.number().int("must be a whole number").min(1, "must be between 1 and 64").max(64, "must be between 1 and 64"),
  },
  ATELIER_S3_BUCKET: {
    description:
      "S3 bucket (AWS or an S3-compatible server) that holds the images. When unset, images are files under <data dir>/images.",
    default: undefined,
    schema: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be a bucket name: 3-63 lowercase letters, digits, dots and hyphens")
      .optional(),
  },
  ATELIER_S3_PREFIX: {
    description: "Put before every image's key in the bucket, e.g. atelier/ to share the bucket with other things.",
    default: undefined,
    schema: z
      .string()
      .refine((value) => !value.startsWith("/"), "must be a key prefix such as atelier/, without a leading slash")
      .optional(),
  },
  ATELIER_S3_ENDPOINT: {
    description: "URL of an S3-compatible server (MinIO, R2, Ceph…). When unset, AWS S3 in ATELIER_S3_REGION.",
    default: undefined,
    schema: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).optional(),
  },
  ATELIER_S3_REGION: {
    description: "Region of the bucket (R2 wants auto; most other S3-compatible servers take any).",
    default: "us-east-1",
    schema: z.string().regex(/^[a-z0-9-]+$/, "must be a region name such as us-east-1 or auto"),
  },
  ATELIER_S3_FORCE_PATH_STYLE: {
    description:
      "true addresses the bucket as <endpoint>/<bucket> instead of <bucket>.<endpoint>, as MinIO and s3rver need.",
    default: "false",
    schema: z.enum(["true", "false"], { message: "must be true or false" }).transform((value) => value === "true"),
  },
  ATELIER_S3_ACCESS_KEY_ID: {
    description:
      "Access key id for the bucket, set together with ATELIER_S3_SECRET_ACCESS_KEY. When unset, the AWS SDK's default credential chain (AWS_* variables, ~/.aws, instance role).",
    default: undefined,
    schema: z.string().optional(),
  },
  ATELIER_S3_SECRET_ACCESS_KEY: {
    description: "Secret access key for the bucket, set together with ATELIER_S3_ACCESS_KEY_ID.",
    default: undefined,
    schema: z.string().optional(),
  },
  ATELIER_EMBEDDED_WORKER: {
    description: "1 makes `atelier serve` run a worker as a child process it supervises, so one command is a whole platform; 0 leaves jobs to `atelier worker` processes.",
    default: "1",
    schema: onOff,
  },
  ATELIER_WORKER_CONCURRENCY: {
    description: "Jobs one worker runs at the same time (each uses the model's memory for activations).",
    default: "1",
    schema: wholeNumber(1, 16),
  },
  ATELIER_MODEL_CACHE_SIZE: {
    description: "Stable Diffusion models a worker keeps loaded when jobs name several; the least recently used one is released.",
    default: "2",
    schema: wholeNumber(1, 16),
  },
  ATELIER_STEP_PREVIEWS: {
    description: "1 attaches a small preview of the latents (WebP, at most 64 px) to every step event; 0 sends progress only.",
    default: "1",
    schema: onOff,
  },
  ATELIER_JOB_MAX_ATTEMPTS: {
    description:
      "Times a job is started before it ends FAILED: a model error, a worker that died and a worker shut down past its grace period each use one.",
    default: "3",
    schema: wholeNumber(1, 20),
  },
  ATELIER_HEARTBEAT_TIMEOUT_SECONDS: {
    description: "A running job whose worker has not heartbeated for this long is taken up by another worker. Workers heartbeat three times per timeout.",
    default: "30",
    schema: wholeNumber(3, 3600),
  },
  ATELIER_JOB_ATTEMPT_TIMEOUT_SECONDS: {
    description: "Longest one attempt of a job may run before the queue gives it to another worker (a backstop; the heartbeat is what catches dead workers).",
    default: "21600",
    schema: wholeNumber(60, 86_399),
  },
  ATELIER_SHUTDOWN_GRACE_SECONDS: {
    description: "On SIGTERM a worker stops claiming and lets its running jobs finish for this long, then releases them to the queue.",
    default: "30",
    schema: wholeNumber(0, 3600),
  },
  ATELIER_MAX_PROMPT_CHARACTERS: {
    description: "Longest prompt (and negative prompt) a job may have, in characters after trimming.",
    default: "2000",
    schema: wholeNumber(1, 100_000),
  },
  ATELIER_MAX_SAMPLES: {
    description: "Most images one job may ask for.",
    default: "16",
    schema: wholeNumber(1, 64),
  },
  ATELIER_MAX_STEPS: {
    description: "Most denoising steps one job may ask for.",
    default: "150",
    schema: wholeNumber(1, 1000),
  },
  ATELIER_MAX_GUIDANCE_SCALE: {
    description: "Largest classifier-free guidance scale a job may ask for (the smallest is 0).",
    default: "30",
    schema: positiveNumber(100),
  },
  ATELIER_MAX_IMAGE_SIDE: {
    description: "Longest width or height a job may ask for, in pixels (the shortest is 64; both are multiples of the model's size step).",
    default: "2048",
    schema: wholeNumber(64, 2048),
  },
  ATELIER_MAX_MEGAPIXELS: {
    description: "Most pixels in one image, in megapixels of 2^20 pixels (4 allows 2048×2048).",
    default: "4",
    schema: positiveNumber(4),
  },
  ATELIER_WORKER_MEMORY_GB: {
    description:
      "Memory of a worker's machine in GiB, for the CPU provider: a job whose model weights plus one sample would need more is refused when submitted, saying how much it needs (about 6 GiB for SD 1.5 at 512×512 with guidance). Unset: the memory of the machine the API runs on.",
    default: undefined,
    schema: positiveNumber(65536).optional(),
  },
  HF_TOKEN: {
    description: "Hugging Face access token for `atelier models pull` of gated or private repos.",
    default: undefined,
    schema: z.string().optional(),
  },
  HF_ENDPOINT: {
    description: "Base URL of the Hugging Face Hub (or a mirror) for `atelier models pull`.",
    default: "https://huggingface.co",
    schema: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }),
  },
  LOG_LEVEL: {
    description: "Least severe log level printed: debug, info, warn or error.",
    default: "info",
    schema: z.enum(["debug", "info", "warn", "error"], { message: "must be one of debug, info, warn, error" }),
  },
} satisfies Record<string, VariableSpec<unknown>>;

export type VariableName = keyof typeof ENVIRONMENT;
type Parsed = { [K in VariableName]: z.infer<(typeof ENVIRONMENT)[K]["schema"]> };

export type LogLevel = Parsed["LOG_LEVEL"];

/** Where the records live: a PostgreSQL the operator runs, or one Atelier starts itself. */
export type DatabaseConfig =
  | { kind: "external"; url: string }
  | { kind: "embedded"; clusterDir: string; port: number };

export interface AtelierConfig {
  /** Absolute path of the data directory. */
  dataDir: string;
  database: DatabaseConfig;
  /** Where image bytes go: files under <data dir>/images, or an S3 bucket. */
  storage: StorageConfig;
  jobs: JobsConfig;
  worker: WorkerConfig;
  http: {
    host: string;
    port: number;
    /** Base of image URLs in answers, without a trailing slash; "" for relative URLs. */
    publicUrl: string;
    /** NODE_ENV=development: internal errors are shown to clients. */
    development: boolean;
  };
  models: ModelsConfig;
  access: AccessConfig;
  logLevel: LogLevel;
}

/** Who may use the GraphQL API. */
export interface AccessConfig {
  /** ATELIER_API_KEYS; none leaves the API open. */
  apiKeys: string[];
  /** ATELIER_PRIVATE=1: queries need a key too. */
  private: boolean;
}

export interface JobsConfig {
  limits: JobLimits;
  maxAttempts: number;
  heartbeatTimeoutSeconds: number;
  attemptTimeoutSeconds: number;
}

export interface WorkerConfig {
  /** `atelier serve` runs a worker in-process. */
  embedded: boolean;
  concurrency: number;
  modelCacheSize: number;
  stepPreviews: boolean;
  shutdownGraceSeconds: number;
}

export interface ModelsConfig {
  /** Where generated demo models and pulled models live: <data dir>/models. */
  dir: string;
  stableDiffusion: string;
  clip: string;
  /** optimizedGraphCache: <data dir>/optimized-graphs (onnxruntime's optimized graphs, keyed by model checksum). */
  runtime: { executionProviders: ("cpu" | "cuda" | "webgpu")[]; intraOpThreads: number; optimizedGraphCache: string };
  batchSize: number;
  hub: { endpoint: string; token: string | undefined };
}

/** Thrown at start when one or more variables are invalid; the message names every one of them. */
export class ConfigError extends UserFacingError {
  override readonly name = "ConfigError";
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AtelierConfig {
  const values = parseVariables(env, Object.keys(ENVIRONMENT) as VariableName[]);
  const dataDir = path.resolve(values.ATELIER_DATA_DIR);
  return {
    dataDir,
    database: databaseConfig(values),
    storage: storageConfig(values, dataDir),
    jobs: {
      limits: {
        promptCharacters: values.ATELIER_MAX_PROMPT_CHARACTERS,
        samples: values.ATELIER_MAX_SAMPLES,
        steps: values.ATELIER_MAX_STEPS,
        guidanceScale: values.ATELIER_MAX_GUIDANCE_SCALE,
        side: values.ATELIER_MAX_IMAGE_SIDE,
        megapixels: values.ATELIER_MAX_MEGAPIXELS,
        workerMemoryBytes: (values.ATELIER_WORKER_MEMORY_GB ?? os.totalmem() / 2 ** 30) * 2 ** 30,
      },
      maxAttempts: values.ATELIER_JOB_MAX_ATTEMPTS,
      heartbeatTimeoutSeconds: values.ATELIER_HEARTBEAT_TIMEOUT_SECONDS,
      attemptTimeoutSeconds: values.ATELIER_JOB_ATTEMPT_TIMEOUT_SECONDS,
    },
    worker: {
      embedded: values.ATELIER_EMBEDDED_WORKER,
      concurrency: values.ATELIER_WORKER_CONCURRENCY,
      modelCacheSize: values.ATELIER_MODEL_CACHE_SIZE,
      stepPreviews: values.ATELIER_STEP_PREVIEWS,
      shutdownGraceSeconds: values.ATELIER_SHUTDOWN_GRACE_SECONDS,
    },
    http: {
      host: values.HOST,
      port: values.PORT,
      publicUrl: (values.ATELIER_PUBLIC_URL ?? "").replace(/\/+$/, ""),
      development: values.NODE_ENV === "development",
    },
    models: {
      dir: path.join(dataDir, "models"),
      stableDiffusion: values.ATELIER_SD_MODEL,
      clip: values.ATELIER_CLIP_MODEL,
      runtime: {
        executionProviders: values.ATELIER_EXECUTION_PROVIDERS,
        intraOpThreads: values.ATELIER_INTRA_OP_THREADS,
        optimizedGraphCache: path.join(dataDir, "optimized-graphs"),
      },
      batchSize: values.ATELIER_BATCH_SIZE,
      hub: { endpoint: values.HF_ENDPOINT.replace(/\/+$/, ""), token: values.HF_TOKEN },
    },
    access: accessConfig(values),
    logLevel: values.LOG_LEVEL,
  };
}

function accessConfig(values: Parsed): AccessConfig {
  const apiKeys = values.ATELIER_API_KEYS ?? [];
  const problems = apiKeys.flatMap((key, index) =>
    // A short key could be guessed; a space or a control character would not survive a header.
    /^[\x21-\x7e]{16,}$/.test(key) ? [] : [`ATELIER_API_KEYS: key ${index + 1} of ${apiKeys.length} must be 16 or more visible ASCII characters (no spaces)`],
  );
  // Commas alone must not leave the API open by mistake.
  if (values.ATELIER_API_KEYS?.length === 0) problems.push("ATELIER_API_KEYS is set but names no key");
  // A private API without keys would answer nobody.
  if (values.ATELIER_PRIVATE && values.ATELIER_API_KEYS === undefined) problems.push("ATELIER_PRIVATE=1 needs ATELIER_API_KEYS: without a key nobody could query");
  if (problems.length > 0) throw invalidConfiguration(problems);
  return { apiKeys, private: values.ATELIER_PRIVATE };
}

function storageConfig(values: Parsed, dataDir: string): StorageConfig {
  if (!values.ATELIER_S3_BUCKET) return { kind: "files", dir: path.join(dataDir, "images") };
  const accessKeyId = values.ATELIER_S3_ACCESS_KEY_ID;
  const secretAccessKey = values.ATELIER_S3_SECRET_ACCESS_KEY;
  // One of the pair alone would silently fall back to the default chain and its other identity.
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw invalidConfiguration(["ATELIER_S3_ACCESS_KEY_ID and ATELIER_S3_SECRET_ACCESS_KEY must be set together, or both left unset"]);
  }
  return {
    kind: "s3",
    bucket: values.ATELIER_S3_BUCKET,
    prefix: values.ATELIER_S3_PREFIX,
    endpoint: values.ATELIER_S3_ENDPOINT,
    region: values.ATELIER_S3_REGION,
    forcePathStyle: values.ATELIER_S3_FORCE_PATH_STYLE,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
  };
}

const DATABASE_VARIABLES = ["DATABASE_URL", "ATELIER_DATA_DIR", "ATELIER_EMBEDDED_PG_PORT"] as const;

/**
 * Only the database settings, for tools that need nothing else (Prisma's CLI through
 * prisma.config.ts, run by `npm ci` too): a bad value elsewhere must not stop them.
 */
export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  return databaseConfig(parseVariables(env, DATABASE_VARIABLES));
}

function databaseConfig(values: Pick<Parsed, (typeof DATABASE_VARIABLES)[number]>): DatabaseConfig {
  if (values.DATABASE_URL) return { kind: "external", url: values.DATABASE_URL };
  const clusterDir = path.join(path.resolve(values.ATELIER_DATA_DIR), "postgres");
  return { kind: "embedded", clusterDir, port: values.ATELIER_EMBEDDED_PG_PORT };
}

function parseVariables<K extends VariableName>(env: NodeJS.ProcessEnv, names: readonly K[]): Pick<Parsed, K> {
  const parsed: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of names) {
    const spec: VariableSpec<unknown> = ENVIRONMENT[name];
    // An empty value counts as unset, as shells and .env files commonly write `VAR=`.
    const raw = env[name] === "" ? undefined : env[name];
    const result = spec.schema.safeParse(raw ?? spec.default);
    if (result.success) parsed[name] = result.data;
    else problems.push(`${name}=${JSON.stringify(raw)}: ${result.error.issues.map((i) => i.message).join("; ")}`);
  }
  if (problems.length > 0) throw invalidConfiguration(problems);
  return parsed as Pick<Parsed, K>;
}

function invalidConfiguration(problems: string[]): ConfigError {
  return new ConfigError(`Invalid configuration:\n  ${problems.join("\n  ")}\nSee the configuration table in README.md.`);
}

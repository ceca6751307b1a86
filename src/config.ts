/**
 * Atelier's configuration: every environment variable the platform reads is declared once in
 * `ENVIRONMENT` below, with its meaning, default and rule. `loadConfig` validates them all at start
 * and fails with one message naming each bad variable, its value and what is allowed. The README's
 * configuration table lists the same variables (a test keeps the two in step).
 */
import path from "node:path";
import { z } from "zod";
import { UserFacingError } from "./errors.ts";

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

const postgresUrl = z
  .string()
  .refine((value) => /^postgres(ql)?:\/\/[^/]+/.test(value), "must be a postgresql:// or postgres:// URL");

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
    description: "Most samples denoised together in one UNet run (classifier-free guidance doubles the UNet batch). Higher uses more memory.",
    default: "1",
    schema: z.coerce.number().int("must be a whole number").min(1, "must be between 1 and 64").max(64, "must be between 1 and 64"),
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
  http: { host: string; port: number };
  models: ModelsConfig;
  logLevel: LogLevel;
}

export interface ModelsConfig {
  /** Where generated demo models and pulled models live: <data dir>/models. */
  dir: string;
  stableDiffusion: string;
  clip: string;
  runtime: { executionProviders: ("cpu" | "cuda" | "webgpu")[]; intraOpThreads: number };
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
    http: { host: values.HOST, port: values.PORT },
    models: {
      dir: path.join(dataDir, "models"),
      stableDiffusion: values.ATELIER_SD_MODEL,
      clip: values.ATELIER_CLIP_MODEL,
      runtime: { executionProviders: values.ATELIER_EXECUTION_PROVIDERS, intraOpThreads: values.ATELIER_INTRA_OP_THREADS },
      batchSize: values.ATELIER_BATCH_SIZE,
      hub: { endpoint: values.HF_ENDPOINT.replace(/\/+$/, ""), token: values.HF_TOKEN },
    },
    logLevel: values.LOG_LEVEL,
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
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  ${problems.join("\n  ")}\nSee the configuration table in README.md.`);
  }
  return parsed as Pick<Parsed, K>;
}

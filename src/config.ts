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
  logLevel: LogLevel;
}

/** Thrown at start when one or more variables are invalid; the message names every one of them. */
export class ConfigError extends UserFacingError {
  override readonly name = "ConfigError";
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AtelierConfig {
  const values = parseVariables(env);
  const dataDir = path.resolve(values.ATELIER_DATA_DIR);
  return {
    dataDir,
    database: values.DATABASE_URL
      ? { kind: "external", url: values.DATABASE_URL }
      : { kind: "embedded", clusterDir: path.join(dataDir, "postgres"), port: values.ATELIER_EMBEDDED_PG_PORT },
    http: { host: values.HOST, port: values.PORT },
    logLevel: values.LOG_LEVEL,
  };
}

function parseVariables(env: NodeJS.ProcessEnv): Parsed {
  const parsed: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(ENVIRONMENT) as [VariableName, VariableSpec<unknown>][]) {
    // An empty value counts as unset, as shells and .env files commonly write `VAR=`.
    const raw = env[name] === "" ? undefined : env[name];
    const result = spec.schema.safeParse(raw ?? spec.default);
    if (result.success) parsed[name] = result.data;
    else problems.push(`${name}=${JSON.stringify(raw)}: ${result.error.issues.map((i) => i.message).join("; ")}`);
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  ${problems.join("\n  ")}\nSee the configuration table in README.md.`);
  }
  return parsed as Parsed;
}

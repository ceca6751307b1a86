/**
 * The command line Prisma's CLI gives its schema engine binary (prisma 7.10):
 *
 *   schema-engine --version
 *   schema-engine --datasource '{"url":…}' cli can-connect-to-database | create-database | drop-database
 *   schema-engine [--datamodels PATH]… [--datasource JSON] [--enabled-preview-features a,b]
 *                 [--extension-types JSON]            (then JSON-RPC 2.0 on stdin/stdout)
 */

/** The `datasource` block of prisma.config.ts, as the CLI passes it. */
export interface Datasource {
  url: string;
  shadowDatabaseUrl?: string;
}

export const CLI_COMMANDS = ["can-connect-to-database", "create-database", "drop-database"] as const;
export type CliCommand = (typeof CLI_COMMANDS)[number];

export type EngineInvocation =
  | { mode: "version" }
  | { mode: "cli"; command: CliCommand; datasource: Datasource }
  | { mode: "rpc"; datamodelPaths: string[]; datasource: Datasource | undefined };

/** Thrown for a command line this engine does not understand; the message says what was wrong. */
export class EngineUsageError extends Error {
  override readonly name = "EngineUsageError";
}

/** Flags that take a value and are accepted but not used: the WebAssembly engine has no such settings. */
const IGNORED_VALUE_FLAGS = new Set(["--enabled-preview-features", "--extension-types"]);

export function parseEngineArguments(argv: string[]): EngineInvocation {
  if (argv.includes("--version") || argv.includes("-V")) return { mode: "version" };
  const datamodelPaths: string[] = [];
  let datasource: Datasource | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "cli") return { mode: "cli", command: parseCliCommand(argv.slice(i + 1)), datasource: required(datasource) };
    const value = argv[++i];
    if (value === undefined) throw new EngineUsageError(`${flag} needs a value`);
    if (flag === "--datamodels") datamodelPaths.push(value);
    else if (flag === "--datasource") datasource = parseDatasource(value);
    else if (!IGNORED_VALUE_FLAGS.has(flag)) throw new EngineUsageError(`unknown argument ${JSON.stringify(flag)}`);
  }
  return { mode: "rpc", datamodelPaths, datasource };
}

function parseCliCommand(rest: string[]): CliCommand {
  const [command] = rest;
  if (rest.length === 1 && (CLI_COMMANDS as readonly string[]).includes(command!)) return command as CliCommand;
  throw new EngineUsageError(`cli takes one of ${CLI_COMMANDS.join(", ")}; got ${JSON.stringify(rest.join(" "))}`);
}

function parseDatasource(json: string): Datasource {
  const parsed = JSON.parse(json) as Partial<Datasource>;
  if (typeof parsed.url !== "string") throw new EngineUsageError("--datasource must be a JSON object with a string `url`");
  if (parsed.shadowDatabaseUrl) {
    // The engine makes a temporary shadow database itself (and drops it); a fixed one would have to
    // be emptied first, which this engine does not do.
    throw new EngineUsageError(
      "datasource.shadowDatabaseUrl is not supported by Atelier's WebAssembly schema engine: remove it from " +
        "prisma.config.ts; a temporary shadow database is created next to the main one and dropped afterwards.",
    );
  }
  return { url: parsed.url };
}

function required(datasource: Datasource | undefined): Datasource {
  if (!datasource) throw new EngineUsageError("cli commands need --datasource");
  return datasource;
}

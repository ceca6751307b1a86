/**
 * Runs `bin/atelier.js` as a real child process, the way a user does, and collects its output.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/atelier.js", import.meta.url));

export interface CliProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Resolves when the combined output matches `pattern`; rejects if the process ends first. */
  waitFor(pattern: RegExp): Promise<void>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const waitFor = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pattern.test(output)) {
          listeners.delete(check);
          resolve();
        }
      };
      listeners.add(check);
      check();
      void exited.then((code) => reject(new Error(`atelier exited (${code}) before printing ${pattern}:\n${output}`)));
    });
  return { child, output: () => output, exited, waitFor };
}

/** Runs a command to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | string; output: string }> {
  const cli = startCli(args, env);
  const code = await cli.exited;
  return { code, output: cli.output() };
}

/** The test runner's environment minus anything that would change Atelier's configuration. */
function cleanEnv(overrides: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name === "DATABASE_URL" || name === "PORT" || name === "HOST" || name.startsWith("ATELIER_")) delete env[name];
  }
  return { ...env, ...overrides };
}

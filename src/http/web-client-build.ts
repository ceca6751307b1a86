/**
 * Building the web client (web-client/ → web-client/dist/) with Vite's JS API, and knowing when it
 * must be built. `atelier serve` calls `ensureWebClient()` as it starts: a dist that is missing (a
 * fresh clone) or stale (web-client/ changed since it was built) is built there and then, with a
 * log line; a fresh one costs a hash of the sources.
 *
 * Why on start rather than in `npm ci`'s postinstall: both make `npm ci && npm start` show the
 * client, but only a check on start also catches a dist gone stale after a `git pull` or an edit,
 * which a postinstall build would keep serving until someone remembered `npm run build`.
 *
 * Stale means the digest of the sources (every file under web-client/ but its builds, and
 * package-lock.json, as a dependency upgrade changes the bundle too) differs from the digest the
 * build wrote into dist/. Contents, not modification times: a checkout or a copy changes those
 * without changing the client.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "../log.ts";

/** The web client's folder in this checkout. */
export const WEB_CLIENT_ROOT = fileURLToPath(new URL("../../web-client/", import.meta.url));

/** A dependency upgrade changes the bundle as much as a source does. */
const LOCKFILE = fileURLToPath(new URL("../../package-lock.json", import.meta.url));

/** Where a build goes, and the file in it that records what it was built from. */
const DIST = "dist";
const DIGEST_FILE = ".source-digest";

/** The built client's folder, built first if it is missing or stale. */
export async function ensureWebClient(log: Logger, root = WEB_CLIENT_ROOT): Promise<string> {
  const built = await builtDigest(root);
  if (built !== (await sourceDigest(root))) {
    log.info(built === undefined ? "building the web client (no build yet)" : "building the web client (web-client/ changed since its last build)");
    await buildWebClient(log, root);
  }
  return path.join(root, DIST);
}

/**
 * Builds into a folder of its own, then moves it to dist/ in one rename: a server reading dist/
 * while another process builds (two `atelier serve` on one checkout, the test suite) never sees
 * half a build.
 */
export async function buildWebClient(log: Logger, root = WEB_CLIENT_ROOT): Promise<void> {
  const started = performance.now();
  const digest = await sourceDigest(root);
  const staging = path.join(root, `${DIST}.${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    // Loaded only to build: vite and its plugins take a while to import, and a fresh start needs neither.
    const [{ build }, { default: config }] = await Promise.all([import("vite"), import("../../web-client/vite.config.ts")]);
    await build({ ...config, root, configFile: false, logLevel: "warn", build: { ...config.build, outDir: staging, emptyOutDir: true } });
    await fs.writeFile(path.join(staging, DIGEST_FILE), digest);
    await replaceDir(staging, path.join(root, DIST));
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  log.info(`built the web client in ${((performance.now() - started) / 1000).toFixed(1)} s`, { dir: path.join(root, DIST) });
}

/** Hex SHA-256 over the client's sources and the lockfile, paths included (a renamed file changes the build too). */
export async function sourceDigest(root = WEB_CLIENT_ROOT): Promise<string> {
  const hash = createHash("sha256");
  const files = [...(await sourceFiles(root)).map((file) => path.join(root, file)), LOCKFILE];
  for (const file of files) {
    hash.update(`${path.relative(root, file)}\0`);
    hash.update(await fs.readFile(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** Files under the root, sorted, without builds (dist/, and the staging folders of builds under way). */
async function sourceFiles(root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .filter((file) => !isBuild(file.split(path.sep)[0]!))
    .sort();
}

function isBuild(topLevelName: string): boolean {
  return topLevelName === DIST || topLevelName.startsWith(`${DIST}.`) || topLevelName === "node_modules";
}

async function builtDigest(root: string): Promise<string | undefined> {
  return fs.readFile(path.join(root, DIST, DIGEST_FILE), "utf8").catch(() => undefined);
}

/** Moves `from` to `to`, replacing it. When another process put its own build there first, that one stays. */
async function replaceDir(from: string, to: string): Promise<void> {
  await fs.rm(to, { recursive: true, force: true });
  try {
    await fs.rename(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Built from the same sources, so just as good as ours.
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
  }
}

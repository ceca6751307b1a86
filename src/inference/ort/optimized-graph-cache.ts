/**
 * onnxruntime's optimized-graph cache: the graph as onnxruntime left it after its optimizations
 * (fusions, constant folding, NCHWc layouts), saved once and loaded with optimizations off after.
 * For SD 1.5's UNet that cuts session creation from about 2 minutes to 5 seconds on 2 cores
 * (bench/real-scale.ts). The saved graph is specific to this machine's CPU and this onnxruntime
 * version (onnxruntime warns so when it saves it), so both are part of the key.
 *
 * The key is a checksum of the model file's bytes (the graph, and for external data the offset and
 * length of every tensor; read in chunks, as inline weights make the file as big as the model) plus
 * each external data file's name, size and modification time; hashing the 3.4 GB of weights
 * themselves would cost more time than the cache saves.
 *
 * Files of one entry: `<key>.onnx`, the graph, and the weights file it names,
 * `<key>.<saver>.onnx_data`, where the saver is the host, process and load that saved them. Several
 * processes may save the same entry at once (workers sharing a data directory): each writes files of
 * its own, the first to commit wins, the others remove theirs. Files that a process died while
 * saving are removed by the next load of that entry on the same host.
 */
import { createHash, type Hash } from "node:crypto";
import { closeSync, existsSync, linkSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { isProcessAlive } from "../../process-alive.ts";

/** onnxruntime-node's version, read once: a graph optimized by another version is not reused. */
const ORT_VERSION = (JSON.parse(readFileSync(new URL(import.meta.resolve("onnxruntime-node/package.json")), "utf8")) as { version: string }).version;

/** Entries asked for in this process, numbered so that loads saving at the same time write files of their own. */
let saves = 0;

export interface CachedGraph {
  /** The optimized model file, present once a first session has saved it. */
  readonly file: string;
  /** Where a first session saves it (`optimizedModelFilePath`); moved to `file` by `commit`. */
  readonly stagingFile: string;
  /** `session.*` config entries that make onnxruntime put the weights in a file beside it (graphs over 2 GB need that). */
  readonly saveOptions: Record<string, string>;
  /**
   * Puts a just-saved graph into place, so no reader sees a half-written one; if another process
   * put its own there first, removes this one's files and keeps that.
   */
  commit(): void;
  /** Removes what a failed save left. */
  discard(): void;
}

/** `variant` names a rewrite made before onnxruntime optimized the graph ("" for none): each has its own entry. */
export function cachedGraph(cacheDir: string, modelPath: string, variant: string): CachedGraph {
  const key = graphKey(modelPath, variant);
  const file = path.join(cacheDir, `${key}.onnx`);
  removeAbandoned(cacheDir, key, file);
  const saver = `${os.hostname()}-${process.pid}-${saves++}`;
  const stagingFile = path.join(cacheDir, `${key}.${saver}.partial.onnx`);
  const weightsFile = path.join(cacheDir, `${key}.${saver}.onnx_data`);
  return {
    file,
    stagingFile,
    saveOptions: {
      optimized_model_external_initializers_file_name: path.basename(weightsFile),
      optimized_model_external_initializers_min_size_in_bytes: "1024",
    },
    commit() {
      try {
        // A link, unlike a rename, fails when the graph is there already (another process's).
        linkSync(stagingFile, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        rmSync(weightsFile, { force: true });
      }
      rmSync(stagingFile);
    },
    discard() {
      rmSync(stagingFile, { force: true });
      rmSync(weightsFile, { force: true });
    },
  };
}

/**
 * Removes the files of this entry that a process of this host left when it died while saving: its
 * staging graph, and its weights file unless the committed graph names it. A live process's files
 * stay, and so do another host's (whether that process lives cannot be told from here).
 */
function removeAbandoned(cacheDir: string, key: string, file: string): void {
  const pattern = new RegExp(`^${key}\\.(.+)-(\\d+)-\\d+\\.(partial\\.onnx|onnx_data)$`);
  let committed: Buffer | undefined;
  for (const name of readdirSync(cacheDir)) {
    const match = pattern.exec(name);
    if (!match || match[1] !== os.hostname() || isProcessAlive(Number(match[2]))) continue;
    if (match[3] === "onnx_data") {
      committed ??= existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
      if (committed.includes(name)) continue;
    }
    rmSync(path.join(cacheDir, name), { force: true });
  }
}

/** Feeds the file to the hash a chunk at a time: a model with inline weights may be gigabytes, never to be held in JavaScript. */
function hashFile(hash: Hash, file: string): void {
  const chunk = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(file, "r");
  try {
    for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) hash.update(chunk.subarray(0, read));
  } finally {
    closeSync(fd);
  }
}

/**
 * Keys computed in this process, by the model file's identity (path, inode, size, modification time),
 * the variant and the external data files' stats: a session opened again from the same files (the
 * text encoder, once a job on the CPU) does not read the model file again (0.33 s each time for SD
 * 1.5's 0.49 GB text encoder).
 */
const keys = new Map<string, string>();

function graphKey(modelPath: string, variant: string): string {
  const dir = path.dirname(modelPath);
  let externalData = "";
  for (const name of readdirSync(dir).filter((entry) => !entry.endsWith(".onnx") && !entry.endsWith(".json")).sort()) {
    const stats = statSync(path.join(dir, name));
    if (stats.isFile()) externalData += `\0${name}\0${stats.size}\0${stats.mtimeMs}`;
  }
  const model = statSync(modelPath);
  const identity = `${modelPath}\0${model.ino}\0${model.size}\0${model.mtimeMs}\0${variant}${externalData}`;
  let key = keys.get(identity);
  if (key === undefined) {
    const hash = createHash("sha256");
    hash.update(`onnxruntime-node ${ORT_VERSION} ${os.arch()} ${os.cpus()[0]?.model ?? ""}\0${variant}\0`);
    hashFile(hash, modelPath);
    hash.update(externalData);
    keys.set(identity, (key = hash.digest("hex").slice(0, 32)));
  }
  return key;
}

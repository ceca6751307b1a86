/**
 * onnxruntime's optimized-graph cache: the graph as onnxruntime left it after its optimizations
 * (fusions, constant folding, NCHWc layouts), saved once and loaded with optimizations off after.
 * For SD 1.5's UNet that cuts session creation from about 2 minutes to 5 seconds on 2 cores
 * (bench/real-scale.ts). The saved graph is specific to this machine's CPU and this onnxruntime
 * version (onnxruntime warns so when it saves it), so both are part of the key.
 *
 * The key is a checksum of the model file's bytes (the graph, and for external data the offset and
 * length of every tensor; read in chunks, as inline weights make the file as big as the model) plus each external data file's name, size and modification time; hashing
 * the 3.4 GB of weights themselves would cost more time than the cache saves.
 */
import { createHash, type Hash } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync, readdirSync, renameSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** onnxruntime-node's version, read once: a graph optimized by another version is not reused. */
const ORT_VERSION = (JSON.parse(readFileSync(new URL(import.meta.resolve("onnxruntime-node/package.json")), "utf8")) as { version: string }).version;

export interface CachedGraph {
  /** The optimized model file, present once a first session has saved it. */
  readonly file: string;
  /** Where a first session saves it (`optimizedModelFilePath`); moved to `file` by `commit`. */
  readonly stagingFile: string;
  /** `session.*` config entries that make onnxruntime put the weights in a file beside it (graphs over 2 GB need that). */
  readonly saveOptions: Record<string, string>;
  /** Moves a just-saved graph into place, so no reader sees a half-written one. */
  commit(): void;
}

/** `variant` names a rewrite made before onnxruntime optimized the graph ("" for none): each has its own entry. */
export function cachedGraph(cacheDir: string, modelPath: string, variant: string): CachedGraph {
  const key = graphKey(modelPath, variant);
  const file = path.join(cacheDir, `${key}.onnx`);
  const stagingFile = path.join(cacheDir, `${key}.${process.pid}.partial.onnx`);
  return {
    file,
    stagingFile,
    saveOptions: {
      optimized_model_external_initializers_file_name: `${path.basename(stagingFile)}_data`,
      optimized_model_external_initializers_min_size_in_bytes: "1024",
    },
    commit() {
      // The weights file keeps the name the graph refers to; only the graph is renamed into place.
      renameSync(stagingFile, file);
    },
  };
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

function graphKey(modelPath: string, variant: string): string {
  const hash = createHash("sha256");
  hash.update(`onnxruntime-node ${ORT_VERSION} ${os.arch()} ${os.cpus()[0]?.model ?? ""}\0${variant}\0`);
  hashFile(hash, modelPath);
  const dir = path.dirname(modelPath);
  for (const name of readdirSync(dir).filter((entry) => !entry.endsWith(".onnx") && !entry.endsWith(".json")).sort()) {
    const stats = statSync(path.join(dir, name));
    if (stats.isFile()) hash.update(`\0${name}\0${stats.size}\0${stats.mtimeMs}`);
  }
  return hash.digest("hex").slice(0, 32);
}

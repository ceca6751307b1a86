/**
 * Writes a generated model folder atomically: every file goes into a staging folder beside the
 * target, which replaces the target only once complete. So a folder under the target's name is
 * always whole (interrupting generation leaves at most a hidden staging folder), and the existence of
 * a model folder is proof that it was fully written.
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { ByteSink } from "./onnx/graph-builder.ts";

/** A file group: relative path → contents. */
export type FileGroup = Record<string, string | Uint8Array>;

/** Opens a file of the folder for appending (a weights file written while its graph is built). */
export type OpenStream = (path: string) => ByteSink;

/**
 * One unit of work, reported to progress when done. `make` builds its files on demand to bound
 * memory; files too big to hold go through `stream` as they are made instead of into the group.
 */
export interface WriteStep {
  readonly what: string;
  readonly make: (stream: OpenStream) => FileGroup;
}

/**
 * Told after each step (`done` steps of `total`, `what` the step), and while a step streams a file:
 * then `done` is the steps already finished and `what` says how much of the file is written.
 */
export type WriteProgress = (done: number, total: number, what: string) => void;

let stagingSequence = 0;

export async function writeModelFolder(
  outDir: string,
  steps: readonly WriteStep[],
  onProgress?: WriteProgress,
): Promise<void> {
  const staging = join(dirname(outDir), `.${basename(outDir)}.partial-${process.pid}-${stagingSequence++}`);
  await rm(staging, { recursive: true, force: true });
  try {
    for (const [index, step] of steps.entries()) {
      const streamed = (file: string, bytes: number) => onProgress?.(index, steps.length, `${file}: ${formatGigabytes(bytes)} written`);
      await writeGroup(staging, makeStreaming(staging, step, streamed));
      onProgress?.(index + 1, steps.length, step.what);
    }
    await replaceFolder(staging, outDir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Runs a step's `make`, giving it append-only files in the staging folder, closed when it returns. */
function makeStreaming(root: string, step: WriteStep, onWritten: (file: string, bytes: number) => void): FileGroup {
  const open: number[] = [];
  try {
    return step.make((file) => {
      const target = join(root, file);
      mkdirSync(dirname(target), { recursive: true });
      const fd = openSync(target, "w");
      open.push(fd);
      let size = 0;
      return {
        append(bytes) {
          const offset = size;
          for (let at = 0; at < bytes.byteLength; ) at += writeSync(fd, bytes, at, bytes.byteLength - at);
          size += bytes.byteLength;
          onWritten(file, size);
          return offset;
        },
      };
    });
  } finally {
    for (const fd of open) closeSync(fd);
  }
}

function formatGigabytes(bytes: number): string {
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

async function writeGroup(root: string, group: FileGroup): Promise<void> {
  for (const [path, content] of Object.entries(group)) {
    const target = join(root, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
}

/** Moves the finished folder into place; an old folder is moved aside first and removed after. */
async function replaceFolder(staging: string, outDir: string): Promise<void> {
  const aside = `${staging}.old`;
  await rm(aside, { recursive: true, force: true });
  const hadOld = await rename(outDir, aside).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw error;
    },
  );
  await rename(staging, outDir);
  if (hadOld) await rm(aside, { recursive: true, force: true });
}

/**
 * Writes a generated model folder atomically: every file goes into a staging folder beside the
 * target, which replaces the target only once complete. So a folder under the target's name is
 * always whole (interrupting generation leaves at most a hidden staging folder), and the existence of
 * a model folder is proof that it was fully written.
 */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** A file group: relative path → contents. */
export type FileGroup = Record<string, string | Uint8Array>;

/** One unit of work, reported to progress when done; `make` builds its files on demand to bound memory. */
export interface WriteStep {
  readonly what: string;
  readonly make: () => FileGroup;
}

let stagingSequence = 0;

export async function writeModelFolder(
  outDir: string,
  steps: readonly WriteStep[],
  onProgress?: (done: number, total: number, what: string) => void,
): Promise<void> {
  const staging = join(dirname(outDir), `.${basename(outDir)}.partial-${process.pid}-${stagingSequence++}`);
  await rm(staging, { recursive: true, force: true });
  try {
    for (const [index, step] of steps.entries()) {
      await writeGroup(staging, step.make());
      onProgress?.(index + 1, steps.length, step.what);
    }
    await replaceFolder(staging, outDir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
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

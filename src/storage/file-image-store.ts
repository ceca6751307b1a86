/**
 * The image store on a file system: `<data dir>/images` by default, or a volume several machines
 * share. Objects lie at `<root>/<first two characters of the key>/<key>`: keys are hashes, so the
 * 256 folders fill evenly and none grows to millions of entries.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { assertImageKey, isImageKey, type ImageStore } from "./image-store.ts";

export function createFileImageStore(root: string): ImageStore {
  const absoluteRoot = path.resolve(root);
  const objectPath = (key: string) => {
    assertImageKey(key);
    return path.join(absoluteRoot, key.slice(0, 2), key);
  };

  return {
    description: `files under ${absoluteRoot}`,

    async put(key, bytes) {
      const target = objectPath(key);
      await fs.mkdir(path.dirname(target), { recursive: true });
      // Written beside the target and renamed over it, so a reader (or a crash) never sees half an
      // object; the name does not match a key, so keys() passes over one left by a crash. Flushed
      // before the rename, else a crash could leave the final name holding no bytes.
      const temporary = `${target}.${randomUUID()}.tmp`;
      try {
        await fs.writeFile(temporary, bytes, { flush: true });
        await fs.rename(temporary, target);
      } catch (error) {
        await fs.rm(temporary, { force: true });
        throw error;
      }
    },

    async get(key) {
      try {
        return await fs.readFile(objectPath(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
    },

    async delete(key) {
      await fs.rm(objectPath(key), { force: true });
    },

    async *keys() {
      for (const folder of await entriesOf(absoluteRoot)) {
        if (!folder.isDirectory()) continue;
        for (const file of await entriesOf(path.join(absoluteRoot, folder.name))) {
          if (file.isFile() && isImageKey(file.name) && file.name.startsWith(folder.name)) yield file.name;
        }
      }
    },

    async close() {},
  };
}

/** A folder's entries; none when it does not exist (nothing has been stored yet). */
async function entriesOf(folder: string) {
  try {
    return await fs.readdir(folder, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

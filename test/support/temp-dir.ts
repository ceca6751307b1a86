import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/**
 * A fresh temporary directory, readable by other users: as root, the embedded PostgreSQL runs as the
 * `postgres` user, which must be able to reach its cluster directory inside.
 */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  await fs.chmod(dir, 0o755);
  return dir;
}

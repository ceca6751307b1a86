import fs from "node:fs/promises";
import path from "node:path";
import { inject } from "vitest";

/**
 * A fresh folder under this test run's temporary root (removed when the run ends), readable by other
 * users: as root, the embedded PostgreSQL runs as the `postgres` user, which must reach inside.
 */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(inject("tempRoot"), `${prefix}-`));
  await fs.chmod(dir, 0o755);
  return dir;
}

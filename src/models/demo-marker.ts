/**
 * Generated demo models carry a `demo-model.json` with `"demo": true` (written by tools/demo-models),
 * so a demo model is recognized as one wherever its folder is, and labelled as random weights.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

export const DEMO_MARKER_FILE = "demo-model.json";

export function isDemoModelFolder(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(path.join(dir, DEMO_MARKER_FILE), "utf8")) as { demo?: unknown }).demo === true;
  } catch {
    return false;
  }
}

/**
 * Generated demo models carry a `demo-model.json` with `"demo": true` (written by src/models/demo),
 * so a demo model is recognized as one wherever its folder is, and labelled as random weights. The
 * generator version in it lets Atelier remake a demo folder that an older generator wrote.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

export const DEMO_MARKER_FILE = "demo-model.json";

/** Bump whenever the generator's output changes (weights, graphs, configs, tokenizer). */
export const DEMO_GENERATOR_VERSION = 2;

export function demoMarkerJson(details: Record<string, unknown>): string {
  const marker = { demo: true, randomWeights: true, generatorVersion: DEMO_GENERATOR_VERSION, generator: "atelier src/models/demo", ...details };
  return `${JSON.stringify(marker, null, 2)}\n`;
}

export function isDemoModelFolder(dir: string): boolean {
  return readMarker(dir)?.demo === true;
}

/** A demo folder written by this version of the generator. */
export function isCurrentDemoModel(dir: string): boolean {
  return readMarker(dir)?.generatorVersion === DEMO_GENERATOR_VERSION;
}

function readMarker(dir: string): { demo?: unknown; generatorVersion?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, DEMO_MARKER_FILE), "utf8")) as { demo?: unknown; generatorVersion?: unknown };
  } catch {
    return undefined;
  }
}

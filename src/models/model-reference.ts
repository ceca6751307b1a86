/**
 * What a model setting (ATELIER_SD_MODEL, --model …) can name, and where that model lives on disk:
 *   - a generated demo model by name: demo-sd-tiny, demo-sd-small, demo-clip-tiny, demo-clip-small
 *   - a folder path (absolute, or relative to the working directory)
 *   - a Hugging Face repo id "org/name", downloaded by `atelier models pull` into <models dir>/hub/org/name
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { UserFacingError } from "../errors.ts";

export type ModelFamily = "stable-diffusion" | "clip";
export type DemoPreset = "tiny" | "small";

export type ModelReference =
  | { kind: "demo"; name: string; family: ModelFamily; preset: DemoPreset; dir: string }
  | { kind: "folder"; name: string; dir: string }
  | { kind: "hub"; name: string; repo: string; dir: string };

export const DEMO_MODELS: Record<string, { family: ModelFamily; preset: DemoPreset }> = {
  "demo-sd-tiny": { family: "stable-diffusion", preset: "tiny" },
  "demo-sd-small": { family: "stable-diffusion", preset: "small" },
  "demo-clip-tiny": { family: "clip", preset: "tiny" },
  "demo-clip-small": { family: "clip", preset: "small" },
};

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** Thrown for a value that is none of the three; says what is allowed. */
export class ModelReferenceError extends UserFacingError {
  override readonly name = "ModelReferenceError";
}

export function parseModelReference(value: string, modelsDir: string): ModelReference {
  const demo = DEMO_MODELS[value];
  if (demo) return { kind: "demo", name: value, ...demo, dir: path.join(modelsDir, value) };
  const asPath = path.resolve(value);
  if (existsSync(asPath) && statSync(asPath).isDirectory()) return { kind: "folder", name: path.basename(asPath), dir: asPath };
  if (REPO_ID.test(value)) return { kind: "hub", name: value, repo: value, dir: path.join(modelsDir, "hub", ...value.split("/")) };
  throw new ModelReferenceError(
    `"${value}" is not a model folder, a Hugging Face repo id (org/name) or a demo model (${Object.keys(DEMO_MODELS).join(", ")})`,
  );
}

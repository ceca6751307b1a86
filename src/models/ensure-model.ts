/**
 * Makes a referenced model available on disk: a demo model is generated on first use, and again when
 * an older generator made it (deterministic, so every machine gets the same bytes); a folder is taken
 * as it is; a Hugging Face repo must have been pulled. Returns the folder.
 */
import { existsSync } from "node:fs";
import { makeDemoClip } from "./demo/write-clip.ts";
import { makeDemoStableDiffusion } from "./demo/stable-diffusion.ts";
import { isCurrentDemoModel } from "./demo-marker.ts";
import type { ModelReference } from "./model-reference.ts";
import { UserFacingError } from "../errors.ts";

/** Thrown for a hub model that has not been downloaded; says how to get it. */
export class ModelNotDownloadedError extends UserFacingError {
  override readonly name = "ModelNotDownloadedError";
}

export type GenerationProgress = (done: number, total: number, what: string) => void;

export async function ensureModel(reference: ModelReference, onProgress?: GenerationProgress): Promise<string> {
  if (existsSync(reference.dir) && (reference.kind !== "demo" || isCurrentDemoModel(reference.dir))) return reference.dir;
  switch (reference.kind) {
    case "demo": {
      const make = reference.family === "clip" ? makeDemoClip : makeDemoStableDiffusion;
      await make({ preset: reference.preset, outDir: reference.dir, ...(onProgress && { onProgress }) });
      return reference.dir;
    }
    case "hub":
      throw new ModelNotDownloadedError(
        `${reference.repo} is not downloaded yet. Run \`atelier models pull ${reference.repo}\` (needs internet access), ` +
          `or copy the repo's files into ${reference.dir}.`,
      );
    case "folder":
      throw new ModelNotDownloadedError(`Model folder ${reference.dir} does not exist`);
  }
}

/**
 * At start, makes the configured models available: demo models are generated when missing (so a
 * fresh `npm start` has them), and a configured folder or repo that is not on disk is reported at
 * once rather than at the first generation.
 */
import { existsSync } from "node:fs";
import type { ModelsConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { ensureModel } from "./ensure-model.ts";
import { parseModelReference } from "./model-reference.ts";

export async function prepareModels(config: ModelsConfig, log: Logger): Promise<void> {
  for (const [setting, value] of [["ATELIER_SD_MODEL", config.stableDiffusion], ["ATELIER_CLIP_MODEL", config.clip]] as const) {
    const reference = parseModelReference(value, config.dir);
    if (reference.kind === "demo") {
      const started = performance.now();
      const fresh = !existsSync(reference.dir);
      await ensureModel(reference);
      if (fresh) log.info(`made demo model ${reference.name} (random weights: images are noise)`, { dir: reference.dir, ms: Math.round(performance.now() - started) });
    } else if (!existsSync(reference.dir)) {
      log.warn(`${setting}=${value}: no model at ${reference.dir} yet`, {
        hint: reference.kind === "hub" ? `run \`atelier models pull ${value}\`` : "point the setting at a model folder",
      });
    }
  }
}

/**
 * The models Atelier can use: the configured ones, the demo models, and every pulled hub repo,
 * each with whether it is on disk and whether it is a demo model (random weights).
 */
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { ModelsConfig } from "../config.ts";
import { DEMO_MODELS, parseModelReference, type ModelReference } from "./model-reference.ts";
import { isDemoModelFolder } from "./demo-marker.ts";

export interface ModelListing {
  name: string;
  kind: ModelReference["kind"];
  dir: string;
  present: boolean;
  /** Generated with random weights: images are noise, scores meaningless. */
  demo: boolean;
  configuredAs: ("ATELIER_SD_MODEL" | "ATELIER_CLIP_MODEL")[];
}

export async function listModels(config: ModelsConfig): Promise<ModelListing[]> {
  const names = new Set([config.stableDiffusion, config.clip, ...Object.keys(DEMO_MODELS), ...(await pulledRepos(config.dir))]);
  return [...names].map((name) => {
    const reference = parseModelReference(name, config.dir);
    const present = existsSync(reference.dir);
    return {
      name: reference.name,
      kind: reference.kind,
      dir: reference.dir,
      present,
      demo: reference.kind === "demo" || (present && isDemoModelFolder(reference.dir)),
      configuredAs: [
        ...(name === config.stableDiffusion ? (["ATELIER_SD_MODEL"] as const) : []),
        ...(name === config.clip ? (["ATELIER_CLIP_MODEL"] as const) : []),
      ],
    };
  });
}

/** org/name for every folder two levels under <models dir>/hub. */
async function pulledRepos(modelsDir: string): Promise<string[]> {
  const hub = path.join(modelsDir, "hub");
  const orgs = await fs.readdir(hub).catch(() => []);
  const repos = await Promise.all(orgs.map(async (org) => (await fs.readdir(path.join(hub, org)).catch(() => [])).map((name) => `${org}/${name}`)));
  return repos.flat();
}

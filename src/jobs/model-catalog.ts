/**
 * The Stable Diffusion models jobs can name: the configured one (ATELIER_SD_MODEL), the demo models
 * and pulled hub repos that are on disk. The API checks jobs against a model's rules (sizes,
 * defaults, memory) and counts prompt tokens with its tokenizer, all read from the folder's files
 * without opening an onnxruntime session; the worker resolves a job's model name to its folder here.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { ModelsConfig } from "../config.ts";
import { describeStableDiffusion } from "../inference/models/stable-diffusion-model.ts";
import { ClipTokenizer } from "../inference/tokenizer/clip-tokenizer.ts";
import { listModels, type ModelListing } from "../models/list-models.ts";
import { parseModelReference } from "../models/model-reference.ts";
import { ALL_SCHEDULERS, type ModelRules } from "./job-limits.ts";

/** How long a listing of the models folder is reused: a model pulled meanwhile shows up after this. */
const LISTING_TTL_MS = 5000;

export interface CatalogModel extends ModelRules {
  dir: string;
  /** Generated with random weights: its images are noise. */
  demo: boolean;
  tokenizer: ClipTokenizer;
}

export interface ModelCatalog {
  /** The model jobs use when they name none. */
  readonly defaultName: string;
  /** Every model a job can name now, the default first. */
  list(): Promise<CatalogModel[]>;
  /** The model of that name (the default when none), or undefined when there is none. */
  find(name?: string | null): Promise<CatalogModel | undefined>;
}

export function createModelCatalog(config: ModelsConfig): ModelCatalog {
  // Only the CPU provider's activations are in host memory, where the estimate applies.
  const onCpu = (config.runtime.executionProviders ?? ["cpu"])[0] === "cpu";
  const described = new Map<string, Promise<CatalogModel>>();
  const describe = (name: string, dir: string, demo: boolean) => {
    let model = described.get(dir);
    if (!model) {
      model = (async () => {
        const [layout, tokenizer] = await Promise.all([describeStableDiffusion(dir), ClipTokenizer.fromFolder(path.join(dir, "tokenizer"))]);
        const memory = onCpu ? layout.memory : undefined;
        return { name, dir, demo, tokenizer, sizeMultiple: layout.sizeMultiple, defaults: layout.defaults, schedulers: ALL_SCHEDULERS, memory };
      })();
      // A folder that fails to read now may be fixed later: do not remember the failure.
      model.catch(() => described.delete(dir));
      described.set(dir, model);
    }
    return model;
  };
  // Submitting a job looks its model up: the folder scan behind the listing is reused for a few seconds.
  let listing: { at: number; models: Promise<ModelListing[]> } | undefined;
  const listed = () => {
    if (!listing || Date.now() - listing.at > LISTING_TTL_MS) listing = { at: Date.now(), models: listModels(config) };
    return listing.models;
  };
  const available = async () => {
    const listings = await listed();
    const usable = listings.filter((listing) => listing.present && existsSync(path.join(listing.dir, "model_index.json")));
    const defaultListing = listings.find((listing) => listing.configuredAs.includes("ATELIER_SD_MODEL"));
    return usable.sort((a, b) => Number(b === defaultListing) - Number(a === defaultListing));
  };
  const defaultName = parseModelReference(config.stableDiffusion, config.dir).name;
  return {
    defaultName,
    async list() {
      const listings = await available();
      const models = await Promise.allSettled(listings.map((listing) => describe(listing.name, listing.dir, listing.demo)));
      return models.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    },
    async find(name) {
      const wanted = name ?? defaultName;
      const listing = (await available()).find((candidate) => candidate.name === wanted);
      return listing && describe(listing.name, listing.dir, listing.demo);
    },
  };
}

/**
 * The Stable Diffusion models a worker keeps loaded: each is loaded once and shared by the jobs
 * that name it; when jobs name more models than `capacity`, the least recently used one that no
 * job is using is released (a model in use is never released under a job).
 */
import type { StableDiffusionModel } from "../src/inference/models/stable-diffusion-model.ts";

export interface ModelCacheOptions {
  /** Most models kept loaded at once (those in use may exceed it briefly). */
  capacity: number;
  load(name: string): Promise<StableDiffusionModel>;
}

export interface ModelLease {
  readonly model: StableDiffusionModel;
  /** The job is done with the model. */
  release(): void;
}

export interface ModelCache {
  acquire(name: string): Promise<ModelLease>;
  /** Names loaded now, least recently used first (for tests and logs). */
  loadedNames(): string[];
  /** Releases every model. Call when no job runs any more. */
  close(): Promise<void>;
}

interface Entry {
  model: Promise<StableDiffusionModel>;
  users: number;
}

export function createModelCache(options: ModelCacheOptions): ModelCache {
  // A Map iterates in insertion order: re-inserting on use keeps it least recently used first.
  const entries = new Map<string, Entry>();

  const evict = async () => {
    for (const [name, entry] of entries) {
      if (entries.size <= options.capacity) return;
      if (entry.users > 0) continue;
      entries.delete(name);
      await entry.model.then((model) => model.release(), () => {});
    }
  };

  return {
    async acquire(name) {
      let entry = entries.get(name);
      if (entry) entries.delete(name);
      else entry = { model: options.load(name), users: 0 };
      entries.set(name, entry);
      entry.users++;
      const current = entry;
      let model: StableDiffusionModel;
      try {
        model = await current.model;
      } catch (error) {
        current.users--;
        // A model that failed to load is tried again by the next job, not remembered as broken.
        if (entries.get(name) === current) entries.delete(name);
        throw error;
      }
      await evict();
      let released = false;
      return {
        model,
        release: () => {
          if (released) return;
          released = true;
          current.users--;
          void evict();
        },
      };
    },
    loadedNames: () => [...entries.keys()],
    async close() {
      const all = [...entries.values()];
      entries.clear();
      await Promise.all(all.map((entry) => entry.model.then((model) => model.release(), () => {})));
    },
  };
}

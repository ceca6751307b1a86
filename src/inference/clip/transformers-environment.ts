/**
 * The one place Atelier writes transformers.js' process-global `env`. Every load goes through
 * `configureTransformers` with options from Atelier's own configuration, so the library never
 * runs with its defaults (which download from the Hugging Face Hub on a cache miss).
 */
import { transformers } from "./transformers.ts";

const { env } = transformers;

export interface TransformersEnvironmentOptions {
  /**
   * Whether transformers.js may fetch missing files from the Hugging Face Hub. Off unless a caller
   * explicitly asks for a download. @default false
   */
  readonly allowRemoteModels?: boolean;
  /** Folder that model ids (`org/name`) resolve under; absolute folder paths do not use it. @default transformers.js' own */
  readonly localModelPath?: string;
  /** Where downloaded files are cached, when downloads are allowed. @default transformers.js' own */
  readonly cacheDir?: string;
}

/** Applies `options` to transformers.js' `env`; local files are always allowed. */
export function configureTransformers(options: TransformersEnvironmentOptions = {}): void {
  env.allowLocalModels = true;
  env.allowRemoteModels = options.allowRemoteModels ?? false;
  if (options.localModelPath !== undefined) env.localModelPath = options.localModelPath;
  if (options.cacheDir !== undefined) env.cacheDir = options.cacheDir;
}

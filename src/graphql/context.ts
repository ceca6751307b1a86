/**
 * What every resolver gets: the job platform, this request's loaders, and how to spell image URLs.
 * Made anew per HTTP request and per subscription operation, so loaders never serve stale rows.
 */
import type { JobPlatform } from "../jobs/job-platform.ts";
import { createLoaders, type Loaders } from "./loaders.ts";

export interface GraphQLContext {
  platform: JobPlatform;
  loaders: Loaders;
  /** Prefix of image URLs: ATELIER_PUBLIC_URL when set, else "" (URLs relative to the API's origin). */
  imageUrlBase: string;
}

export function createContext(platform: JobPlatform, imageUrlBase: string): GraphQLContext {
  return { platform, loaders: createLoaders(platform), imageUrlBase };
}

/**
 * preprocessor_config.json of a CLIP folder, read as transformers' CLIPImageProcessor reads it:
 * its defaults for missing keys, and `get_size_dict`'s conversions of the legacy forms
 * (`"size": 224` = shortest edge 224, `"crop_size": 224` = 224×224) that older exports such as
 * openai/clip-vit-base-patch32's still carry.
 */
import { PIL_RESAMPLE, type PilResample } from "./pil-resample.ts";

/** Target of the resize step: the shortest edge (aspect kept) or an exact size. */
export type ResizeTarget = { readonly shortestEdge: number } | { readonly height: number; readonly width: number };

export interface ClipImageProcessorConfig {
  readonly doResize: boolean;
  readonly size: ResizeTarget;
  readonly resample: PilResample;
  readonly doCenterCrop: boolean;
  readonly cropSize: { readonly height: number; readonly width: number };
  readonly doRescale: boolean;
  readonly rescaleFactor: number;
  readonly doNormalize: boolean;
  /** Per-channel mean and standard deviation (R, G, B). */
  readonly imageMean: readonly [number, number, number];
  readonly imageStd: readonly [number, number, number];
}

/** transformers' OPENAI_CLIP_MEAN / OPENAI_CLIP_STD, CLIPImageProcessor's defaults. */
const OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
const OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** Parses the file's JSON; an Error names the key, the value found and what is allowed. */
export function parseClipImageProcessorConfig(json: unknown): ClipImageProcessorConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new Error(`must be a JSON object, got ${describe(json)}`);
  const file = json as Record<string, unknown>;
  return Object.freeze({
    doResize: flag(file, "do_resize"),
    size: resizeTarget(file["size"] ?? { shortest_edge: 224 }),
    resample: resample(file["resample"] ?? PIL_RESAMPLE.BICUBIC),
    doCenterCrop: flag(file, "do_center_crop"),
    cropSize: cropSize(file["crop_size"] ?? 224),
    doRescale: flag(file, "do_rescale"),
    rescaleFactor: positiveNumber(file["rescale_factor"] ?? 1 / 255, "rescale_factor"),
    doNormalize: flag(file, "do_normalize"),
    imageMean: triple(file["image_mean"] ?? OPENAI_CLIP_MEAN, "image_mean"),
    imageStd: triple(file["image_std"] ?? OPENAI_CLIP_STD, "image_std"),
  });
}

/** A boolean switch; CLIPImageProcessor defaults every one of them to true. */
function flag(file: Record<string, unknown>, key: string): boolean {
  const value = file[key] ?? true;
  if (typeof value !== "boolean") throw new Error(`${key} must be true or false, got ${describe(value)}`);
  return value;
}

function resizeTarget(value: unknown): ResizeTarget {
  if (typeof value === "number") return { shortestEdge: size(value, "size") };
  const dict = sizeDict(value, "size");
  if (dict["shortest_edge"] !== undefined) return { shortestEdge: size(dict["shortest_edge"], "size.shortest_edge") };
  if (dict["height"] !== undefined && dict["width"] !== undefined) {
    return { height: size(dict["height"], "size.height"), width: size(dict["width"], "size.width") };
  }
  throw new Error(`size must have "shortest_edge" or "height" and "width", got ${describe(value)}`);
}

function cropSize(value: unknown): { height: number; width: number } {
  if (typeof value === "number") return { height: size(value, "crop_size"), width: size(value, "crop_size") };
  const dict = sizeDict(value, "crop_size");
  return { height: size(dict["height"], "crop_size.height"), width: size(dict["width"], "crop_size.width") };
}

function sizeDict(value: unknown, key: string): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new Error(`${key} must be a number or an object of sizes, got ${describe(value)}`);
}

function size(value: unknown, key: string): number {
  if (Number.isInteger(value) && (value as number) > 0) return value as number;
  throw new Error(`${key} must be a positive integer, got ${describe(value)}`);
}

function positiveNumber(value: unknown, key: string): number {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) return value;
  throw new Error(`${key} must be a positive number, got ${describe(value)}`);
}

function resample(value: unknown): PilResample {
  const allowed = Object.values(PIL_RESAMPLE) as number[];
  if (typeof value === "number" && allowed.includes(value)) return value as PilResample;
  const names = Object.entries(PIL_RESAMPLE).map(([name, code]) => `${code} (${name})`);
  throw new Error(`resample must be one of ${names.join(", ")}, got ${describe(value)}`);
}

function triple(value: unknown, key: string): readonly [number, number, number] {
  const list = typeof value === "number" ? [value, value, value] : value;
  if (Array.isArray(list) && list.length === 3 && list.every((v) => typeof v === "number" && Number.isFinite(v))) {
    return list as unknown as [number, number, number];
  }
  throw new Error(`${key} must be a number or a list of 3 numbers (R, G, B), got ${describe(value)}`);
}

function describe(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

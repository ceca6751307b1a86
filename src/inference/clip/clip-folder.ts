/**
 * A CLIP model folder in the layout transformers.js reads (Xenova/clip-vit-base-patch32): checks
 * that every file the scorer needs is there (one error lists all missing ones) and reads the
 * settings the scorer takes from its configs.
 */
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import { isDemoModelFolder } from "../../models/demo-marker.ts";
import { parseClipImageProcessorConfig, type ClipImageProcessorConfig } from "./image-processor-config.ts";

/** ONNX variants transformers.js picks by dtype, and the file-name suffix of each. */
export const CLIP_DTYPE_SUFFIXES = {
  fp32: "",
  fp16: "_fp16",
  q8: "_quantized",
  int8: "_int8",
  uint8: "_uint8",
  q4: "_q4",
  q4f16: "_q4f16",
  bnb4: "_bnb4",
} as const;
export type ClipModelDtype = keyof typeof CLIP_DTYPE_SUFFIXES;

/** What the scorer reads from a CLIP folder. */
export interface ClipFolder {
  /** Absolute path of the folder. */
  readonly path: string;
  /** The text model's position count (CLIPTextConfig.max_position_embeddings): the token budget of a prompt. */
  readonly maxTextLength: number;
  readonly imageProcessor: ClipImageProcessorConfig;
  /** Whether the folder is a generated random-weight demo model. */
  readonly isDemo: boolean;
}

/** The files the scorer loads for one dtype. */
export function requiredClipFiles(dtype: ClipModelDtype): string[] {
  const suffix = CLIP_DTYPE_SUFFIXES[dtype];
  return ["config.json", "tokenizer.json", "tokenizer_config.json", "preprocessor_config.json", `onnx/text_model${suffix}.onnx`, `onnx/vision_model${suffix}.onnx`];
}

/** Checks and reads the folder; throws one Error naming every missing or invalid file. */
export async function openClipFolder(folder: string, dtype: ClipModelDtype): Promise<ClipFolder> {
  if (!Object.hasOwn(CLIP_DTYPE_SUFFIXES, dtype)) {
    throw new Error(`dtype must be one of ${Object.keys(CLIP_DTYPE_SUFFIXES).join(", ")}, got ${JSON.stringify(dtype)}`);
  }
  const root = path.resolve(folder);
  const files = requiredClipFiles(dtype);
  const present = await Promise.all(files.map((file) => access(path.join(root, file)).then(() => true, () => false)));
  const missing = files.filter((_, index) => !present[index]);
  if (missing.length > 0) {
    throw new Error(`${root} is not a complete CLIP model folder (dtype ${dtype}): missing ${missing.join(", ")}`);
  }
  const config = await readJson(root, "config.json");
  const processorJson = await readJson(root, "preprocessor_config.json");
  const imageProcessor = parseFile("preprocessor_config.json", () => parseClipImageProcessorConfig(processorJson));
  checkImageSize(imageProcessor, config);
  return { path: root, maxTextLength: textLength(config), imageProcessor, isDemo: isDemoModelFolder(root) };
}

/** CLIPConfig defaults: 77 text positions, 224-pixel images. */
function textLength(config: Record<string, unknown>): number {
  const value = subConfig(config, "text_config")["max_position_embeddings"] ?? 77;
  if (Number.isInteger(value) && (value as number) >= 2) return value as number;
  throw new Error(`config.json: text_config.max_position_embeddings must be an integer ≥ 2, got ${JSON.stringify(value)}`);
}

/** The vision model only takes images of its own size: the crop must produce exactly that. */
function checkImageSize(processor: ClipImageProcessorConfig, config: Record<string, unknown>): void {
  const imageSize = subConfig(config, "vision_config")["image_size"] ?? 224;
  const { height, width } = processor.cropSize;
  if (processor.doCenterCrop && (height !== imageSize || width !== imageSize)) {
    throw new Error(`preprocessor_config.json crops to ${width}×${height}, but config.json's vision model takes ${imageSize}×${imageSize} images`);
  }
}

function subConfig(config: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = config[key] ?? {};
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new Error(`config.json: ${key} must be an object, got ${JSON.stringify(value)}`);
}

async function readJson(root: string, file: string): Promise<Record<string, unknown>> {
  const text = await readFile(path.join(root, file), "utf8");
  return parseFile(file, () => {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    throw new Error(`must be a JSON object, got ${JSON.stringify(value)}`);
  });
}

/** Runs a parser, prefixing its error with the file name. */
function parseFile<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

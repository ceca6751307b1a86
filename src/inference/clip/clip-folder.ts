/**
 * A CLIP model folder in the layout transformers.js reads (Xenova/clip-vit-base-patch32), or the
 * one `optimum-cli export onnx` writes: checks that every file the scorer needs is there (one
 * error lists all missing ones), picks the model files (split towers or the combined CLIPModel,
 * see clip-model-files.ts) and reads the settings the scorer takes from its configs.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { UserFacingError } from "../../errors.ts";
import { isDemoModelFolder } from "../../models/demo-marker.ts";
import { CLIP_DTYPE_SUFFIXES, findClipModelFiles, missingFiles, type ClipModelDtype, type ClipModelFiles } from "./clip-model-files.ts";
import { parseClipImageProcessorConfig, type ClipImageProcessorConfig } from "./image-processor-config.ts";

/** What the scorer reads from a CLIP folder. */
export interface ClipFolder {
  /** Absolute path of the folder. */
  readonly path: string;
  /** The ONNX files to run, relative to `path`. */
  readonly modelFiles: ClipModelFiles;
  /** The text model's position count (CLIPTextConfig.max_position_embeddings): the token budget of a prompt. */
  readonly maxTextLength: number;
  /** The side of the square images the vision model takes (CLIPVisionConfig.image_size). */
  readonly imageSize: number;
  readonly imageProcessor: ClipImageProcessorConfig;
  /** Whether the folder is a generated random-weight demo model. */
  readonly isDemo: boolean;
}

/** A CLIP folder the scorer cannot use (files missing, a config it cannot work with); the message names the folder. */
export class ClipFolderError extends UserFacingError {
  override readonly name = "ClipFolderError";
  constructor(
    readonly folder: string,
    message: string,
  ) {
    super(message);
  }
}

/** The files besides the model that every layout needs: configs and the tokenizer. */
export const CLIP_CONFIG_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", "preprocessor_config.json"] as const;

/** Checks and reads the folder; throws one ClipFolderError naming every missing file, or the first invalid one. */
export async function openClipFolder(folder: string, dtype: ClipModelDtype): Promise<ClipFolder> {
  if (!Object.hasOwn(CLIP_DTYPE_SUFFIXES, dtype)) {
    throw new Error(`dtype must be one of ${Object.keys(CLIP_DTYPE_SUFFIXES).join(", ")}, got ${JSON.stringify(dtype)}`);
  }
  const root = path.resolve(folder);
  const [missingConfigs, model] = await Promise.all([missingFiles(root, CLIP_CONFIG_FILES), findClipModelFiles(root, dtype)]);
  if (missingConfigs.length > 0 || "missing" in model) {
    const missing = [missingConfigs.join(", "), "missing" in model ? model.missing : ""].filter((part) => part !== "");
    throw new ClipFolderError(root, `${root} is not a complete CLIP model folder (dtype ${dtype}): missing ${missing.join("; ")}`);
  }
  const config = await readJson(root, "config.json");
  const processorJson = await readJson(root, "preprocessor_config.json");
  const imageProcessor = parseFile(root, "preprocessor_config.json", () => parseClipImageProcessorConfig(processorJson));
  const { maxTextLength, imageSize } = parseFile(root, "config.json", () => ({ maxTextLength: textLength(config), imageSize: visionImageSize(config) }));
  checkCropSize(root, imageProcessor, imageSize);
  return { path: root, modelFiles: model.found, maxTextLength, imageSize, imageProcessor, isDemo: isDemoModelFolder(root) };
}

/** CLIPTextConfig's default: 77 positions. */
function textLength(config: Record<string, unknown>): number {
  const value = subConfig(config, "text_config")["max_position_embeddings"] ?? 77;
  if (Number.isInteger(value) && (value as number) >= 2) return value as number;
  throw new Error(`text_config.max_position_embeddings must be an integer ≥ 2, got ${JSON.stringify(value)}`);
}

/** CLIPVisionConfig's default: 224-pixel images. */
function visionImageSize(config: Record<string, unknown>): number {
  const value = subConfig(config, "vision_config")["image_size"] ?? 224;
  if (Number.isInteger(value) && (value as number) >= 1) return value as number;
  throw new Error(`vision_config.image_size must be a positive integer, got ${JSON.stringify(value)}`);
}

/** The vision model only takes images of its own size: the crop must produce exactly that. */
function checkCropSize(root: string, processor: ClipImageProcessorConfig, imageSize: number): void {
  const { height, width } = processor.cropSize;
  if (processor.doCenterCrop && (height !== imageSize || width !== imageSize)) {
    throw new ClipFolderError(root, `${root}: preprocessor_config.json crops to ${width}×${height}, but config.json's vision model takes ${imageSize}×${imageSize} images`);
  }
}

function subConfig(config: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = config[key] ?? {};
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new Error(`${key} must be an object, got ${JSON.stringify(value)}`);
}

async function readJson(root: string, file: string): Promise<Record<string, unknown>> {
  const text = await readFile(path.join(root, file), "utf8");
  return parseFile(root, file, () => {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    throw new Error(`must be a JSON object, got ${JSON.stringify(value)}`);
  });
}

/** Runs a parser of `file`; its error becomes a ClipFolderError prefixed with the file's path. */
function parseFile<T>(root: string, file: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new ClipFolderError(root, `${path.join(root, file)}: ${(error as Error).message}`);
  }
}

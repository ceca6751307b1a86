/**
 * CLIP image–text scoring: `clipScore = 100 × cosine(image embedding, text embedding)`, the
 * number Atelier ranks a job's samples by. Loads a CLIP folder from local files only: the
 * tokenizer through transformers.js, the model as split towers (transformers.js' layout) or as
 * the combined CLIPModel export (optimum's), see clip-model-files.ts. Sessions are created once
 * per scorer and reused until `release()`. Images are preprocessed here exactly as transformers'
 * Python CLIPImageProcessor does it with PIL, so scores match PyTorch's.
 */
import type { PreTrainedTokenizer } from "@huggingface/transformers";
import type { RuntimeOptions } from "../ort/runtime.ts";
import type { RgbImage } from "../pipeline/decoded-image.ts";
import { ClipFolderError, openClipFolder, type ClipFolder } from "./clip-folder.ts";
import { preprocessImages, type PixelValues } from "./clip-image-processor.ts";
import type { ClipModelDtype } from "./clip-model-files.ts";
import { clipScore } from "./clip-score.ts";
import type { ClipTowers } from "./clip-towers.ts";
import { loadCombinedClipTowers } from "./combined-clip-towers.ts";
import { truncateKeepingEnd } from "./prompt-ids.ts";
import { loadSplitClipTowers } from "./split-clip-towers.ts";
import { configureTransformers, type TransformersEnvironmentOptions } from "./transformers-environment.ts";
import { transformers } from "./transformers.ts";

export interface ClipScorerOptions {
  /** Images per vision-model run. @default 8 */
  readonly batchSize?: number;
  /**
   * Which ONNX variant to load: "fp32" = onnx/text_model.onnx and onnx/vision_model.onnx (or the
   * combined onnx/model.onnx or model.onnx), "fp16" = the same names ending in _fp16, "q8" = in
   * _quantized, … @default "fp32"
   */
  readonly dtype?: ClipModelDtype;
  /** Execution providers and thread counts for the sessions. @default CPU, onnxruntime's thread choice */
  readonly runtime?: RuntimeOptions;
  /** transformers.js' global settings, applied before loading. @default local files only */
  readonly transformers?: TransformersEnvironmentOptions;
}

export interface ClipScorer {
  /** The loaded folder and what was read from it. */
  readonly folder: ClipFolder;
  /** The token ids the text model sees for a prompt: start, tokens, end, cut to the model's length keeping the end. */
  promptIds(prompt: string): number[];
  /**
   * The model's `text_embeds` for a prompt: projected; L2-normalized when the folder has only the
   * combined CLIPModel export (its graph normalizes), as computed from the split text model.
   */
  embedText(prompt: string): Promise<Float32Array>;
  /** The model's `image_embeds` for each image (projected; normalized as `embedText`'s), run in batches. */
  embedImages(images: readonly RgbImage[]): Promise<Float32Array[]>;
  /** 100 × cosine similarity of each image with the prompt (the prompt is embedded once). */
  score(prompt: string, images: readonly RgbImage[]): Promise<number[]>;
  /** Disposes the sessions; later calls throw. Safe to call twice. */
  release(): Promise<void>;
}

const DEFAULT_BATCH_SIZE = 8;

/**
 * Loads the CLIP folder at `folderPath` (checked first: one ClipFolderError lists every missing
 * file) and creates its sessions, in parallel. Nothing is downloaded unless
 * `options.transformers` allows it.
 */
export async function loadClipScorer(folderPath: string, options: ClipScorerOptions = {}): Promise<ClipScorer> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  const dtype = options.dtype ?? "fp32";
  const folder = await openClipFolder(folderPath, dtype);
  configureTransformers(options.transformers);
  const [tokenizer, towers] = await Promise.all([
    transformers.AutoTokenizer.from_pretrained(folder.path, { local_files_only: true }),
    loadTowers(folder, dtype, options.runtime ?? {}),
  ]);
  return new LoadedClipScorer(folder, tokenizer, towers, batchSize);
}

function loadTowers(folder: ClipFolder, dtype: ClipModelDtype, runtime: RuntimeOptions): Promise<ClipTowers> {
  const files = folder.modelFiles;
  return files.layout === "split" ? loadSplitClipTowers(folder.path, dtype, runtime) : loadCombinedClipTowers(folder, files.model, runtime);
}

class LoadedClipScorer implements ClipScorer {
  #released: Promise<void> | undefined;

  constructor(
    readonly folder: ClipFolder,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly towers: ClipTowers,
    private readonly batchSize: number,
  ) {}

  promptIds(prompt: string): number[] {
    return truncateKeepingEnd(this.tokenizer.encode(prompt), this.folder.maxTextLength, this.endOfTextId());
  }

  async embedText(prompt: string): Promise<Float32Array> {
    return (await this.embed(prompt, [])).text;
  }

  async embedImages(images: readonly RgbImage[]): Promise<Float32Array[]> {
    this.checkLive();
    return (await this.towers.embed(undefined, this.pixelBatches(images))).images;
  }

  async score(prompt: string, images: readonly RgbImage[]): Promise<number[]> {
    const { text, images: embeddings } = await this.embed(prompt, images);
    return embeddings.map((image) => clipScore(text, image));
  }

  release(): Promise<void> {
    this.#released ??= this.towers.release();
    return this.#released;
  }

  /** The prompt's embedding and the images', from one pass over the image batches. */
  private async embed(prompt: string, images: readonly RgbImage[]): Promise<{ text: Float32Array; images: Float32Array[] }> {
    this.checkLive();
    const embeddings = await this.towers.embed(this.promptIds(prompt), this.pixelBatches(images));
    return { text: embeddings.text!, images: embeddings.images };
  }

  /** The images' model inputs, `batchSize` at a time, preprocessed only when the towers reach them. */
  private *pixelBatches(images: readonly RgbImage[]): Generator<PixelValues> {
    for (let start = 0; start < images.length; start += this.batchSize) {
      yield preprocessImages(images.slice(start, start + this.batchSize), this.folder.imageProcessor);
    }
  }

  private checkLive(): void {
    if (this.#released) throw new Error(`the CLIP scorer for ${this.folder.path} was released`);
  }

  private endOfTextId(): number {
    const id: number | null | undefined = this.tokenizer.eos_token_id;
    if (id === undefined || id === null) throw new ClipFolderError(this.folder.path, `${this.folder.path}: the tokenizer defines no eos_token (tokenizer_config.json)`);
    return id;
  }
}

/**
 * CLIP image–text scoring: `clipScore = 100 × cosine(image embedding, text embedding)`, the
 * number Atelier ranks a job's samples by. Loads a CLIP folder in the transformers.js layout
 * (tokenizer, CLIPTextModelWithProjection, CLIPVisionModelWithProjection) from local files only;
 * sessions are created once per scorer and reused until `release()`. Images are preprocessed here
 * exactly as transformers' Python CLIPImageProcessor does it with PIL, so scores match PyTorch's.
 */
import {
  AutoTokenizer,
  CLIPTextModelWithProjection,
  CLIPVisionModelWithProjection,
  Tensor,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from "@huggingface/transformers";
import { halfToFloat32 } from "../float16.ts";
import type { RuntimeOptions } from "../ort/runtime.ts";
import type { RgbImage } from "../pipeline/decoded-image.ts";
import { openClipFolder, type ClipFolder, type ClipModelDtype } from "./clip-folder.ts";
import { preprocessImages } from "./clip-image-processor.ts";
import { clipScore } from "./clip-score.ts";
import { truncateKeepingEnd } from "./prompt-ids.ts";
import { configureTransformers, type TransformersEnvironmentOptions } from "./transformers-environment.ts";

export interface ClipScorerOptions {
  /** Images per vision-model run. @default 8 */
  readonly batchSize?: number;
  /** Which ONNX variant to load: "fp32" = onnx/*_model.onnx, "fp16" = *_fp16.onnx, "q8" = *_quantized.onnx, … @default "fp32" */
  readonly dtype?: ClipModelDtype;
  /** Execution providers and thread counts for both sessions. @default CPU, onnxruntime's thread choice */
  readonly runtime?: RuntimeOptions;
  /** transformers.js' global settings, applied before loading. @default local files only */
  readonly transformers?: TransformersEnvironmentOptions;
}

export interface ClipScorer {
  /** The loaded folder and what was read from it. */
  readonly folder: ClipFolder;
  /** The token ids the text model sees for a prompt: start, tokens, end, cut to the model's length keeping the end. */
  promptIds(prompt: string): number[];
  /** The text model's `text_embeds` for a prompt (projected, not normalized). */
  embedText(prompt: string): Promise<Float32Array>;
  /** The vision model's `image_embeds` for each image (projected, not normalized), run in batches. */
  embedImages(images: readonly RgbImage[]): Promise<Float32Array[]>;
  /** 100 × cosine similarity of each image with the prompt (the prompt is embedded once). */
  score(prompt: string, images: readonly RgbImage[]): Promise<number[]>;
  /** Disposes both sessions; later calls throw. Safe to call twice. */
  release(): Promise<void>;
}

const DEFAULT_BATCH_SIZE = 8;

/**
 * Loads the CLIP folder at `folderPath` (checked first: one error lists every missing file) and
 * creates its two sessions, in parallel. Nothing is downloaded unless `options.transformers`
 * allows it.
 */
export async function loadClipScorer(folderPath: string, options: ClipScorerOptions = {}): Promise<ClipScorer> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  const folder = await openClipFolder(folderPath, options.dtype ?? "fp32");
  configureTransformers(options.transformers);
  const modelOptions = pretrainedOptions(options);
  const [tokenizer, textModel, visionModel] = await Promise.all([
    AutoTokenizer.from_pretrained(folder.path, { local_files_only: true }),
    CLIPTextModelWithProjection.from_pretrained(folder.path, modelOptions),
    CLIPVisionModelWithProjection.from_pretrained(folder.path, modelOptions),
  ]);
  return new LoadedClipScorer(folder, tokenizer, textModel, visionModel, batchSize);
}

/** from_pretrained options: the dtype's file, local files only, Atelier's runtime settings. */
function pretrainedOptions(options: ClipScorerOptions): Parameters<typeof CLIPTextModelWithProjection.from_pretrained>[1] {
  const runtime = options.runtime ?? {};
  return {
    dtype: options.dtype ?? "fp32",
    local_files_only: true,
    session_options: {
      executionProviders: [...(runtime.executionProviders ?? ["cpu"])],
      intraOpNumThreads: runtime.intraOpThreads ?? 0,
      interOpNumThreads: runtime.interOpThreads ?? 0,
      graphOptimizationLevel: "all",
    },
  };
}

class LoadedClipScorer implements ClipScorer {
  #released: Promise<void> | undefined;

  constructor(
    readonly folder: ClipFolder,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly textModel: PreTrainedModel,
    private readonly visionModel: PreTrainedModel,
    private readonly batchSize: number,
  ) {}

  promptIds(prompt: string): number[] {
    return truncateKeepingEnd(this.tokenizer.encode(prompt), this.folder.maxTextLength, this.endOfTextId());
  }

  async embedText(prompt: string): Promise<Float32Array> {
    this.checkLive();
    const ids = this.promptIds(prompt);
    const shape = [1, ids.length];
    const inputIds = new Tensor("int64", BigInt64Array.from(ids, BigInt), shape);
    const attentionMask = new Tensor("int64", new BigInt64Array(ids.length).fill(1n), shape);
    const outputs = (await this.textModel({ input_ids: inputIds, attention_mask: attentionMask })) as Record<string, Tensor>;
    return rows(outputs, "text_embeds")[0]!;
  }

  async embedImages(images: readonly RgbImage[]): Promise<Float32Array[]> {
    this.checkLive();
    const embeddings: Float32Array[] = [];
    for (let start = 0; start < images.length; start += this.batchSize) {
      const pixels = preprocessImages(images.slice(start, start + this.batchSize), this.folder.imageProcessor);
      const outputs = (await this.visionModel({ pixel_values: new Tensor("float32", pixels.data, [...pixels.dims]) })) as Record<string, Tensor>;
      embeddings.push(...rows(outputs, "image_embeds"));
    }
    return embeddings;
  }

  async score(prompt: string, images: readonly RgbImage[]): Promise<number[]> {
    const text = await this.embedText(prompt);
    const embeddings = await this.embedImages(images);
    return embeddings.map((image) => clipScore(text, image));
  }

  release(): Promise<void> {
    this.#released ??= Promise.all([this.textModel.dispose(), this.visionModel.dispose()]).then(() => undefined);
    return this.#released;
  }

  private checkLive(): void {
    if (this.#released) throw new Error(`the CLIP scorer for ${this.folder.path} was released`);
  }

  private endOfTextId(): number {
    const id: number | null | undefined = this.tokenizer.eos_token_id;
    if (id === undefined || id === null) throw new Error(`${this.folder.path}: the tokenizer defines no eos_token (tokenizer_config.json)`);
    return id;
  }
}

/** The rows of a [batch, dim] output as float32 arrays (fp16 exports return half-precision bits). */
function rows(outputs: Record<string, Tensor>, name: string): Float32Array[] {
  const tensor = outputs[name];
  if (tensor === undefined) throw new Error(`the model returned no ${name} (outputs: ${Object.keys(outputs).join(", ")})`);
  const values = tensor.type === "float16" ? halfToFloat32(tensor.data as Uint16Array) : Float32Array.from(tensor.data as Float32Array);
  const [batch, width] = tensor.dims as [number, number];
  return Array.from({ length: batch }, (_, row) => values.slice(row * width, (row + 1) * width));
}

/**
 * ClipTowers on the split exports transformers.js' conversion writes: onnx/text_model*.onnx
 * (CLIPTextModelWithProjection) and onnx/vision_model*.onnx (CLIPVisionModelWithProjection),
 * loaded through transformers.js, which picks the files by dtype. A request runs the text model
 * once for the ids and the vision model once per pixel batch.
 */
import type { PreTrainedModel } from "@huggingface/transformers";
import { halfToFloat32 } from "../float16.ts";
import type { RuntimeOptions } from "../ort/runtime.ts";
import type { PixelValues } from "./clip-image-processor.ts";
import type { ClipModelDtype } from "./clip-model-files.ts";
import { embeddingRows, type ClipEmbeddings, type ClipTowers } from "./clip-towers.ts";
import { transformers } from "./transformers.ts";

const { CLIPTextModelWithProjection, CLIPVisionModelWithProjection, Tensor } = transformers;
type Tensor = InstanceType<typeof Tensor>;

/** Loads both towers of `dtype` from `folder` (local files only), in parallel. */
export async function loadSplitClipTowers(folder: string, dtype: ClipModelDtype, runtime: RuntimeOptions): Promise<ClipTowers> {
  const options = pretrainedOptions(dtype, runtime);
  const [textModel, visionModel] = await Promise.all([
    CLIPTextModelWithProjection.from_pretrained(folder, options),
    CLIPVisionModelWithProjection.from_pretrained(folder, options),
  ]);
  return new SplitClipTowers(textModel, visionModel);
}

/** from_pretrained options: the dtype's file, local files only, Atelier's runtime settings. */
function pretrainedOptions(dtype: ClipModelDtype, runtime: RuntimeOptions): Parameters<typeof CLIPTextModelWithProjection.from_pretrained>[1] {
  return {
    dtype,
    local_files_only: true,
    session_options: {
      executionProviders: [...(runtime.executionProviders ?? ["cpu"])],
      intraOpNumThreads: runtime.intraOpThreads ?? 0,
      interOpNumThreads: runtime.interOpThreads ?? 0,
      graphOptimizationLevel: "all",
    },
  };
}

class SplitClipTowers implements ClipTowers {
  constructor(
    private readonly textModel: PreTrainedModel,
    private readonly visionModel: PreTrainedModel,
  ) {}

  async embed(ids: readonly number[] | undefined, pixelBatches: Iterable<PixelValues>): Promise<ClipEmbeddings> {
    const text = ids === undefined ? undefined : await this.embedIds(ids);
    const images: Float32Array[] = [];
    for (const pixels of pixelBatches) images.push(...(await this.embedPixels(pixels)));
    return { text, images };
  }

  release(): Promise<void> {
    return Promise.all([this.textModel.dispose(), this.visionModel.dispose()]).then(() => undefined);
  }

  private async embedIds(ids: readonly number[]): Promise<Float32Array> {
    const shape = [1, ids.length];
    const inputIds = new Tensor("int64", BigInt64Array.from(ids, BigInt), shape);
    const attentionMask = new Tensor("int64", new BigInt64Array(ids.length).fill(1n), shape);
    const outputs = (await this.textModel({ input_ids: inputIds, attention_mask: attentionMask })) as Record<string, Tensor>;
    return rows(outputs, "text_embeds")[0]!;
  }

  private async embedPixels(pixels: PixelValues): Promise<Float32Array[]> {
    const outputs = (await this.visionModel({ pixel_values: new Tensor("float32", pixels.data, [...pixels.dims]) })) as Record<string, Tensor>;
    return rows(outputs, "image_embeds");
  }
}

/** The rows of a [batch, dim] output as float32 arrays (fp16 exports return half-precision bits). */
function rows(outputs: Record<string, Tensor>, name: string): Float32Array[] {
  const tensor = outputs[name];
  if (tensor === undefined) throw new Error(`the model returned no ${name} (outputs: ${Object.keys(outputs).join(", ")})`);
  const values = tensor.type === "float16" ? halfToFloat32(tensor.data as Uint16Array) : (tensor.data as Float32Array);
  return embeddingRows(values, tensor.dims, name);
}

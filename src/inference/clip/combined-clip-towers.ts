/**
 * ClipTowers on the combined CLIPModel export (optimum's CLIPOnnxConfig: inputs input_ids,
 * pixel_values, attention_mask; outputs logits_per_image, logits_per_text, text_embeds,
 * image_embeds), run through Atelier's onnxruntime session, which feeds each input in the dtype
 * the file declares (int32 or int64 ids, float16 pixels of an fp16 export). The graph always
 * computes both halves, so a request runs it once per pixel batch with the prompt's ids beside
 * the pixels; the half nobody asked for gets a filler input and is discarded.
 */
import path from "node:path";
import { createModelSession, type HostTensor, type ModelSession, type RuntimeOptions } from "../ort/runtime.ts";
import { ClipFolderError, type ClipFolder } from "./clip-folder.ts";
import type { PixelValues } from "./clip-image-processor.ts";
import { embeddingRows, type ClipEmbeddings, type ClipTowers } from "./clip-towers.ts";

const REQUIRED_INPUTS = ["input_ids", "pixel_values"];
/** Fed as ones when the export declares it (optimum's does; CLIP's text tower ignores padding anyway). */
const OPTIONAL_INPUTS = ["attention_mask"];
const REQUIRED_OUTPUTS = ["text_embeds", "image_embeds"];
/** Ids fed when only images are embedded: any id in the vocabulary does, the text half is discarded. */
const FILLER_IDS: readonly number[] = [0];

/** Opens `file` (relative to the folder) and checks that it is a CLIPModel export Atelier can feed. */
export async function loadCombinedClipTowers(folder: ClipFolder, file: string, runtime: RuntimeOptions): Promise<ClipTowers> {
  const session = await createModelSession(path.join(folder.path, file), runtime);
  const problem = signatureProblem(session);
  if (problem !== undefined) {
    await session.release();
    throw new ClipFolderError(folder.path, `${session.path} is not a CLIPModel export: ${problem}`);
  }
  return new CombinedClipTowers(session, folder.imageSize);
}

/** What the session lacks or has beyond what Atelier feeds and reads, or undefined when it fits. */
function signatureProblem(session: ModelSession): string | undefined {
  const inputs = [...session.inputs.keys()];
  const outputs = [...session.outputs.keys()];
  const fits =
    REQUIRED_INPUTS.every((name) => session.inputs.has(name)) &&
    inputs.every((name) => REQUIRED_INPUTS.includes(name) || OPTIONAL_INPUTS.includes(name)) &&
    REQUIRED_OUTPUTS.every((name) => session.outputs.has(name));
  if (fits) return undefined;
  return (
    `it has inputs ${inputs.join(", ")} and outputs ${outputs.join(", ")}; ` +
    `Atelier needs inputs ${REQUIRED_INPUTS.join(" and ")} (and optionally ${OPTIONAL_INPUTS.join(", ")}), outputs ${REQUIRED_OUTPUTS.join(" and ")}`
  );
}

class CombinedClipTowers implements ClipTowers {
  constructor(
    private readonly session: ModelSession,
    private readonly imageSize: number,
  ) {}

  async embed(ids: readonly number[] | undefined, pixelBatches: Iterable<PixelValues>): Promise<ClipEmbeddings> {
    let text: Float32Array | undefined;
    const images: Float32Array[] = [];
    for (const pixels of pixelBatches) {
      const batch = await this.run(ids ?? FILLER_IDS, pixels);
      text ??= batch.text;
      images.push(...batch.images);
    }
    if (ids === undefined) return { text: undefined, images };
    return { text: text ?? (await this.run(ids, this.blankImage())).text, images };
  }

  release(): Promise<void> {
    return this.session.release();
  }

  /** One run: the prompt as a batch of one text beside a batch of images. */
  private async run(ids: readonly number[], pixels: PixelValues): Promise<{ text: Float32Array; images: Float32Array[] }> {
    const idDims = [1, ids.length];
    const feeds: Record<string, HostTensor> = { input_ids: { data: Int32Array.from(ids), dims: idDims }, pixel_values: pixels };
    if (this.session.inputs.has("attention_mask")) feeds["attention_mask"] = { data: new Int32Array(ids.length).fill(1), dims: idDims };
    const outputs = await this.session.run(feeds, REQUIRED_OUTPUTS);
    const rows = (name: string) => embeddingRows(outputs[name]!.data, outputs[name]!.dims, name);
    return { text: rows("text_embeds")[0]!, images: rows("image_embeds") };
  }

  /** All-zero pixel values of the vision model's size, for a run that only wants the text half. */
  private blankImage(): PixelValues {
    const size = this.imageSize;
    return { data: new Float32Array(3 * size * size), dims: [1, 3, size, size] };
  }
}

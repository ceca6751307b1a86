/**
 * Which ONNX files of a CLIP folder the scorer runs, for a dtype. The same weights come in two
 * layouts: the split towers transformers.js' conversion writes (onnx/text_model.onnx =
 * CLIPTextModelWithProjection, onnx/vision_model.onnx = CLIPVisionModelWithProjection), and the
 * combined CLIPModel export alone: onnx/model.onnx in transformers.js folders, or model.onnx at
 * the folder root, where `optimum-cli export onnx` writes it (optimum names a transformers
 * model's only export "model" and saves it as "<name>.onnx" in the output folder:
 * exporters/onnx/convert.py, onnx_export_from_model, in 1.23.3 and 1.24.0). The split towers are
 * preferred when present: each of their runs computes only the half it is asked for.
 */
import { access } from "node:fs/promises";
import path from "node:path";

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

/** One layout's model files, as paths relative to the folder. */
export type ClipModelFiles =
  | { readonly layout: "split"; readonly textModel: string; readonly visionModel: string }
  | { readonly layout: "combined"; readonly model: string };

/** The layouts a folder may have for `dtype`, in order of preference. */
export function clipModelLayouts(dtype: ClipModelDtype): ClipModelFiles[] {
  const suffix = CLIP_DTYPE_SUFFIXES[dtype];
  return [
    { layout: "split", textModel: `onnx/text_model${suffix}.onnx`, visionModel: `onnx/vision_model${suffix}.onnx` },
    { layout: "combined", model: `onnx/model${suffix}.onnx` },
    { layout: "combined", model: `model${suffix}.onnx` },
  ];
}

/**
 * The first layout of `dtype` whose files are all in `root`; when there is none, what is missing
 * as one phrase naming every layout ("onnx/text_model.onnx and onnx/vision_model.onnx, or
 * onnx/model.onnx, or model.onnx"; a split tower already present is not named).
 */
export async function findClipModelFiles(root: string, dtype: ClipModelDtype): Promise<{ found: ClipModelFiles } | { missing: string }> {
  const layouts = clipModelLayouts(dtype);
  const missingPerLayout = await Promise.all(layouts.map((layout) => missingFiles(root, filesOf(layout))));
  const complete = missingPerLayout.findIndex((missing) => missing.length === 0);
  if (complete !== -1) return { found: layouts[complete]! };
  return { missing: missingPerLayout.map((missing) => missing.join(" and ")).join(", or ") };
}

/** The files of `files` that are not in `root`, in the same order. */
export async function missingFiles(root: string, files: readonly string[]): Promise<string[]> {
  const present = await Promise.all(files.map((file) => access(path.join(root, file)).then(() => true, () => false)));
  return files.filter((_, index) => !present[index]);
}

function filesOf(files: ClipModelFiles): string[] {
  return files.layout === "split" ? [files.textModel, files.visionModel] : [files.model];
}

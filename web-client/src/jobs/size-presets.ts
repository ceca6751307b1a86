/**
 * The image sizes the Create view offers for a model: square, portrait 2:3, landscape 3:2 and a
 * large square, from the model's default size, each a multiple of its size step.
 */
import type { ModelsQuery } from "../generated/graphql.ts";

export type ModelInfo = ModelsQuery["models"][number];

export interface SizePreset {
  id: string;
  label: string;
  width: number;
  height: number;
}

export function sizePresets(model: ModelInfo): SizePreset[] {
  const side = Math.min(model.defaultWidth, model.defaultHeight);
  const snap = (pixels: number) => Math.max(model.sizeStep, Math.round(pixels / model.sizeStep) * model.sizeStep);
  const presets: SizePreset[] = [
    { id: "square", label: "Square", width: side, height: side },
    { id: "portrait", label: "Portrait", width: side, height: snap(side * 1.5) },
    { id: "landscape", label: "Landscape", width: snap(side * 1.5), height: side },
    { id: "large", label: "Large", width: snap(side * 2), height: snap(side * 2) },
  ];
  // A model whose default is none of these offers its own first.
  if (!presets.some((preset) => preset.width === model.defaultWidth && preset.height === model.defaultHeight)) {
    presets.unshift({ id: "default", label: "Default", width: model.defaultWidth, height: model.defaultHeight });
  }
  return presets;
}

/** The preset a model starts on: its default size. */
export function defaultPreset(model: ModelInfo): SizePreset {
  return sizePresets(model).find((preset) => preset.width === model.defaultWidth && preset.height === model.defaultHeight)!;
}

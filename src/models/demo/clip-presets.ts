/**
 * Sizes of the demo CLIP models: OpenAI CLIP's structure (224-pixel input, quick_gelu, text and
 * vision towers of different widths joined by projections) with small widths and depths.
 * `tiny`: scoring 4 images takes milliseconds; `small`: heavy enough for benchmarks
 * (ViT-B/16's patch grid). Text and vision widths differ from the projection width on purpose,
 * so a mixed-up axis fails loudly instead of passing by coincidence.
 */
import type { ClipTextConfig } from "./components/clip-text.ts";
import type { ClipVisionConfig } from "./components/clip-vision.ts";
import type { DemoPreset } from "./presets.ts";

export interface DemoClipSizes {
  /** Text tower shape; vocabSize and eosTokenId come from the tokenizer. */
  readonly text: Omit<ClipTextConfig, "vocabSize" | "eosTokenId">;
  readonly vision: ClipVisionConfig;
  readonly projectionDim: number;
  /** CLIPConfig.logit_scale_init_value: ln(1 / 0.07), the value CLIP training starts from. */
  readonly logitScaleInitValue: number;
}

const TEXT_COMMON = { maxPositionEmbeddings: 77, layerNormEps: 1e-5, hiddenAct: "quick_gelu" } as const;
const VISION_COMMON = { imageSize: 224, numChannels: 3, layerNormEps: 1e-5, hiddenAct: "quick_gelu" } as const;

export const DEMO_CLIP_SIZES: Readonly<Record<DemoPreset, DemoClipSizes>> = {
  tiny: {
    text: { ...TEXT_COMMON, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2, numAttentionHeads: 2 },
    vision: { ...VISION_COMMON, patchSize: 32, hiddenSize: 48, intermediateSize: 96, numHiddenLayers: 2, numAttentionHeads: 2 },
    projectionDim: 40,
    logitScaleInitValue: 2.6592,
  },
  small: {
    text: { ...TEXT_COMMON, hiddenSize: 128, intermediateSize: 512, numHiddenLayers: 4, numAttentionHeads: 4 },
    vision: { ...VISION_COMMON, patchSize: 16, hiddenSize: 192, intermediateSize: 768, numHiddenLayers: 4, numAttentionHeads: 4 },
    projectionDim: 128,
    logitScaleInitValue: 2.6592,
  },
};

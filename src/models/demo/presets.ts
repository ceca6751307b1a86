/**
 * Sizes of the demo Stable Diffusion models. `tiny` and `small` keep SD's structure (4 latent
 * channels, VAE scale factor 8 from 4 VAE blocks, every UNet block type) and shrink widths and
 * depths. `tiny`: a 4-sample, 20-step 64×64 job runs in seconds on 2 CPU cores (SD 1.x flavour:
 * conv projections, quick_gelu text encoder). `small`: heavy enough that onnxruntime time
 * dominates a benchmark (SD 2.x flavour: linear projections, per-block heads, gelu).
 * `sd15`: Stable Diffusion 1.5 at full size, every shape of runwayml/stable-diffusion-v1-5's
 * unet, vae and text_encoder configs (CLIP ViT-L/14's text tower, CLIP's own 49,408-token
 * vocabulary), with random weights: 1.07 G parameters, made on demand only.
 */
import type { AutoencoderKLConfig } from "./components/autoencoder-kl.ts";
import type { ClipTextConfig } from "./components/clip-text.ts";
import type { UNet2DConditionConfig } from "./components/unet.ts";

/** Presets every demo model family has (Stable Diffusion and CLIP). */
export type DemoPreset = "tiny" | "small";
export const DEMO_PRESETS: readonly DemoPreset[] = ["tiny", "small"];
/** Stable Diffusion presets: the shared ones and the full-size one. */
export type StableDiffusionPreset = DemoPreset | "sd15";
export const STABLE_DIFFUSION_PRESETS: readonly StableDiffusionPreset[] = [...DEMO_PRESETS, "sd15"];

/**
 * Merge budget of the demo tokenizer (vocabulary = 512 byte tokens + merges + 2). Learning
 * stops earlier, at 933 merges, when every word of the built-in list is a single token.
 */
export const DEMO_BPE_MERGES = 1000;

export interface DemoModelSizes {
  /** Text encoder shape; vocabSize is filled in from the tokenizer. */
  readonly text: Omit<ClipTextConfig, "vocabSize">;
  readonly unet: UNet2DConditionConfig;
  readonly vae: AutoencoderKLConfig;
  /** "demo": the small BPE learned from a word list; "openai-clip": CLIP's own merges, as real SD 1.x ships. */
  readonly vocabulary: "demo" | "openai-clip";
  /**
   * Whether unet/model.onnx keeps its weights in unet/model.onnx_data, as optimum writes any graph
   * over protobuf's 2 GB limit (SD 1.5's fp32 UNet is 3.4 GB). sd15 does so in fp16 too (1.7 GB),
   * so that no dtype needs the whole UNet encoded in one protobuf message in memory.
   */
  readonly externalUnetWeights: boolean;
}

const SD_UNET_COMMON = {
  in_channels: 4,
  out_channels: 4,
  flip_sin_to_cos: true,
  freq_shift: 0,
  downsample_padding: 1,
  mid_block_scale_factor: 1,
  norm_eps: 1e-5,
  upcast_attention: false,
} as const;

const SD_VAE_COMMON = { in_channels: 3, out_channels: 3, latent_channels: 4, scaling_factor: 0.18215 } as const;

const SD_TEXT_COMMON = { maxPositionEmbeddings: 77, layerNormEps: 1e-5, eosTokenId: 2 } as const;

export const DEMO_SIZES: Readonly<Record<StableDiffusionPreset, DemoModelSizes>> = {
  tiny: {
    vocabulary: "demo",
    externalUnetWeights: false,
    text: { ...SD_TEXT_COMMON, hiddenSize: 32, intermediateSize: 128, numHiddenLayers: 2, numAttentionHeads: 2, hiddenAct: "quick_gelu" },
    unet: {
      ...SD_UNET_COMMON,
      sample_size: 8,
      down_block_types: ["CrossAttnDownBlock2D", "DownBlock2D"],
      up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D"],
      block_out_channels: [32, 64],
      layers_per_block: 1,
      norm_num_groups: 8,
      cross_attention_dim: 32,
      attention_head_dim: 2,
      use_linear_projection: false,
    },
    vae: { ...SD_VAE_COMMON, block_out_channels: [16, 32, 32, 32], layers_per_block: 1, norm_num_groups: 8, sample_size: 64 },
  },
  small: {
    vocabulary: "demo",
    externalUnetWeights: false,
    text: { ...SD_TEXT_COMMON, hiddenSize: 128, intermediateSize: 512, numHiddenLayers: 4, numAttentionHeads: 4, hiddenAct: "gelu" },
    unet: {
      ...SD_UNET_COMMON,
      sample_size: 16,
      down_block_types: ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
      up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
      block_out_channels: [64, 128, 256, 256],
      layers_per_block: 2,
      norm_num_groups: 32,
      cross_attention_dim: 128,
      attention_head_dim: [2, 4, 8, 8],
      use_linear_projection: true,
    },
    vae: { ...SD_VAE_COMMON, block_out_channels: [32, 64, 128, 128], layers_per_block: 2, norm_num_groups: 16, sample_size: 128 },
  },
  // runwayml/stable-diffusion-v1-5: unet/config.json, vae/config.json, text_encoder/config.json.
  sd15: {
    vocabulary: "openai-clip",
    externalUnetWeights: true,
    text: { ...SD_TEXT_COMMON, hiddenSize: 768, intermediateSize: 3072, numHiddenLayers: 12, numAttentionHeads: 12, hiddenAct: "quick_gelu" },
    unet: {
      ...SD_UNET_COMMON,
      sample_size: 64,
      down_block_types: ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
      up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
      block_out_channels: [320, 640, 1280, 1280],
      layers_per_block: 2,
      norm_num_groups: 32,
      cross_attention_dim: 768,
      attention_head_dim: 8,
      use_linear_projection: false,
    },
    vae: { ...SD_VAE_COMMON, block_out_channels: [128, 256, 512, 512], layers_per_block: 2, norm_num_groups: 32, sample_size: 512 },
  },
};

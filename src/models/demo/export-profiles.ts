/**
 * What each Stable Diffusion ONNX exporter generation writes: opset, input dtypes, dynamic
 * dimension names, the VAE encoder's output, and the folder layout. Sources: optimum's
 * optimum/exporters/onnx/model_configs.py at tags v1.23.3 and v1.24.0, the same file in
 * huggingface/optimum-onnx, and diffusers' scripts/convert_stable_diffusion_checkpoint_to_onnx.py.
 */
import type { Dim } from "./onnx/graph-builder.ts";

export type ExporterGeneration = "optimum-1.23" | "optimum-1.24" | "optimum-onnx" | "diffusers-script";
export const EXPORTER_GENERATIONS: readonly ExporterGeneration[] = ["optimum-1.23", "optimum-1.24", "optimum-onnx", "diffusers-script"];
/** The layout of SD 1.5 exports most found on the Hub (int32 ids, int64 timestep). */
export const DEFAULT_EXPORTER: ExporterGeneration = "optimum-1.23";

/** Symbolic names of the batch and spatial dims of an image-like tensor. */
interface ProfileDims {
  readonly batch: string;
  readonly height: string;
  readonly width: string;
}

export interface ExportProfile {
  readonly opset: 14 | 18;
  readonly inputIdsType: "int32" | "int64";
  /** "float" = the export's float type (torch.randn(…).to(dtype) / optimum float_dtype). */
  readonly timestepType: "int64" | "float";
  /** Dims of the UNet `timestep` input: [] for a scalar. */
  readonly timestepDims: readonly Dim[];
  /** Symbolic names of text encoder dims. */
  readonly text: { readonly batch: string; readonly sequence: string };
  /** UNet sample / out_sample dims and the encoder_hidden_states sequence dim. */
  readonly unet: ProfileDims & { readonly sequence: string; readonly channels?: string };
  readonly vaeEncoder: { readonly input: ProfileDims & { readonly channels?: string }; readonly output: ProfileDims };
  readonly vaeDecoder: { readonly input: ProfileDims & { readonly channels?: string }; readonly output: ProfileDims };
  /** latent_parameters = mean ‖ logvar (optimum ≥ 1.23); latent_sample = a draw from it (older). */
  readonly vaeEncoderOutput: "latent_parameters" | "latent_sample";
  /**
   * "optimum": StableDiffusionPipeline model_index, component config.json files.
   * "diffusers-onnx": OnnxStableDiffusionPipeline model_index, no component configs, UNet
   * weights in unet/weights.pb.
   */
  readonly layout: "optimum" | "diffusers-onnx";
}

const OPTIMUM_TEXT = { batch: "batch_size", sequence: "sequence_length" } as const;
const OPTIMUM_UNET = { batch: "batch_size", height: "height", width: "width", sequence: "sequence_length" } as const;
const OPTIMUM_VAE = {
  vaeEncoder: {
    input: { batch: "batch_size", height: "height", width: "width" },
    output: { batch: "batch_size", height: "height_latent", width: "width_latent" },
  },
  vaeDecoder: {
    input: { batch: "batch_size", height: "height_latent", width: "width_latent" },
    output: { batch: "batch_size", height: "height", width: "width" },
  },
} as const;

const OPTIMUM_1_23: ExportProfile = {
  opset: 14,
  inputIdsType: "int32",
  timestepType: "int64",
  timestepDims: ["steps"],
  text: OPTIMUM_TEXT,
  unet: OPTIMUM_UNET,
  ...OPTIMUM_VAE,
  vaeEncoderOutput: "latent_parameters",
  layout: "optimum",
};

const OPTIMUM_1_24: ExportProfile = { ...OPTIMUM_1_23, inputIdsType: "int64", timestepType: "float", timestepDims: [] };

export const EXPORT_PROFILES: Readonly<Record<ExporterGeneration, ExportProfile>> = {
  "optimum-1.23": OPTIMUM_1_23,
  "optimum-1.24": OPTIMUM_1_24,
  "optimum-onnx": {
    ...OPTIMUM_1_24,
    opset: 18,
    vaeEncoder: {
      input: { batch: "batch_size", height: "sample_height", width: "sample_width" },
      output: { batch: "batch_size", height: "sample_height / 8", width: "sample_width / 8" },
    },
    vaeDecoder: {
      input: { batch: "batch_size", height: "latent_height", width: "latent_width" },
      output: { batch: "batch_size", height: "latent_height * 8", width: "latent_width * 8" },
    },
  },
  // Output dims are not in the script's dynamic_axes; torch names them after the output.
  "diffusers-script": {
    opset: 14,
    inputIdsType: "int32",
    timestepType: "float",
    timestepDims: ["batch"],
    text: { batch: "batch", sequence: "sequence" },
    unet: { batch: "batch", height: "height", width: "width", sequence: "sequence", channels: "channels" },
    vaeEncoder: {
      input: { batch: "batch", height: "height", width: "width", channels: "channels" },
      output: { batch: "latent_sample_dim_0", height: "latent_sample_dim_2", width: "latent_sample_dim_3" },
    },
    vaeDecoder: {
      input: { batch: "batch", height: "height", width: "width", channels: "channels" },
      output: { batch: "sample_dim_0", height: "sample_dim_2", width: "sample_dim_3" },
    },
    vaeEncoderOutput: "latent_sample",
    layout: "diffusers-onnx",
  },
};

/** [batch, channels, height, width] for a profile's dims (channels symbolic when the exporter said so). */
export function imageDims(dims: ProfileDims & { readonly channels?: string }, channels: number): Dim[] {
  return [dims.batch, dims.channels ?? channels, dims.height, dims.width];
}

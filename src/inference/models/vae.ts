/**
 * The VAE: the decoder turns latents into images in [-1, 1]; the encoder turns images into the mean of
 * their latent distribution. Exports name the encoder's output `latent_parameters` (mean ‖ logvar,
 * 2×channels, optimum ≥ 1.23) or `latent_sample` (a sample, older exports).
 */
import type { ModelSession } from "../ort/runtime.ts";
import type { Binding, CONTRACTS } from "./component-contract.ts";

export interface VaeDecoder {
  /** [batch, channels, h, w] latents (already divided by the scaling factor) → [batch, 3, H, W] in about [-1, 1]. */
  decode(latents: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[]; dtype: string }>;
}

export interface VaeEncoder {
  /** [batch, 3, H, W] images in [-1, 1] → [batch, channels, h, w] latents (distribution mean when the export gives it). */
  encode(images: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }>;
}

export function createVaeDecoder(session: ModelSession, binding: Binding<typeof CONTRACTS.vae_decoder>): VaeDecoder {
  return {
    async decode(latents, dims) {
      const results = await session.run({ [binding.inputs.latents]: { data: latents, dims } }, [binding.outputs.image]);
      return results[binding.outputs.image]!;
    },
  };
}

export function createVaeEncoder(session: ModelSession, binding: Binding<typeof CONTRACTS.vae_encoder>): VaeEncoder {
  const output = binding.outputs.latents;
  return {
    async encode(images, dims) {
      const result = (await session.run({ [binding.inputs.image]: { data: images, dims } }, [output]))[output]!;
      if (output !== "latent_parameters") return result;
      // mean ‖ logvar along channels: keep the first half of each batch item's channels.
      const [batch, channels, height, width] = result.dims as [number, number, number, number];
      const half = (channels / 2) * height * width;
      const mean = new Float32Array(batch * half);
      for (let b = 0; b < batch; b++) mean.set(result.data.subarray(b * 2 * half, b * 2 * half + half), b * half);
      return { data: mean, dims: [batch, channels / 2, height, width] };
    },
  };
}

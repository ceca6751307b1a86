/**
 * diffusers AutoencoderKL (`models/autoencoders/autoencoder_kl.py`, `vae.py`, v0.35.2) in ONNX:
 * the encoder path (Encoder → quant_conv) and the decoder path (post_quant_conv → Decoder),
 * built as two graphs from the one set of `encoder.*` / `decoder.*` / `*quant_conv.*` weights.
 */
import type { GraphBuilder } from "../onnx/graph-builder.ts";
import { conv2d, groupNorm, silu } from "../onnx/layers.ts";
import { attentionModule, downsample2D, fromTokens, resnetBlock2D, toTokens, upsample2D } from "./diffusers-blocks.ts";

/** The AutoencoderKL config keys this generator reads (diffusers' names). */
export interface AutoencoderKLConfig {
  readonly in_channels: number;
  readonly out_channels: number;
  readonly latent_channels: number;
  readonly block_out_channels: readonly number[];
  readonly layers_per_block: number;
  readonly norm_num_groups: number;
  readonly sample_size: number;
  readonly scaling_factor: number;
}

/** diffusers' Encoder and Decoder build every GroupNorm with eps 1e-6. */
const VAE_EPS = 1e-6;

/** Encoder + quant_conv: the 2·latent_channels moments (mean ‖ logvar) = latent_dist.parameters. */
export function vaeEncode(g: GraphBuilder, sample: string, config: AutoencoderKLConfig): string {
  const channels = config.block_out_channels;
  let h = conv2d(g, "encoder.conv_in", sample, { inChannels: config.in_channels, outChannels: channels[0]!, kernel: 3 });
  channels.forEach((outChannels, i) => {
    const inChannels = channels[Math.max(i - 1, 0)]!;
    for (let layer = 0; layer < config.layers_per_block; layer++) {
      h = vaeResnet(g, `encoder.down_blocks.${i}.resnets.${layer}`, h, layer === 0 ? inChannels : outChannels, outChannels, config);
    }
    if (i < channels.length - 1) h = downsample2D(g, `encoder.down_blocks.${i}.downsamplers.0`, h, outChannels, 0);
  });
  h = vaeMidBlock(g, "encoder.mid_block", h, config);
  h = outputHead(g, "encoder", h, channels.at(-1)!, 2 * config.latent_channels, config);
  const moments = 2 * config.latent_channels;
  return conv2d(g, "quant_conv", h, { inChannels: moments, outChannels: moments, kernel: 1, padding: 0 });
}

/** post_quant_conv + Decoder: latents [N, latent_channels, h, w] → images [N, out_channels, 8h, 8w]. */
export function vaeDecode(g: GraphBuilder, latents: string, config: AutoencoderKLConfig): string {
  const latent = config.latent_channels;
  const reversed = [...config.block_out_channels].reverse();
  const z = conv2d(g, "post_quant_conv", latents, { inChannels: latent, outChannels: latent, kernel: 1, padding: 0 });
  let h = conv2d(g, "decoder.conv_in", z, { inChannels: latent, outChannels: reversed[0]!, kernel: 3 });
  h = vaeMidBlock(g, "decoder.mid_block", h, config);
  reversed.forEach((outChannels, i) => {
    const inChannels = reversed[Math.max(i - 1, 0)]!;
    for (let layer = 0; layer < config.layers_per_block + 1; layer++) {
      h = vaeResnet(g, `decoder.up_blocks.${i}.resnets.${layer}`, h, layer === 0 ? inChannels : outChannels, outChannels, config);
    }
    if (i < reversed.length - 1) h = upsample2D(g, `decoder.up_blocks.${i}.upsamplers.0`, h, outChannels);
  });
  return outputHead(g, "decoder", h, reversed.at(-1)!, config.out_channels, config);
}

/**
 * DiagonalGaussianDistribution.sample(): mean + exp(0.5 · clamp(logvar, -30, 20)) · randn_like(mean).
 * torch.randn_like traces to RandomNormalLike, so this output differs on every run, as it does
 * in the real exports that have it.
 */
export function sampleLatentDistribution(g: GraphBuilder, moments: string, latentChannels: number): string {
  const [mean, logvar] = g.node("Split", [moments, g.int64s([latentChannels, latentChannels])], { axis: { int: 1 } }, 2);
  const clamped = g.op("Clip", [logvar!, g.scalar(-30), g.scalar(20)]);
  const std = g.op("Exp", [g.op("Mul", [clamped, g.scalar(0.5)])]);
  const noise = g.op("RandomNormalLike", [mean!]);
  return g.op("Add", [mean!, g.op("Mul", [std, noise])]);
}

function vaeResnet(g: GraphBuilder, path: string, x: string, inChannels: number, outChannels: number, config: AutoencoderKLConfig): string {
  return resnetBlock2D(g, path, x, undefined, { inChannels, outChannels, groups: config.norm_num_groups, eps: VAE_EPS });
}

/** UNetMidBlock2D without time embedding: resnet → single-head attention with residual → resnet. */
function vaeMidBlock(g: GraphBuilder, path: string, x: string, config: AutoencoderKLConfig): string {
  const channels = config.block_out_channels.at(-1)!;
  let h = vaeResnet(g, `${path}.resnets.0`, x, channels, channels, config);
  h = vaeAttention(g, `${path}.attentions.0`, h, channels, config);
  return vaeResnet(g, `${path}.resnets.1`, h, channels, channels, config);
}

/**
 * The VAE's Attention: heads = 1 (attention_head_dim = channels), group_norm on the input,
 * biased q/k/v, residual connection, rescale_output_factor 1.
 */
function vaeAttention(g: GraphBuilder, path: string, x: string, channels: number, config: AutoencoderKLConfig): string {
  const normalized = groupNorm(g, `${path}.group_norm`, x, { groups: config.norm_num_groups, channels, eps: VAE_EPS });
  const tokens = g.scope(path, () => toTokens(g, normalized));
  const attended = attentionModule(g, path, tokens, undefined, { queryDim: channels, heads: 1, headDim: channels, qkvBias: true });
  return g.scope(path, () => g.op("Add", [fromTokens(g, attended, x), x]));
}

/** conv_norm_out → SiLU → conv_out of the Encoder or Decoder. */
function outputHead(g: GraphBuilder, path: string, x: string, inChannels: number, outChannels: number, config: AutoencoderKLConfig): string {
  const normalized = groupNorm(g, `${path}.conv_norm_out`, x, { groups: config.norm_num_groups, channels: inChannels, eps: VAE_EPS });
  const activated = g.scope(path, () => silu(g, normalized));
  return conv2d(g, `${path}.conv_out`, activated, { inChannels, outChannels, kernel: 3 });
}

/**
 * diffusers building blocks shared by the UNet and the VAE: ResnetBlock2D, Downsample2D,
 * Upsample2D and the `Attention` module (to_q / to_k / to_v / to_out.0). Math and module names
 * follow diffusers v0.35.2 `models/resnet.py`, `models/downsampling.py`, `models/upsampling.py`
 * and `models/attention_processor.py`.
 */
import type { GraphBuilder } from "../onnx/graph-builder.ts";
import { conv2d, groupNorm, linear, multiHeadAttention, silu, unsqueeze, upsampleNearest2x } from "../onnx/layers.ts";

export interface ResnetBlockOptions {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly groups: number;
  readonly eps: number;
  /** Width of the time embedding; absent in the VAE (`temb_channels=None`). */
  readonly tembChannels?: number;
  /** diffusers `output_scale_factor`. @default 1 */
  readonly outputScaleFactor?: number;
}

/**
 * ResnetBlock2D with time_embedding_norm "default": norm1 → SiLU → conv1 (+ time_emb_proj(SiLU(temb))
 * broadcast over H×W) → norm2 → SiLU → conv2, plus a 1×1 conv_shortcut when channels change.
 */
export function resnetBlock2D(g: GraphBuilder, path: string, x: string, temb: string | undefined, options: ResnetBlockOptions): string {
  const { inChannels, outChannels, groups, eps, tembChannels, outputScaleFactor = 1 } = options;
  let h = conv2d(g, `${path}.conv1`, g.scope(path, () => silu(g, groupNorm(g, `${path}.norm1`, x, { groups, channels: inChannels, eps }))), {
    inChannels,
    outChannels,
    kernel: 3,
  });
  if (temb !== undefined && tembChannels !== undefined) {
    const activated = g.scope(path, () => silu(g, temb));
    const projected = linear(g, `${path}.time_emb_proj`, activated, { inFeatures: tembChannels, outFeatures: outChannels });
    h = g.scope(path, () => g.op("Add", [h, unsqueeze(g, projected, [2, 3])]));
  }
  const normalized = g.scope(path, () => silu(g, groupNorm(g, `${path}.norm2`, h, { groups, channels: outChannels, eps })));
  h = conv2d(g, `${path}.conv2`, normalized, { inChannels: outChannels, outChannels, kernel: 3 });
  const shortcut =
    inChannels === outChannels ? x : conv2d(g, `${path}.conv_shortcut`, x, { inChannels, outChannels, kernel: 1, padding: 0 });
  return g.scope(path, () => {
    const sum = g.op("Add", [shortcut, h]);
    return outputScaleFactor === 1 ? sum : g.op("Div", [sum, g.scalar(outputScaleFactor)]);
  });
}

/**
 * Downsample2D with a conv: stride-2 3×3 conv. With `padding` 0 (the VAE's
 * downsample_padding) diffusers pads right and bottom by one first, i.e. pads [0, 0, 1, 1].
 */
export function downsample2D(g: GraphBuilder, path: string, x: string, channels: number, padding: number): string {
  return conv2d(g, `${path}.conv`, x, {
    inChannels: channels,
    outChannels: channels,
    kernel: 3,
    stride: 2,
    padding: padding === 0 ? [0, 0, 1, 1] : padding,
  });
}

/** Upsample2D with a conv: nearest ×2, then a 3×3 conv. */
export function upsample2D(g: GraphBuilder, path: string, x: string, channels: number): string {
  const upsampled = g.scope(path, () => upsampleNearest2x(g, x));
  return conv2d(g, `${path}.conv`, upsampled, { inChannels: channels, outChannels: channels, kernel: 3 });
}

export interface AttentionModuleOptions {
  readonly queryDim: number;
  /** Width of the context; undefined for self-attention. */
  readonly crossAttentionDim?: number;
  readonly heads: number;
  readonly headDim: number;
  /** Whether to_q / to_k / to_v have biases (diffusers `bias`). */
  readonly qkvBias: boolean;
}

/** diffusers `Attention` on [batch, seq, queryDim] tokens (processor math of AttnProcessor / 2_0). */
export function attentionModule(g: GraphBuilder, path: string, x: string, context: string | undefined, options: AttentionModuleOptions): string {
  const { queryDim, heads, headDim, qkvBias } = options;
  const inner = heads * headDim;
  const contextDim = options.crossAttentionDim ?? queryDim;
  const source = context ?? x;
  const q = linear(g, `${path}.to_q`, x, { inFeatures: queryDim, outFeatures: inner, bias: qkvBias });
  const k = linear(g, `${path}.to_k`, source, { inFeatures: contextDim, outFeatures: inner, bias: qkvBias });
  const v = linear(g, `${path}.to_v`, source, { inFeatures: contextDim, outFeatures: inner, bias: qkvBias });
  const attended = g.scope(path, () => multiHeadAttention(g, q, k, v, { heads, headDim }));
  return linear(g, `${path}.to_out.0`, attended, { inFeatures: inner, outFeatures: queryDim });
}

/** [N, C, H, W] → [N, H·W, C] tokens. */
export function toTokens(g: GraphBuilder, x: string): string {
  return g.op("Transpose", [g.op("Reshape", [x, g.int64s([0, 0, -1])])], { perm: { ints: [0, 2, 1] } });
}

/** [N, H·W, C] tokens → the [N, C, H, W] shape of `like`. */
export function fromTokens(g: GraphBuilder, tokens: string, like: string): string {
  return g.op("Reshape", [g.op("Transpose", [tokens], { perm: { ints: [0, 2, 1] } }), g.op("Shape", [like])]);
}

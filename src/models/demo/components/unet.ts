/**
 * diffusers UNet2DConditionModel (SD 1.x / 2.x shape) in ONNX, following
 * `models/unets/unet_2d_condition.py`, `unet_2d_blocks.py` and `transformers/transformer_2d.py`
 * of diffusers v0.35.2. The config is diffusers' own `unet/config.json` object.
 */
import type { GraphBuilder } from "../onnx/graph-builder.ts";
import { castToFloatType, conv2d, dimOf, geglu, groupNorm, layerNorm, linear, silu, timestepProjection } from "../onnx/layers.ts";
import { attentionModule, downsample2D, fromTokens, resnetBlock2D, toTokens, upsample2D } from "./diffusers-blocks.ts";

/** The UNet2DConditionModel config keys this generator reads (diffusers' names and meanings). */
export interface UNet2DConditionConfig {
  readonly sample_size: number;
  readonly in_channels: number;
  readonly out_channels: number;
  readonly flip_sin_to_cos: boolean;
  readonly freq_shift: number;
  readonly down_block_types: readonly ("CrossAttnDownBlock2D" | "DownBlock2D")[];
  readonly up_block_types: readonly ("UpBlock2D" | "CrossAttnUpBlock2D")[];
  readonly block_out_channels: readonly number[];
  readonly layers_per_block: number;
  readonly downsample_padding: number;
  readonly mid_block_scale_factor: number;
  readonly norm_num_groups: number;
  readonly norm_eps: number;
  readonly cross_attention_dim: number;
  /** Despite the name, the number of heads per block in SD configs (`num_attention_heads` is null). */
  readonly attention_head_dim: number | readonly number[];
  readonly use_linear_projection: boolean;
  readonly upcast_attention: boolean;
}

/** Tensors the UNet graph starts from. */
export interface UNetInputs {
  /** [batch, in_channels, h, w] in the graph's float type. */
  readonly sample: string;
  /** Timesteps of rank 0 or 1 (any numeric type), broadcast to the batch as diffusers does. */
  readonly timestep: string;
  readonly timestepRank: 0 | 1;
  /** [batch, sequence, cross_attention_dim]. */
  readonly encoderHiddenStates: string;
}

interface UNetContext {
  readonly g: GraphBuilder;
  readonly config: UNet2DConditionConfig;
  readonly temb: string;
  readonly tembChannels: number;
  readonly context: string;
}

/** Builds the whole UNet; returns the predicted noise [batch, out_channels, h, w]. */
export function unet2DCondition(g: GraphBuilder, inputs: UNetInputs, config: UNet2DConditionConfig): string {
  const channels = config.block_out_channels;
  const tembChannels = channels[0]! * 4;
  const temb = timeEmbedding(g, inputs, config, tembChannels);
  const ctx: UNetContext = { g, config, temb, tembChannels, context: inputs.encoderHiddenStates };
  let h = conv2d(g, "conv_in", inputs.sample, { inChannels: config.in_channels, outChannels: channels[0]!, kernel: 3 });
  const skips = [h];
  config.down_block_types.forEach((type, i) => {
    h = downBlock(ctx, i, h, type === "CrossAttnDownBlock2D", skips);
  });
  h = midBlock(ctx, h);
  config.up_block_types.forEach((type, i) => {
    h = upBlock(ctx, i, h, type === "CrossAttnUpBlock2D", skips);
  });
  const norm = groupNorm(g, "conv_norm_out", h, { groups: config.norm_num_groups, channels: channels[0]!, eps: config.norm_eps });
  return conv2d(g, "conv_out", silu(g, norm), { inChannels: channels[0]!, outChannels: config.out_channels, kernel: 3 });
}

/** time_proj (sinusoidal, float32) → cast to the sample dtype → time_embedding (linear, SiLU, linear). */
function timeEmbedding(g: GraphBuilder, inputs: UNetInputs, config: UNet2DConditionConfig, tembChannels: number): string {
  const channels = config.block_out_channels[0]!;
  const vector = inputs.timestepRank === 0 ? g.op("Unsqueeze", [inputs.timestep, g.int64s([0])]) : inputs.timestep;
  // timesteps.expand(sample.shape[0]): a single timestep serves the whole batch.
  const batched = g.op("Expand", [vector, dimOf(g, inputs.sample, 0)]);
  const projected = g.scope("time_proj", () =>
    timestepProjection(g, batched, { channels, flipSinToCos: config.flip_sin_to_cos, downscaleFreqShift: config.freq_shift }),
  );
  const first = linear(g, "time_embedding.linear_1", castToFloatType(g, projected), { inFeatures: channels, outFeatures: tembChannels });
  const activated = g.scope("time_embedding", () => silu(g, first));
  return linear(g, "time_embedding.linear_2", activated, { inFeatures: tembChannels, outFeatures: tembChannels });
}

/** Heads per block: attention_head_dim as an int applies to every block. */
function headsOf(config: UNet2DConditionConfig, block: number): number {
  const heads = config.attention_head_dim;
  return typeof heads === "number" ? heads : heads[block]!;
}

function resnet(ctx: UNetContext, path: string, x: string, inChannels: number, outChannels: number, scale = 1): string {
  const { config } = ctx;
  return resnetBlock2D(ctx.g, path, x, ctx.temb, {
    inChannels,
    outChannels,
    groups: config.norm_num_groups,
    eps: config.norm_eps,
    tembChannels: ctx.tembChannels,
    outputScaleFactor: scale,
  });
}

/** CrossAttnDownBlock2D / DownBlock2D; pushes every resnet(+attention) output and the downsample onto `skips`. */
function downBlock(ctx: UNetContext, index: number, x: string, withAttention: boolean, skips: string[]): string {
  const channels = ctx.config.block_out_channels;
  const outChannels = channels[index]!;
  let h = x;
  for (let layer = 0; layer < ctx.config.layers_per_block; layer++) {
    const inChannels = layer === 0 ? channels[Math.max(index - 1, 0)]! : outChannels;
    h = resnet(ctx, `down_blocks.${index}.resnets.${layer}`, h, inChannels, outChannels);
    if (withAttention) h = transformer2D(ctx, `down_blocks.${index}.attentions.${layer}`, h, outChannels, headsOf(ctx.config, index));
    skips.push(h);
  }
  if (index < channels.length - 1) {
    h = downsample2D(ctx.g, `down_blocks.${index}.downsamplers.0`, h, outChannels, ctx.config.downsample_padding);
    skips.push(h);
  }
  return h;
}

/** UNetMidBlock2DCrossAttn: resnet, then (attention, resnet) once. */
function midBlock(ctx: UNetContext, x: string): string {
  const channels = ctx.config.block_out_channels.at(-1)!;
  const scale = ctx.config.mid_block_scale_factor;
  const heads = headsOf(ctx.config, ctx.config.block_out_channels.length - 1);
  let h = resnet(ctx, "mid_block.resnets.0", x, channels, channels, scale);
  h = transformer2D(ctx, "mid_block.attentions.0", h, channels, heads);
  return resnet(ctx, "mid_block.resnets.1", h, channels, channels, scale);
}

/** CrossAttnUpBlock2D / UpBlock2D: layers_per_block + 1 resnets, each on [h ‖ skip]. */
function upBlock(ctx: UNetContext, index: number, x: string, withAttention: boolean, skips: string[]): string {
  const reversed = [...ctx.config.block_out_channels].reverse();
  const outChannels = reversed[index]!;
  const prevOutput = reversed[Math.max(index - 1, 0)]!;
  const inputChannels = reversed[Math.min(index + 1, reversed.length - 1)]!;
  const layers = ctx.config.layers_per_block + 1;
  const heads = headsOf(ctx.config, reversed.length - 1 - index);
  let h = x;
  for (let layer = 0; layer < layers; layer++) {
    const skipChannels = layer === layers - 1 ? inputChannels : outChannels;
    const resnetIn = layer === 0 ? prevOutput : outChannels;
    const joined = ctx.g.scope(`up_blocks.${index}`, () => ctx.g.op("Concat", [h, skips.pop()!], { axis: { int: 1 } }));
    h = resnet(ctx, `up_blocks.${index}.resnets.${layer}`, joined, resnetIn + skipChannels, outChannels);
    if (withAttention) h = transformer2D(ctx, `up_blocks.${index}.attentions.${layer}`, h, outChannels, heads);
  }
  if (index < reversed.length - 1) h = upsample2D(ctx.g, `up_blocks.${index}.upsamplers.0`, h, outChannels);
  return h;
}

/**
 * Transformer2DModel (continuous input): GroupNorm(eps 1e-6) → proj_in (1×1 conv, or Linear
 * after flattening with use_linear_projection) → BasicTransformerBlock → proj_out → + input.
 */
function transformer2D(ctx: UNetContext, path: string, x: string, channels: number, heads: number): string {
  const { g, config } = ctx;
  const normalized = groupNorm(g, `${path}.norm`, x, { groups: config.norm_num_groups, channels, eps: 1e-6 });
  const projection = { inChannels: channels, outChannels: channels, kernel: 1, padding: 0 };
  const features = { inFeatures: channels, outFeatures: channels };
  let tokens = config.use_linear_projection
    ? linear(g, `${path}.proj_in`, g.scope(path, () => toTokens(g, normalized)), features)
    : g.scope(path, () => toTokens(g, conv2d(g, `${path}.proj_in`, normalized, projection)));
  tokens = basicTransformerBlock(ctx, `${path}.transformer_blocks.0`, tokens, channels, heads);
  const out = config.use_linear_projection
    ? g.scope(path, () => fromTokens(g, linear(g, `${path}.proj_out`, tokens, features), x))
    : conv2d(g, `${path}.proj_out`, g.scope(path, () => fromTokens(g, tokens, x)), projection);
  return g.scope(path, () => g.op("Add", [out, x]));
}

/** LN → self-attention → +, LN → cross-attention on the text → +, LN → GEGLU feed-forward → +. */
function basicTransformerBlock(ctx: UNetContext, path: string, x: string, dim: number, heads: number): string {
  const { g, config } = ctx;
  const attention = { queryDim: dim, heads, headDim: dim / heads, qkvBias: false };
  const add = (a: string, b: string) => g.scope(path, () => g.op("Add", [a, b]));
  let h = add(attentionModule(g, `${path}.attn1`, layerNorm(g, `${path}.norm1`, x, { dim }), undefined, attention), x);
  const crossAttention = { ...attention, crossAttentionDim: config.cross_attention_dim };
  h = add(attentionModule(g, `${path}.attn2`, layerNorm(g, `${path}.norm2`, h, { dim }), ctx.context, crossAttention), h);
  const gated = geglu(g, `${path}.ff.net.0`, layerNorm(g, `${path}.norm3`, h, { dim }), dim, dim * 4);
  return add(linear(g, `${path}.ff.net.2`, gated, { inFeatures: dim * 4, outFeatures: dim }), h);
}

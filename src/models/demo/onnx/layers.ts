/**
 * torch.nn / diffusers building blocks as ONNX subgraphs, decomposed the way torch.onnx
 * (TorchScript exporter) writes them at opset 14, and valid at opset 18 too. Every function
 * takes the module path (the state-dict prefix, e.g. "down_blocks.0.resnets.0.conv1"): its
 * parameters are named `${path}.weight` / `${path}.bias` like PyTorch's state dict.
 */
import { attr, type GraphBuilder } from "./graph-builder.ts";

/** Uniform init with variance 1/fanIn (LeCun): keeps activations O(1) through random layers. */
function weightSpread(fanIn: number): number {
  return Math.sqrt(3 / fanIn);
}

/** Spread of a bias (torch's default bound 1/sqrt(fanIn)). */
function biasSpread(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}

export interface LinearOptions {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Whether the layer has a bias (`nn.Linear(bias=...)`). @default true */
  readonly bias?: boolean;
}

/** nn.Linear on the last axis: MatMul with the transposed [out, in] weight, plus bias. */
export function linear(g: GraphBuilder, path: string, x: string, options: LinearOptions): string {
  const { inFeatures, outFeatures, bias = true } = options;
  const weight = g.param(`${path}.weight`, [outFeatures, inFeatures], { spread: weightSpread(inFeatures) });
  return g.scope(path, () => {
    const product = g.op("MatMul", [x, g.op("Transpose", [weight], { perm: attr.ints([1, 0]) })]);
    if (!bias) return product;
    return g.op("Add", [product, g.param(`${path}.bias`, [outFeatures], { spread: biasSpread(inFeatures) })]);
  });
}

export interface Conv2dOptions {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  /** @default 1 */
  readonly stride?: number;
  /**
   * Zero padding: one number for all sides, or ONNX order [top, left, bottom, right]
   * (diffusers' VAE Downsample2D pads right/bottom only). @default floor(kernel / 2)
   */
  readonly padding?: number | readonly [number, number, number, number];
}

/** nn.Conv2d (groups 1, dilation 1) with bias. */
export function conv2d(g: GraphBuilder, path: string, x: string, options: Conv2dOptions): string {
  const { inChannels, outChannels, kernel, stride = 1 } = options;
  const padding = options.padding ?? Math.floor(kernel / 2);
  const pads = typeof padding === "number" ? [padding, padding, padding, padding] : padding;
  const fanIn = inChannels * kernel * kernel;
  const weight = g.param(`${path}.weight`, [outChannels, inChannels, kernel, kernel], { spread: weightSpread(fanIn) });
  const bias = g.param(`${path}.bias`, [outChannels], { spread: biasSpread(fanIn) });
  return g.scope(path, () =>
    g.op("Conv", [x, weight, bias], {
      dilations: attr.ints([1, 1]),
      group: attr.int(1),
      kernel_shape: attr.ints([kernel, kernel]),
      pads: attr.ints(pads),
      strides: attr.ints([stride, stride]),
    }),
  );
}

/** Affine norm parameters: weight ≈ 1 and bias ≈ 0, jittered so tests see their effect. */
function normParameters(g: GraphBuilder, path: string, channels: number): [string, string] {
  return [
    g.param(`${path}.weight`, [channels], { center: 1, spread: 0.1 }),
    g.param(`${path}.bias`, [channels], { spread: 0.1 }),
  ];
}

export interface GroupNormOptions {
  readonly groups: number;
  readonly channels: number;
  readonly eps: number;
  /** Rank of the input ([N, C, H, W] = 4, [N, C, L] = 3). @default 4 */
  readonly rank?: number;
}

/**
 * nn.GroupNorm as torch exports it (symbolic `group_norm`): reshape to [N, G, -1],
 * InstanceNormalization with unit scale, reshape back, then per-channel affine.
 */
export function groupNorm(g: GraphBuilder, path: string, x: string, options: GroupNormOptions): string {
  const { groups, channels, eps, rank = 4 } = options;
  if (channels % groups !== 0) throw new Error(`${path}: GroupNorm channels ${channels} not divisible by groups ${groups}`);
  const [weight, bias] = normParameters(g, path, channels);
  return g.scope(path, () => {
    const grouped = g.op("Reshape", [x, g.int64s([0, groups, -1])]);
    const ones = g.constant(new Array<number>(groups).fill(1), [groups]);
    const zeros = g.constant(new Array<number>(groups).fill(0), [groups]);
    const normalized = g.op("InstanceNormalization", [grouped, ones, zeros], { epsilon: attr.float(eps) });
    const restored = g.op("Reshape", [normalized, g.op("Shape", [x])]);
    const spatialAxes = Array.from({ length: rank - 2 }, (_, i) => i + 1);
    const scaled = g.op("Mul", [restored, unsqueeze(g, weight, spatialAxes)]);
    return g.op("Add", [scaled, unsqueeze(g, bias, spatialAxes)]);
  });
}

export interface LayerNormOptions {
  readonly dim: number;
  /** @default 1e-5 */
  readonly eps?: number;
}

/**
 * nn.LayerNorm over the last axis: LayerNormalization from opset 17, torch's
 * ReduceMean/Sub/Pow/Sqrt/Div decomposition below.
 */
export function layerNorm(g: GraphBuilder, path: string, x: string, options: LayerNormOptions): string {
  const { dim, eps = 1e-5 } = options;
  const [weight, bias] = normParameters(g, path, dim);
  return g.scope(path, () => {
    if (g.opset >= 17) {
      return g.op("LayerNormalization", [x, weight, bias], { axis: attr.int(-1), epsilon: attr.float(eps) });
    }
    const centered = g.op("Sub", [x, reduceMean(g, x, [-1])]);
    const variance = reduceMean(g, g.op("Pow", [centered, g.scalar(2)]), [-1]);
    const normalized = g.op("Div", [centered, g.op("Sqrt", [g.op("Add", [variance, g.scalar(eps)])])]);
    return g.op("Add", [g.op("Mul", [normalized, weight]), bias]);
  });
}

/** ReduceMean keeping dims; `axes` is an attribute before opset 18 and an input from 18. */
export function reduceMean(g: GraphBuilder, x: string, axes: readonly number[]): string {
  if (g.opset >= 18) return g.op("ReduceMean", [x, g.int64s(axes)], { keepdims: attr.int(1) });
  return g.op("ReduceMean", [x], { axes: attr.ints(axes), keepdims: attr.int(1) });
}

/** Unsqueeze with `axes` as an input (opset ≥ 13). */
export function unsqueeze(g: GraphBuilder, x: string, axes: readonly number[]): string {
  return g.op("Unsqueeze", [x, g.int64s(axes)]);
}

/** A 1-D int64 tensor [size of `x` along `axis`] (Shape + Slice: valid at every opset). */
export function dimOf(g: GraphBuilder, x: string, axis: number): string {
  return g.op("Slice", [g.op("Shape", [x]), g.int64s([axis]), g.int64s([axis + 1])]);
}

/** nn.SiLU: x · sigmoid(x). */
export function silu(g: GraphBuilder, x: string): string {
  return g.op("Mul", [x, g.op("Sigmoid", [x])]);
}

/** Exact (erf) GELU as torch exports it below opset 20: x · 0.5 · (1 + erf(x / √2)). */
export function gelu(g: GraphBuilder, x: string): string {
  const erf = g.op("Erf", [g.op("Div", [x, g.scalar(Math.SQRT2)])]);
  return g.op("Mul", [g.op("Mul", [x, g.op("Add", [erf, g.scalar(1)])]), g.scalar(0.5)]);
}

/** CLIP's quick_gelu: x · sigmoid(1.702 x). */
export function quickGelu(g: GraphBuilder, x: string): string {
  return g.op("Mul", [x, g.op("Sigmoid", [g.op("Mul", [x, g.scalar(1.702)])])]);
}

/** diffusers GEGLU: `proj` to 2·dimOut, split in half, hidden · gelu(gate). */
export function geglu(g: GraphBuilder, path: string, x: string, dimIn: number, dimOut: number): string {
  const projected = linear(g, `${path}.proj`, x, { inFeatures: dimIn, outFeatures: dimOut * 2 });
  return g.scope(path, () => {
    const [hidden, gate] = g.node("Split", [projected, g.int64s([dimOut, dimOut])], { axis: attr.int(-1) }, 2);
    return g.op("Mul", [hidden!, gelu(g, gate!)]);
  });
}

export interface AttentionOptions {
  readonly heads: number;
  readonly headDim: number;
  /** Multiplier of the q·kᵀ scores. @default 1 / sqrt(headDim) */
  readonly scale?: number;
  /** Additive mask broadcastable to [batch, heads, queries, keys] (e.g. `causalMask`). */
  readonly mask?: string;
}

/**
 * softmax(q·kᵀ·scale + mask)·v over [batch, seq, heads·headDim] projections, heads split and
 * merged with Reshape/Transpose. As torch exports F.scaled_dot_product_attention (torch/onnx/
 * symbolic_opset14.py), q and kᵀ are each multiplied by √scale before their MatMul, so the
 * [batch, heads, seq, seq] scores are never scaled as a whole: at 64×64 latents each such tensor
 * is half a gigabyte per batch row, and a Mul after the MatMul would hold a third one.
 */
export function multiHeadAttention(g: GraphBuilder, q: string, k: string, v: string, options: AttentionOptions): string {
  const { heads, headDim, mask } = options;
  const rootScale = g.scalar(Math.sqrt(options.scale ?? 1 / Math.sqrt(headDim)));
  const splitHeads = (x: string, perm: number[]) =>
    g.op("Transpose", [g.op("Reshape", [x, g.int64s([0, 0, heads, headDim])])], { perm: attr.ints(perm) });
  const scaled = (x: string, perm: number[]) => g.op("Mul", [splitHeads(x, perm), rootScale]);
  const scores = g.op("MatMul", [scaled(q, [0, 2, 1, 3]), scaled(k, [0, 2, 3, 1])]);
  const masked = mask === undefined ? scores : g.op("Add", [scores, mask]);
  const probabilities = g.op("Softmax", [masked], { axis: attr.int(-1) });
  const context = g.op("MatMul", [probabilities, splitHeads(v, [0, 2, 1, 3])]);
  const merged = g.op("Transpose", [context], { perm: attr.ints([0, 2, 1, 3]) });
  return g.op("Reshape", [merged, g.int64s([0, 0, heads * headDim])]);
}

/**
 * Additive causal mask [seq, seq] for the sequence length of `reference` (axis 1): 0 on and
 * below the diagonal, the float type's lowest value above it (transformers uses finfo.min).
 */
export function causalMask(g: GraphBuilder, reference: string): string {
  const length = g.op("Squeeze", [dimOf(g, reference, 1), g.int64s([0])]);
  const positions = g.op("Range", [g.scalar(0, "int64"), length, g.scalar(1, "int64")]);
  const future = g.op("Greater", [unsqueeze(g, positions, [0]), unsqueeze(g, positions, [1])]);
  const lowest = g.floatType === "float16" ? -65504 : -3.4028234663852886e38;
  return g.op("Where", [future, g.scalar(lowest), g.scalar(0)]);
}

/** F.interpolate(scale_factor=2, mode="nearest") as torch exports it: Resize, asymmetric, floor. */
export function upsampleNearest2x(g: GraphBuilder, x: string): string {
  return g.op("Resize", [x, "", g.constant([1, 1, 2, 2], [4], "float32")], {
    coordinate_transformation_mode: attr.string("asymmetric"),
    cubic_coeff_a: attr.float(-0.75),
    mode: attr.string("nearest"),
    nearest_mode: attr.string("floor"),
  });
}

export interface TimestepProjectionOptions {
  /** Embedding width (diffusers `num_channels`, block_out_channels[0] in the UNet). */
  readonly channels: number;
  /** Put cos before sin. */
  readonly flipSinToCos: boolean;
  /** diffusers `downscale_freq_shift` (the config's freq_shift). */
  readonly downscaleFreqShift: number;
  /** @default 10000 */
  readonly maxPeriod?: number;
}

/**
 * diffusers `get_timestep_embedding` for a 1-D timestep tensor of any numeric type: float32
 * [N, channels]. The frequency table is constant-folded here as torch folds it.
 */
export function timestepProjection(g: GraphBuilder, timesteps: string, options: TimestepProjectionOptions): string {
  const { channels, flipSinToCos, downscaleFreqShift, maxPeriod = 10000 } = options;
  if (channels % 2 !== 0) throw new Error(`timestep embedding channels must be even, got ${channels}`);
  const half = channels / 2;
  const frequencies = timestepFrequencies(half, downscaleFreqShift, maxPeriod);
  const asFloat = g.op("Cast", [unsqueeze(g, timesteps, [1])], { to: attr.int(1) });
  const phases = g.op("Mul", [asFloat, g.constant(frequencies, [1, half], "float32")]);
  const sin = g.op("Sin", [phases]);
  const cos = g.op("Cos", [phases]);
  return g.op("Concat", [...(flipSinToCos ? [cos, sin] : [sin, cos])], { axis: attr.int(-1) });
}

/** exp(-ln(maxPeriod) · i / (half − shift)) rounded to float32 at each step, as torch computes it. */
export function timestepFrequencies(half: number, shift: number, maxPeriod: number): Float32Array {
  const logPeriod = Math.fround(-Math.log(maxPeriod));
  const frequencies = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = Math.fround(Math.fround(logPeriod * i) / Math.fround(half - shift));
    frequencies[i] = Math.fround(Math.exp(exponent));
  }
  return frequencies;
}

/** Cast to the graph's float type (torch's `.to(dtype)`). */
export function castToFloatType(g: GraphBuilder, x: string): string {
  return g.op("Cast", [x], { to: attr.int(g.floatType === "float16" ? 10 : 1) });
}

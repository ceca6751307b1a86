/**
 * One CLIP encoder layer as transformers' CLIPEncoderLayer computes it: pre-LayerNorm self-attention
 * (causal in the text tower, through `mask`) and a pre-LayerNorm MLP, each with a residual. Shared
 * by the text and vision towers.
 */
import type { GraphBuilder } from "../onnx/graph-builder.ts";
import { gelu, layerNorm, linear, multiHeadAttention, quickGelu } from "../onnx/layers.ts";

/** What one CLIP encoder layer depends on (camelCase of transformers' config keys). */
export interface ClipEncoderConfig {
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numAttentionHeads: number;
  readonly layerNormEps: number;
  /** "quick_gelu" for OpenAI CLIP, "gelu" for OpenCLIP checkpoints. */
  readonly hiddenAct: "quick_gelu" | "gelu";
}

/**
 * One CLIPEncoderLayer: x + attn(layer_norm1(x)), then x + mlp(layer_norm2(x)). `mask` is an
 * additive attention mask (the text tower's causal mask); the vision tower passes none.
 */
export function clipEncoderLayer(g: GraphBuilder, path: string, hidden: string, config: ClipEncoderConfig, mask?: string): string {
  const { hiddenSize: dim, layerNormEps: eps } = config;
  const attended = selfAttention(g, `${path}.self_attn`, layerNorm(g, `${path}.layer_norm1`, hidden, { dim, eps }), config, mask);
  const afterAttention = g.scope(path, () => g.op("Add", [hidden, attended]));
  const transformed = mlp(g, `${path}.mlp`, layerNorm(g, `${path}.layer_norm2`, afterAttention, { dim, eps }), config);
  return g.scope(path, () => g.op("Add", [afterAttention, transformed]));
}

function selfAttention(g: GraphBuilder, path: string, x: string, config: ClipEncoderConfig, mask: string | undefined): string {
  const dim = config.hiddenSize;
  const heads = config.numAttentionHeads;
  const project = (name: string, input: string) => linear(g, `${path}.${name}`, input, { inFeatures: dim, outFeatures: dim });
  const attention = { heads, headDim: dim / heads, ...(mask === undefined ? {} : { mask }) };
  const context = g.scope(path, () => multiHeadAttention(g, project("q_proj", x), project("k_proj", x), project("v_proj", x), attention));
  return project("out_proj", context);
}

function mlp(g: GraphBuilder, path: string, x: string, config: ClipEncoderConfig): string {
  const { hiddenSize, intermediateSize } = config;
  const expanded = linear(g, `${path}.fc1`, x, { inFeatures: hiddenSize, outFeatures: intermediateSize });
  const activated = g.scope(path, () => (config.hiddenAct === "gelu" ? gelu(g, expanded) : quickGelu(g, expanded)));
  return linear(g, `${path}.fc2`, activated, { inFeatures: intermediateSize, outFeatures: hiddenSize });
}

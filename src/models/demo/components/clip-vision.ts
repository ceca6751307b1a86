/**
 * transformers' CLIPVisionModel (CLIPVisionTransformer) in ONNX: patch convolution, class token,
 * position embeddings, `pre_layrnorm` (transformers' spelling), pre-LayerNorm encoder layers
 * without a mask, and `post_layernorm` on the class token as the pooled output. Also the two CLIP
 * heads shared by the exports: the bias-free projections and `logit_scale`. Initializer names are
 * CLIPModel's state-dict keys (`vision_model.embeddings.class_embedding`, `visual_projection.weight`, …).
 */
import { attr, type GraphBuilder } from "../onnx/graph-builder.ts";
import { dimOf, layerNorm, linear } from "../onnx/layers.ts";
import { clipEncoderLayer, type ClipEncoderConfig } from "./clip-encoder-layer.ts";

/** The CLIPVisionConfig fields the graph depends on. */
export interface ClipVisionConfig extends ClipEncoderConfig {
  readonly numHiddenLayers: number;
  /** Height and width the position embeddings are trained for. */
  readonly imageSize: number;
  readonly patchSize: number;
  readonly numChannels: number;
}

/** The two tensors CLIPVisionModel returns; outputs are declared by the caller. */
export interface ClipVisionOutputs {
  /** [batch, 1 + patches, hiddenSize]: the encoder output (before post_layernorm, as transformers returns it). */
  readonly lastHiddenState: string;
  /** [batch, hiddenSize]: post_layernorm(last_hidden_state[:, 0]). */
  readonly pooledOutput: string;
}

/** Builds CLIPVisionTransformer under `path` (CLIPVisionModel uses "vision_model") on [batch, C, H, W] pixels. */
export function clipVisionTransformer(g: GraphBuilder, path: string, pixelValues: string, config: ClipVisionConfig): ClipVisionOutputs {
  const { hiddenSize: dim, layerNormEps: eps } = config;
  let hidden = layerNorm(g, `${path}.pre_layrnorm`, embeddings(g, `${path}.embeddings`, pixelValues, config), { dim, eps });
  for (let layer = 0; layer < config.numHiddenLayers; layer++) {
    hidden = clipEncoderLayer(g, `${path}.encoder.layers.${layer}`, hidden, config);
  }
  const classToken = g.scope(path, () => g.op("Gather", [hidden, g.scalar(0, "int64")], { axis: attr.int(1) }));
  const pooledOutput = layerNorm(g, `${path}.post_layernorm`, classToken, { dim, eps });
  return { lastHiddenState: hidden, pooledOutput };
}

/** Number of patch tokens plus the class token. */
export function visionSequenceLength(config: Pick<ClipVisionConfig, "imageSize" | "patchSize">): number {
  return (config.imageSize / config.patchSize) ** 2 + 1;
}

/** cat([class_embedding, patches]) + position_embedding(arange(num_positions)). */
function embeddings(g: GraphBuilder, path: string, pixelValues: string, config: ClipVisionConfig): string {
  const { hiddenSize, patchSize, numChannels } = config;
  const fanIn = numChannels * patchSize * patchSize;
  const classEmbedding = g.param(`${path}.class_embedding`, [hiddenSize], { spread: 0.5 });
  const patchWeight = g.param(`${path}.patch_embedding.weight`, [hiddenSize, numChannels, patchSize, patchSize], { spread: Math.sqrt(3 / fanIn) });
  const positionTable = g.param(`${path}.position_embedding.weight`, [visionSequenceLength(config), hiddenSize], { spread: 0.1 });
  return g.scope(path, () => {
    const patches = g.scope("patch_embedding", () =>
      g.op("Conv", [pixelValues, patchWeight], {
        dilations: attr.ints([1, 1]),
        group: attr.int(1),
        kernel_shape: attr.ints([patchSize, patchSize]),
        pads: attr.ints([0, 0, 0, 0]),
        strides: attr.ints([patchSize, patchSize]),
      }),
    );
    // patch_embeds.flatten(2).transpose(1, 2): [B, hidden, gh, gw] → [B, gh·gw, hidden]
    const tokens = g.op("Transpose", [g.op("Reshape", [patches, g.int64s([0, hiddenSize, -1])])], { perm: attr.ints([0, 2, 1]) });
    const classShape = g.op("Concat", [dimOf(g, pixelValues, 0), g.int64s([1, hiddenSize])], { axis: attr.int(0) });
    const classTokens = g.op("Expand", [g.op("Reshape", [classEmbedding, g.int64s([1, 1, hiddenSize])]), classShape]);
    const sequence = g.op("Concat", [classTokens, tokens], { axis: attr.int(1) });
    return g.op("Add", [sequence, positionTable]);
  });
}

/** `text_projection` / `visual_projection`: nn.Linear(hidden, projection_dim, bias=False). */
export function clipProjection(g: GraphBuilder, name: string, pooled: string, hiddenSize: number, projectionDim: number): string {
  return linear(g, name, pooled, { inFeatures: hiddenSize, outFeatures: projectionDim, bias: false });
}

/** CLIPModel's `logit_scale` parameter (a scalar), at its initial value. */
export function clipLogitScale(g: GraphBuilder, initValue: number): string {
  return g.param("logit_scale", [], { center: initValue, spread: 0 });
}

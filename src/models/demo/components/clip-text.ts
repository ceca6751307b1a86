/**
 * transformers' CLIPTextModel (CLIPTextTransformer) in ONNX: token + position embeddings,
 * pre-LayerNorm encoder layers with causal self-attention and an MLP, final LayerNorm, and the
 * pooled output taken at the end-of-text position. Initializer names are CLIPTextModel's
 * state-dict keys (`text_model.embeddings.token_embedding.weight`, …).
 */
import { attr, type GraphBuilder } from "../onnx/graph-builder.ts";
import { causalMask, dimOf, layerNorm, unsqueeze } from "../onnx/layers.ts";
import { clipEncoderLayer, type ClipEncoderConfig } from "./clip-encoder-layer.ts";

/** The CLIPTextConfig fields the graph depends on (camelCase of transformers' config keys). */
export interface ClipTextConfig extends ClipEncoderConfig {
  readonly vocabSize: number;
  readonly numHiddenLayers: number;
  readonly maxPositionEmbeddings: number;
  /**
   * End-of-text id. transformers keeps a legacy path for configs that say 2 (SD 1.x's text
   * encoder config does): the pooled position is then argmax(input_ids), which finds the
   * first <|endoftext|> because it is the highest id. Otherwise: first position equal to it.
   */
  readonly eosTokenId: number;
}

/** The two tensors CLIPTextModel returns; outputs are declared by the caller. */
export interface ClipTextOutputs {
  /** [batch, sequence, hiddenSize] after final_layer_norm. */
  readonly lastHiddenState: string;
  /** [batch, hiddenSize]: last_hidden_state at the end-of-text position. */
  readonly pooledOutput: string;
}

/** Builds CLIPTextTransformer under `path` (CLIPTextModel uses "text_model"). */
export function clipTextTransformer(g: GraphBuilder, path: string, inputIds: string, config: ClipTextConfig): ClipTextOutputs {
  let hidden = embeddings(g, `${path}.embeddings`, inputIds, config);
  const mask = g.scope(path, () => causalMask(g, inputIds));
  for (let layer = 0; layer < config.numHiddenLayers; layer++) {
    hidden = clipEncoderLayer(g, `${path}.encoder.layers.${layer}`, hidden, config, mask);
  }
  const lastHiddenState = layerNorm(g, `${path}.final_layer_norm`, hidden, { dim: config.hiddenSize, eps: config.layerNormEps });
  const pooledOutput = g.scope(path, () => pool(g, lastHiddenState, inputIds, config.eosTokenId));
  return { lastHiddenState, pooledOutput };
}

function embeddings(g: GraphBuilder, path: string, inputIds: string, config: ClipTextConfig): string {
  const { vocabSize, hiddenSize, maxPositionEmbeddings } = config;
  const tokenTable = g.param(`${path}.token_embedding.weight`, [vocabSize, hiddenSize], { spread: 0.5 });
  const positionTable = g.param(`${path}.position_embedding.weight`, [maxPositionEmbeddings, hiddenSize], { spread: 0.1 });
  return g.scope(path, () => {
    const tokens = g.op("Gather", [tokenTable, inputIds], { axis: attr.int(0) });
    // position_ids[:, :seq_len] are 0..seq_len-1, so the lookup is a prefix slice of the table.
    const positions = g.op("Slice", [positionTable, g.int64s([0]), dimOf(g, inputIds, 1), g.int64s([0])]);
    return g.op("Add", [tokens, positions]);
  });
}

/** last_hidden_state[arange(batch), eosPosition] as GatherND with batch_dims = 1. */
function pool(g: GraphBuilder, lastHiddenState: string, inputIds: string, eosTokenId: number): string {
  const ids = g.op("Cast", [inputIds], { to: attr.int(6) }); // input_ids.to(torch.int)
  const scored = eosTokenId === 2 ? ids : g.op("Cast", [g.op("Equal", [ids, g.scalar(eosTokenId, "int32")])], { to: attr.int(6) });
  const position = g.op("ArgMax", [scored], { axis: attr.int(-1), keepdims: attr.int(0), select_last_index: attr.int(0) });
  return g.op("GatherND", [lastHiddenState, unsqueeze(g, position, [-1])], { batch_dims: attr.int(1) });
}

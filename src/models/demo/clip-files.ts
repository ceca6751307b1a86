/**
 * The JSON files of a transformers.js CLIP folder (the layout of Xenova/clip-vit-base-patch32):
 * CLIPConfig's config.json, the fast tokenizer's tokenizer.json (the structure transformers'
 * CLIPConverter writes), the slow tokenizer's files, CLIPImageProcessor's preprocessor_config.json,
 * and the demo marker.
 */
import type { ClipTextConfig } from "./components/clip-text.ts";
import type { ClipVisionConfig } from "./components/clip-vision.ts";
import type { ClipGraphConfig } from "./clip-graphs.ts";
import { EXPORT_PROFILES } from "./export-profiles.ts";
import { tokenizerFiles } from "./stable-diffusion-files.ts";
import type { ClipBpe } from "./tokenizer/clip-bpe.ts";
import { demoMarkerJson } from "../../models/demo-marker.ts";

const TRANSFORMERS_VERSION = "4.46.3";
export const START_OF_TEXT = "<|startoftext|>";
export const END_OF_TEXT = "<|endoftext|>";
/** OpenAI CLIP's normalization constants (transformers' OPENAI_CLIP_MEAN / OPENAI_CLIP_STD). */
const OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711];
/** PIL.Image.BICUBIC. */
const PIL_BICUBIC = 3;

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Token id of a special token, which every demo vocabulary has. */
export function specialTokenId(bpe: ClipBpe, token: string): number {
  const id = bpe.vocab.get(token);
  if (id === undefined) throw new Error(`the demo vocabulary has no ${token}`);
  return id;
}

/** config.json as CLIPConfig.save_pretrained writes it (transformers 4.46). */
export function clipConfigJson(config: ClipGraphConfig, bpe: ClipBpe): string {
  return json({
    architectures: ["CLIPModel"],
    initializer_factor: 1.0,
    logit_scale_init_value: config.logitScaleInitValue,
    model_type: "clip",
    projection_dim: config.projectionDim,
    text_config: textConfig(config.text, config.projectionDim, bpe),
    torch_dtype: "float32",
    transformers_version: TRANSFORMERS_VERSION,
    vision_config: visionConfig(config.vision, config.projectionDim),
  });
}

function textConfig(text: ClipTextConfig, projectionDim: number, bpe: ClipBpe): Record<string, unknown> {
  return {
    attention_dropout: 0.0,
    bos_token_id: specialTokenId(bpe, START_OF_TEXT),
    dropout: 0.0,
    eos_token_id: text.eosTokenId,
    hidden_act: text.hiddenAct,
    hidden_size: text.hiddenSize,
    initializer_factor: 1.0,
    initializer_range: 0.02,
    intermediate_size: text.intermediateSize,
    layer_norm_eps: text.layerNormEps,
    max_position_embeddings: text.maxPositionEmbeddings,
    model_type: "clip_text_model",
    num_attention_heads: text.numAttentionHeads,
    num_hidden_layers: text.numHiddenLayers,
    pad_token_id: 1,
    projection_dim: projectionDim,
    vocab_size: text.vocabSize,
  };
}

function visionConfig(vision: ClipVisionConfig, projectionDim: number): Record<string, unknown> {
  return {
    attention_dropout: 0.0,
    dropout: 0.0,
    hidden_act: vision.hiddenAct,
    hidden_size: vision.hiddenSize,
    image_size: vision.imageSize,
    initializer_factor: 1.0,
    initializer_range: 0.02,
    intermediate_size: vision.intermediateSize,
    layer_norm_eps: vision.layerNormEps,
    model_type: "clip_vision_model",
    num_attention_heads: vision.numAttentionHeads,
    num_channels: vision.numChannels,
    num_hidden_layers: vision.numHiddenLayers,
    patch_size: vision.patchSize,
    projection_dim: projectionDim,
  };
}

/** preprocessor_config.json as CLIPImageProcessor.save_pretrained writes it for OpenAI CLIP. */
export function preprocessorConfigJson(vision: ClipVisionConfig): string {
  return json({
    crop_size: { height: vision.imageSize, width: vision.imageSize },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: OPENAI_CLIP_MEAN,
    image_processor_type: "CLIPImageProcessor",
    image_std: OPENAI_CLIP_STD,
    resample: PIL_BICUBIC,
    rescale_factor: 1 / 255,
    size: { shortest_edge: vision.imageSize },
  });
}

/**
 * The tokenizer files: tokenizer.json for transformers.js and fast tokenizers, plus vocab.json,
 * merges.txt, special_tokens_map.json and tokenizer_config.json as CLIPTokenizer saves them.
 */
export function clipTokenizerFiles(bpe: ClipBpe): Record<string, string> {
  return { ...tokenizerFiles(bpe, EXPORT_PROFILES["optimum-1.24"]), "tokenizer.json": tokenizerJson(bpe) };
}

/**
 * tokenizer.json with the pipeline transformers' CLIPConverter builds: NFC, whitespace runs to one
 * space, lowercase; split on CLIP's word pattern, then byte-level symbols; BPE with the "</w>"
 * end-of-word suffix; <|startoftext|> … <|endoftext|> added by RobertaProcessing.
 */
function tokenizerJson(bpe: ClipBpe): string {
  const start = specialTokenId(bpe, START_OF_TEXT);
  const end = specialTokenId(bpe, END_OF_TEXT);
  const addedToken = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
  const vocab = Object.fromEntries([...bpe.vocab].sort(([, a], [, b]) => a - b));
  return json({
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [addedToken(start, START_OF_TEXT), addedToken(end, END_OF_TEXT)],
    normalizer: {
      type: "Sequence",
      normalizers: [{ type: "NFC" }, { type: "Replace", pattern: { Regex: "\\s+" }, content: " " }, { type: "Lowercase" }],
    },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" }, behavior: "Removed", invert: true },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: "RobertaProcessing", sep: [END_OF_TEXT, end], cls: [START_OF_TEXT, start], trim_offsets: false, add_prefix_space: false },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: END_OF_TEXT,
      continuing_subword_prefix: "",
      end_of_word_suffix: "</w>",
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: bpe.merges,
    },
  });
}

/** Marks the folder as a demo model (the same marker file as the Stable Diffusion demo). */
export function clipDemoMarkerJson(preset: string): string {
  return demoMarkerJson({
    preset,
    kind: "clip",
    note: "Random weights in a real transformers.js CLIP layout: loads and runs like a real model, but its scores mean nothing.",
  });
}

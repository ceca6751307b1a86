/**
 * The JSON and text files of a Stable Diffusion ONNX export folder: diffusers' own configs
 * (every key UNet2DConditionModel / AutoencoderKL / PNDMScheduler save in v0.35.2, sorted as
 * diffusers sorts them), the transformers CLIPTextConfig, the slow CLIPTokenizer's files, and
 * the model_index.json of the pipeline class the exporter saves.
 */
import type { AutoencoderKLConfig } from "./components/autoencoder-kl.ts";
import type { ClipTextConfig } from "./components/clip-text.ts";
import type { UNet2DConditionConfig } from "./components/unet.ts";
import type { ExportProfile, ExporterGeneration } from "./export-profiles.ts";
import type { FloatType } from "./onnx/graph-builder.ts";
import type { ClipBpe } from "./tokenizer/clip-bpe.ts";
import { demoMarkerJson } from "../../models/demo-marker.ts";

const DIFFUSERS_VERSION = "0.35.2";
const TRANSFORMERS_VERSION = "4.46.3";

/** diffusers' `to_json_string`: sorted keys, 2-space indent, trailing newline. */
function diffusersJson(value: Record<string, unknown>): string {
  const sorted = Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

/** UNet2DConditionModel's saved config: the preset's keys over diffusers' defaults. */
export function unetConfigJson(config: UNet2DConditionConfig): string {
  return diffusersJson({
    _class_name: "UNet2DConditionModel",
    _diffusers_version: DIFFUSERS_VERSION,
    act_fn: "silu",
    addition_embed_type: null,
    addition_embed_type_num_heads: 64,
    addition_time_embed_dim: null,
    attention_type: "default",
    center_input_sample: false,
    class_embed_type: null,
    class_embeddings_concat: false,
    conv_in_kernel: 3,
    conv_out_kernel: 3,
    cross_attention_norm: null,
    dropout: 0.0,
    dual_cross_attention: false,
    encoder_hid_dim: null,
    encoder_hid_dim_type: null,
    mid_block_only_cross_attention: null,
    mid_block_type: "UNetMidBlock2DCrossAttn",
    num_attention_heads: null,
    num_class_embeds: null,
    only_cross_attention: false,
    projection_class_embeddings_input_dim: null,
    resnet_out_scale_factor: 1.0,
    resnet_skip_time_act: false,
    resnet_time_scale_shift: "default",
    reverse_transformer_layers_per_block: null,
    time_cond_proj_dim: null,
    time_embedding_act_fn: null,
    time_embedding_dim: null,
    time_embedding_type: "positional",
    timestep_post_act: null,
    transformer_layers_per_block: 1,
    ...config,
  });
}

/** AutoencoderKL's saved config (the same file goes to vae_encoder/ and vae_decoder/). */
export function vaeConfigJson(config: AutoencoderKLConfig): string {
  const blocks = config.block_out_channels.length;
  return diffusersJson({
    _class_name: "AutoencoderKL",
    _diffusers_version: DIFFUSERS_VERSION,
    act_fn: "silu",
    down_block_types: Array<string>(blocks).fill("DownEncoderBlock2D"),
    force_upcast: true,
    latents_mean: null,
    latents_std: null,
    mid_block_add_attention: true,
    shift_factor: null,
    up_block_types: Array<string>(blocks).fill("UpDecoderBlock2D"),
    use_post_quant_conv: true,
    use_quant_conv: true,
    ...config,
  });
}

/** SD 1.5's scheduler_config.json as diffusers 0.35.2 re-saves it (PNDMScheduler.save_config). */
/**
 * Stable Diffusion 1.5's scheduler/scheduler_config.json, key for key. It predates
 * `timestep_spacing`, so each scheduler built from it with from_config keeps its own default
 * spacing (Euler-family "linspace", PNDM/DDIM "leading"), as with the real model.
 */
export function schedulerConfigJson(): string {
  return diffusersJson({
    _class_name: "PNDMScheduler",
    _diffusers_version: "0.6.0",
    beta_end: 0.012,
    beta_schedule: "scaled_linear",
    beta_start: 0.00085,
    num_train_timesteps: 1000,
    set_alpha_to_one: false,
    skip_prk_steps: true,
    steps_offset: 1,
    trained_betas: null,
    clip_sample: false,
  });
}

/** transformers CLIPTextConfig.save_pretrained (SD 1.x text encoder keys, incl. its legacy token ids). */
export function textEncoderConfigJson(config: ClipTextConfig, floatType: FloatType): string {
  return diffusersJson({
    architectures: ["CLIPTextModel"],
    attention_dropout: 0.0,
    bos_token_id: 0,
    dropout: 0.0,
    eos_token_id: config.eosTokenId,
    hidden_act: config.hiddenAct,
    hidden_size: config.hiddenSize,
    initializer_factor: 1.0,
    initializer_range: 0.02,
    intermediate_size: config.intermediateSize,
    layer_norm_eps: config.layerNormEps,
    max_position_embeddings: config.maxPositionEmbeddings,
    model_type: "clip_text_model",
    num_attention_heads: config.numAttentionHeads,
    num_hidden_layers: config.numHiddenLayers,
    pad_token_id: 1,
    projection_dim: config.hiddenSize,
    torch_dtype: floatType,
    transformers_version: TRANSFORMERS_VERSION,
    vocab_size: config.vocabSize,
  });
}

/** The pipeline index each layout saves: diffusers' StableDiffusionPipeline or OnnxStableDiffusionPipeline. */
export function modelIndexJson(profile: ExportProfile): string {
  const none = [null, null];
  const common = {
    _diffusers_version: DIFFUSERS_VERSION,
    feature_extractor: none,
    requires_safety_checker: false,
    safety_checker: none,
    scheduler: ["diffusers", "PNDMScheduler"],
    tokenizer: ["transformers", "CLIPTokenizer"],
  };
  if (profile.layout === "diffusers-onnx") {
    const onnxModel = ["onnxruntime", "OnnxRuntimeModel"];
    return diffusersJson({
      ...common,
      _class_name: "OnnxStableDiffusionPipeline",
      text_encoder: onnxModel,
      unet: onnxModel,
      vae_decoder: onnxModel,
      vae_encoder: onnxModel,
    });
  }
  return diffusersJson({
    ...common,
    _class_name: "StableDiffusionPipeline",
    image_encoder: none,
    text_encoder: ["transformers", "CLIPTextModel"],
    unet: ["diffusers", "UNet2DConditionModel"],
    vae: ["diffusers", "AutoencoderKL"],
  });
}

const START = "<|startoftext|>";
const END = "<|endoftext|>";

function addedToken(content: string, legacyType: boolean): Record<string, unknown> {
  const token = { content, lstrip: false, normalized: true, rstrip: false, single_word: false };
  return legacyType ? { __type: "AddedToken", ...token } : token;
}

/**
 * tokenizer/ as CLIPTokenizer.save_pretrained writes it: vocab.json (sorted, unescaped),
 * merges.txt, special_tokens_map.json and tokenizer_config.json. The 2022-era diffusers
 * script layout gets the old AddedToken-object config; optimum layouts the current one.
 */
export function tokenizerFiles(bpe: ClipBpe, profile: ExportProfile): Record<string, string> {
  const vocab = Object.fromEntries([...bpe.vocab].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const legacy = profile.layout === "diffusers-onnx";
  const special = { bos_token: addedToken(START, false), eos_token: addedToken(END, false), pad_token: END, unk_token: addedToken(END, false) };
  return {
    "vocab.json": `${JSON.stringify(vocab, null, 2)}\n`,
    "merges.txt": `#version: 0.2\n${bpe.merges.map((merge) => `${merge}\n`).join("")}`,
    "special_tokens_map.json": `${JSON.stringify(special, null, 2)}\n`,
    "tokenizer_config.json": `${JSON.stringify(legacy ? legacyTokenizerConfig() : tokenizerConfig(bpe), null, 2)}\n`,
  };
}

function tokenizerConfig(bpe: ClipBpe): Record<string, unknown> {
  const decoder = (token: string) => [String(bpe.vocab.get(token)), { ...addedToken(token, false), special: true }];
  return {
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries([decoder(START), decoder(END)]),
    bos_token: START,
    clean_up_tokenization_spaces: true,
    do_lower_case: true,
    eos_token: END,
    errors: "replace",
    model_max_length: 77,
    pad_token: END,
    tokenizer_class: "CLIPTokenizer",
    unk_token: END,
  };
}

function legacyTokenizerConfig(): Record<string, unknown> {
  return {
    add_prefix_space: false,
    bos_token: addedToken(START, true),
    do_lower_case: true,
    eos_token: addedToken(END, true),
    errors: "replace",
    model_max_length: 77,
    pad_token: END,
    special_tokens_map_file: "./special_tokens_map.json",
    tokenizer_class: "CLIPTokenizer",
    unk_token: addedToken(END, true),
  };
}

/** Marks the folder as a demo model so every surface can say its images are noise. */
export function sdDemoMarkerJson(preset: string, exporter: ExporterGeneration, floatType: FloatType): string {
  return demoMarkerJson({
    preset,
    kind: "stable-diffusion",
    exporter,
    dtype: floatType,
    note: "Random weights in a real Stable Diffusion ONNX layout: runs like a real model, but its images are noise.",
  });
}

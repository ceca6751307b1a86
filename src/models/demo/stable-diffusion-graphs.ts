/**
 * The four ONNX graphs of a Stable Diffusion export, with inputs and outputs named, typed and
 * shaped as the chosen exporter generation writes them. Weights are seeded per preset and
 * component, so every variant of a preset carries the same weights (cast for fp16).
 */
import { vaeDecode, vaeEncode, sampleLatentDistribution, type AutoencoderKLConfig } from "./components/autoencoder-kl.ts";
import { clipTextTransformer, type ClipTextConfig } from "./components/clip-text.ts";
import { unet2DCondition, type UNet2DConditionConfig } from "./components/unet.ts";
import { imageDims, type ExportProfile } from "./export-profiles.ts";
import { GraphBuilder, type ExternalData, type FloatType } from "./onnx/graph-builder.ts";
import { seededParameters } from "./onnx/seeded-parameters.ts";

/** What every graph of one export shares. */
export interface GraphSettings {
  /** Seed prefix: the preset name; the component name is appended. */
  readonly seed: string;
  readonly profile: ExportProfile;
  readonly floatType: FloatType;
  /** Where this graph's large initializers go; absent: inline. */
  readonly externalData?: ExternalData;
}

/** The seed of a component's weights: `${preset}/${component}`; the VAE encoder and decoder share "vae". */
export function componentSeed(preset: string, component: "text_encoder" | "unet" | "vae"): string {
  return `${preset}/${component}`;
}

function builder(settings: GraphSettings, component: "text_encoder" | "unet" | "vae"): GraphBuilder {
  return new GraphBuilder({
    opset: settings.profile.opset,
    floatType: settings.floatType,
    parameters: seededParameters(componentSeed(settings.seed, component)),
    ...(settings.externalData && { externalData: settings.externalData }),
  });
}

/** CLIPTextModel: input_ids → last_hidden_state, pooler_output. */
export function textEncoderGraph(settings: GraphSettings, config: ClipTextConfig): GraphBuilder {
  const g = builder(settings, "text_encoder");
  const { batch, sequence } = settings.profile.text;
  const ids = g.input("input_ids", settings.profile.inputIdsType, [batch, sequence]);
  const { lastHiddenState, pooledOutput } = clipTextTransformer(g, "text_model", ids, config);
  g.output("last_hidden_state", lastHiddenState, settings.floatType, [batch, sequence, config.hiddenSize]);
  g.output("pooler_output", pooledOutput, settings.floatType, [batch, config.hiddenSize]);
  return g;
}

/** UNet2DConditionModel: sample, timestep, encoder_hidden_states → out_sample. */
export function unetGraph(settings: GraphSettings, config: UNet2DConditionConfig): GraphBuilder {
  const g = builder(settings, "unet");
  const { profile, floatType } = settings;
  const dims = profile.unet;
  const sample = g.input("sample", floatType, imageDims(dims, config.in_channels));
  const timestepType = profile.timestepType === "float" ? floatType : profile.timestepType;
  const timestep = g.input("timestep", timestepType, profile.timestepDims);
  const context = g.input("encoder_hidden_states", floatType, [dims.batch, dims.sequence, config.cross_attention_dim]);
  const timestepRank = profile.timestepDims.length === 0 ? 0 : 1;
  const noise = unet2DCondition(g, { sample, timestep, timestepRank, encoderHiddenStates: context }, config);
  g.output("out_sample", noise, floatType, [dims.batch, config.out_channels, dims.height, dims.width]);
  return g;
}

/** AutoencoderKL.encode: sample → latent_parameters (or latent_sample for the old layout). */
export function vaeEncoderGraph(settings: GraphSettings, config: AutoencoderKLConfig): GraphBuilder {
  const g = builder(settings, "vae");
  const { input, output } = settings.profile.vaeEncoder;
  const sample = g.input("sample", settings.floatType, imageDims(input, config.in_channels));
  const moments = vaeEncode(g, sample, config);
  const sampled = settings.profile.vaeEncoderOutput === "latent_sample";
  const result = sampled ? sampleLatentDistribution(g, moments, config.latent_channels) : moments;
  const channels = sampled ? config.latent_channels : 2 * config.latent_channels;
  g.output(settings.profile.vaeEncoderOutput, result, settings.floatType, [output.batch, channels, output.height, output.width]);
  return g;
}

/** AutoencoderKL.decode: latent_sample → sample. */
export function vaeDecoderGraph(settings: GraphSettings, config: AutoencoderKLConfig): GraphBuilder {
  const g = builder(settings, "vae");
  const { input, output } = settings.profile.vaeDecoder;
  const latents = g.input("latent_sample", settings.floatType, imageDims(input, config.latent_channels));
  const image = vaeDecode(g, latents, config);
  g.output("sample", image, settings.floatType, [output.batch, config.out_channels, output.height, output.width]);
  return g;
}

/**
 * The external data file of a component, if it has one: diffusers' conversion script always puts
 * the UNet's weights in unet/weights.pb; optimum moves a graph's weights to model.onnx_data when
 * it is over 2 GB (`export_pytorch`: onnx.save(..., location=output.name + "_data",
 * all_tensors_to_one_file=True, size_threshold=1024)), which of SD's graphs only the UNet is.
 */
export function externalDataFile(component: string, profile: ExportProfile, externalUnetWeights: boolean): string | undefined {
  if (component !== "unet") return undefined;
  if (profile.layout === "diffusers-onnx") return "weights.pb";
  return externalUnetWeights ? "model.onnx_data" : undefined;
}

/**
 * makeDemoStableDiffusion: writes a random-weight Stable Diffusion model in the exact folder
 * layout, file names, tensor names, dtypes and ranks of a real ONNX export of the chosen
 * exporter generation. Deterministic: the same options give the same bytes on any machine.
 */
import type { ClipTextConfig } from "./components/clip-text.ts";
import { DEFAULT_EXPORTER, EXPORT_PROFILES, EXPORTER_GENERATIONS, type ExporterGeneration } from "./export-profiles.ts";
import type { FloatType, GraphBuilder } from "./onnx/graph-builder.ts";
import { DEMO_SIZES, STABLE_DIFFUSION_PRESETS, type DemoModelSizes, type StableDiffusionPreset } from "./presets.ts";
import * as files from "./stable-diffusion-files.ts";
import { externalDataFile, textEncoderGraph, unetGraph, vaeDecoderGraph, vaeEncoderGraph, type GraphSettings } from "./stable-diffusion-graphs.ts";
import type { ClipBpe } from "./tokenizer/clip-bpe.ts";
import { demoTokenizer } from "./tokenizer/demo-tokenizer.ts";
import { openAiClipVocabulary } from "./tokenizer/openai-clip-vocabulary.ts";
import { writeModelFolder, type FileGroup, type WriteProgress, type WriteStep } from "./write-model-folder.ts";
import { DEMO_MARKER_FILE } from "../../models/demo-marker.ts";

export interface DemoStableDiffusionOptions {
  /** Model size: "tiny" for tests and the demo, "small" for benchmarks, "sd15" for SD 1.5's full size. */
  readonly preset: StableDiffusionPreset;
  /** Folder to create. An existing folder there is replaced once the new one is complete. */
  readonly outDir: string;
  /** Which exporter's names, dtypes, opset and layout to reproduce. @default "optimum-1.23" */
  readonly exporter?: ExporterGeneration;
  /** Weights and float inputs/outputs: "float16" as an fp16 export declares them. @default "float32" */
  readonly dtype?: FloatType;
  /**
   * Put the UNet's weights in unet/model.onnx_data beside unet/model.onnx, as optimum does for
   * graphs over 2 GB (the optimum layouts; diffusers' script layout always uses unet/weights.pb).
   * @default the preset's choice: true for sd15 only
   */
  readonly externalUnetWeights?: boolean;
  /** Called after each file group is written (`what` names it, e.g. "unet/model.onnx") and while weights stream to a file. */
  readonly onProgress?: WriteProgress;
}

/** Everything that defines a demo model's architecture. */
export interface DemoModelDefinition extends DemoModelSizes {
  readonly text: ClipTextConfig;
  readonly tokenizer: ClipBpe;
}

/** The configs and tokenizer of a preset (the text encoder's vocab size comes from the tokenizer). */
export function demoModelDefinition(preset: StableDiffusionPreset): DemoModelDefinition {
  const sizes = DEMO_SIZES[preset];
  const tokenizer = sizes.vocabulary === "openai-clip" ? openAiClipVocabulary() : demoTokenizer();
  return { ...sizes, text: { ...sizes.text, vocabSize: tokenizer.vocab.size }, tokenizer };
}

export async function makeDemoStableDiffusion(options: DemoStableDiffusionOptions): Promise<void> {
  const { preset, outDir, exporter = DEFAULT_EXPORTER, dtype = "float32" } = validate(options);
  const externalUnetWeights = options.externalUnetWeights ?? DEMO_SIZES[preset].externalUnetWeights;
  await writeModelFolder(outDir, plan(preset, exporter, dtype, externalUnetWeights), options.onProgress);
}

function validate(options: DemoStableDiffusionOptions): DemoStableDiffusionOptions {
  if (!STABLE_DIFFUSION_PRESETS.includes(options.preset)) {
    throw new Error(`preset must be one of ${STABLE_DIFFUSION_PRESETS.join(", ")}, got ${JSON.stringify(options.preset)}`);
  }
  if (options.exporter !== undefined && !EXPORTER_GENERATIONS.includes(options.exporter)) {
    throw new Error(`exporter must be one of ${EXPORTER_GENERATIONS.join(", ")}, got ${JSON.stringify(options.exporter)}`);
  }
  if (options.dtype !== undefined && options.dtype !== "float32" && options.dtype !== "float16") {
    throw new Error(`dtype must be "float32" or "float16", got ${JSON.stringify(options.dtype)}`);
  }
  if (options.outDir.trim() === "") throw new Error("outDir must be a folder path, got an empty string");
  return options;
}

/**
 * The steps that write one export, cheapest first; graphs are built one at a time to bound memory,
 * and a graph with external data streams its weights to that file while it is built.
 */
function plan(preset: StableDiffusionPreset, exporter: ExporterGeneration, dtype: FloatType, externalUnetWeights: boolean): WriteStep[] {
  const model = demoModelDefinition(preset);
  const profile = EXPORT_PROFILES[exporter];
  const withConfigs = profile.layout === "optimum";
  const component = (dir: string, build: (settings: GraphSettings) => GraphBuilder, config: string): WriteStep => ({
    what: `${dir}/model.onnx`,
    make: (stream) => {
      const location = externalDataFile(dir, profile, externalUnetWeights);
      const externalData = location === undefined ? undefined : { location, sink: stream(`${dir}/${location}`) };
      const graph = build({ seed: preset, profile, floatType: dtype, ...(externalData && { externalData }) });
      return { [`${dir}/model.onnx`]: graph.serialize(), ...(withConfigs ? { [`${dir}/config.json`]: config } : {}) };
    },
  });
  const vaeConfig = files.vaeConfigJson(model.vae);
  return [
    { what: "model_index.json", make: () => ({ "model_index.json": files.modelIndexJson(profile), [DEMO_MARKER_FILE]: files.sdDemoMarkerJson(preset, exporter, dtype) }) },
    { what: "scheduler/scheduler_config.json", make: () => ({ "scheduler/scheduler_config.json": files.schedulerConfigJson() }) },
    { what: "tokenizer/", make: () => prefixed("tokenizer", files.tokenizerFiles(model.tokenizer, profile)) },
    component("text_encoder", (settings) => textEncoderGraph(settings, model.text), files.textEncoderConfigJson(model.text, dtype)),
    component("vae_encoder", (settings) => vaeEncoderGraph(settings, model.vae), vaeConfig),
    component("vae_decoder", (settings) => vaeDecoderGraph(settings, model.vae), vaeConfig),
    component("unet", (settings) => unetGraph(settings, model.unet), files.unetConfigJson(model.unet)),
  ];
}

function prefixed(dir: string, group: Record<string, string>): FileGroup {
  return Object.fromEntries(Object.entries(group).map(([name, content]) => [`${dir}/${name}`, content]));
}


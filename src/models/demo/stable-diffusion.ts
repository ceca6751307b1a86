/**
 * makeDemoStableDiffusion: writes a random-weight Stable Diffusion model in the exact folder
 * layout, file names, tensor names, dtypes and ranks of a real ONNX export of the chosen
 * exporter generation. Deterministic: the same options give the same bytes on any machine.
 */
import type { ClipTextConfig } from "./components/clip-text.ts";
import { DEFAULT_EXPORTER, EXPORT_PROFILES, EXPORTER_GENERATIONS, type ExportProfile, type ExporterGeneration } from "./export-profiles.ts";
import type { FloatType, GraphBuilder } from "./onnx/graph-builder.ts";
import { DEMO_PRESETS, DEMO_SIZES, type DemoModelSizes, type DemoPreset } from "./presets.ts";
import * as files from "./stable-diffusion-files.ts";
import { serializeComponent, textEncoderGraph, unetGraph, vaeDecoderGraph, vaeEncoderGraph, type GraphSettings } from "./stable-diffusion-graphs.ts";
import type { ClipBpe } from "./tokenizer/clip-bpe.ts";
import { demoTokenizer } from "./tokenizer/demo-tokenizer.ts";
import { writeModelFolder, type FileGroup, type WriteStep } from "./write-model-folder.ts";
import { DEMO_MARKER_FILE } from "../../models/demo-marker.ts";

export interface DemoStableDiffusionOptions {
  /** Model size: "tiny" for tests and the demo, "small" for benchmarks. */
  readonly preset: DemoPreset;
  /** Folder to create. An existing folder there is replaced once the new one is complete. */
  readonly outDir: string;
  /** Which exporter's names, dtypes, opset and layout to reproduce. @default "optimum-1.23" */
  readonly exporter?: ExporterGeneration;
  /** Weights and float inputs/outputs: "float16" as an fp16 export declares them. @default "float32" */
  readonly dtype?: FloatType;
  /** Called after each file group is written: `what` names it (e.g. "unet/model.onnx"). */
  readonly onProgress?: (done: number, total: number, what: string) => void;
}

/** Everything that defines a demo model's architecture. */
export interface DemoModelDefinition extends DemoModelSizes {
  readonly text: ClipTextConfig;
  readonly tokenizer: ClipBpe;
}

/** The configs and tokenizer of a preset (the text encoder's vocab size comes from the tokenizer). */
export function demoModelDefinition(preset: DemoPreset): DemoModelDefinition {
  const tokenizer = demoTokenizer();
  const sizes = DEMO_SIZES[preset];
  return { ...sizes, text: { ...sizes.text, vocabSize: tokenizer.vocab.size }, tokenizer };
}

export async function makeDemoStableDiffusion(options: DemoStableDiffusionOptions): Promise<void> {
  const { preset, outDir, exporter = DEFAULT_EXPORTER, dtype = "float32" } = validate(options);
  await writeModelFolder(outDir, plan(preset, exporter, dtype), options.onProgress);
}

function validate(options: DemoStableDiffusionOptions): DemoStableDiffusionOptions {
  if (!DEMO_PRESETS.includes(options.preset)) {
    throw new Error(`preset must be one of ${DEMO_PRESETS.join(", ")}, got ${JSON.stringify(options.preset)}`);
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

/** The steps that write one export, cheapest first; graphs are built one at a time to bound memory. */
function plan(preset: DemoPreset, exporter: ExporterGeneration, dtype: FloatType): WriteStep[] {
  const model = demoModelDefinition(preset);
  const profile = EXPORT_PROFILES[exporter];
  const settings: GraphSettings = { seed: preset, profile, floatType: dtype };
  const withConfigs = profile.layout === "optimum";
  const component = (dir: string, build: () => GraphBuilder, config: string): WriteStep => ({
    what: `${dir}/model.onnx`,
    make: () => ({ ...onnxFiles(dir, build(), profile), ...(withConfigs ? { [`${dir}/config.json`]: config } : {}) }),
  });
  const vaeConfig = files.vaeConfigJson(model.vae);
  return [
    { what: "model_index.json", make: () => ({ "model_index.json": files.modelIndexJson(profile), [DEMO_MARKER_FILE]: files.sdDemoMarkerJson(preset, exporter, dtype) }) },
    { what: "scheduler/scheduler_config.json", make: () => ({ "scheduler/scheduler_config.json": files.schedulerConfigJson() }) },
    { what: "tokenizer/", make: () => prefixed("tokenizer", files.tokenizerFiles(model.tokenizer, profile)) },
    component("text_encoder", () => textEncoderGraph(settings, model.text), files.textEncoderConfigJson(model.text, dtype)),
    component("vae_encoder", () => vaeEncoderGraph(settings, model.vae), vaeConfig),
    component("vae_decoder", () => vaeDecoderGraph(settings, model.vae), vaeConfig),
    component("unet", () => unetGraph(settings, model.unet), files.unetConfigJson(model.unet)),
  ];
}

function onnxFiles(dir: string, graph: GraphBuilder, profile: ExportProfile): FileGroup {
  const { model, externalData } = serializeComponent(graph, dir, profile);
  return externalData ? { [`${dir}/model.onnx`]: model, [`${dir}/weights.pb`]: externalData } : { [`${dir}/model.onnx`]: model };
}

function prefixed(dir: string, group: Record<string, string>): FileGroup {
  return Object.fromEntries(Object.entries(group).map(([name, content]) => [`${dir}/${name}`, content]));
}


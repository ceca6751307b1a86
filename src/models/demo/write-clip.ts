/**
 * makeDemoClip: writes a random-weight CLIP model in the folder layout transformers.js loads
 * (Xenova/clip-vit-base-patch32's files, names, dtypes and dynamic axes). Deterministic: the same
 * options give the same bytes on any machine. Atomic: the folder is built beside `outDir` and
 * renamed into place when complete.
 */
import { DEMO_MARKER_FILE } from "../../models/demo-marker.ts";
import * as files from "./clip-files.ts";
import { clipModelGraph, textModelGraph, visionModelGraph, type ClipGraphConfig } from "./clip-graphs.ts";
import { DEMO_CLIP_SIZES } from "./clip-presets.ts";
import type { GraphBuilder } from "./onnx/graph-builder.ts";
import { DEMO_PRESETS, type DemoPreset } from "./presets.ts";
import type { ClipBpe } from "./tokenizer/clip-bpe.ts";
import { demoTokenizer } from "./tokenizer/demo-tokenizer.ts";
import { writeModelFolder, type WriteStep } from "./write-model-folder.ts";

export interface DemoClipOptions {
  /** Model size: "tiny" for tests and the demo, "small" for benchmarks. */
  readonly preset: DemoPreset;
  /** Folder to create. An existing folder there is replaced once the new one is complete. */
  readonly outDir: string;
  /** Called after each file group is written: `what` names it (e.g. "onnx/vision_model.onnx"). */
  readonly onProgress?: (done: number, total: number, what: string) => void;
}

/** A demo CLIP's architecture and tokenizer. */
export interface DemoClipDefinition extends ClipGraphConfig {
  readonly tokenizer: ClipBpe;
}

/**
 * The preset's configs. The vocabulary is the Stable Diffusion demo's (same word list and merge
 * budget), so a prompt splits into the same tokens for both demo models.
 */
export function demoClipDefinition(preset: DemoPreset): DemoClipDefinition {
  const tokenizer = demoTokenizer();
  const sizes = DEMO_CLIP_SIZES[preset];
  const eosTokenId = files.specialTokenId(tokenizer, files.END_OF_TEXT);
  return { ...sizes, text: { ...sizes.text, vocabSize: tokenizer.vocab.size, eosTokenId }, tokenizer };
}

export async function makeDemoClip(options: DemoClipOptions): Promise<void> {
  validate(options);
  await writeModelFolder(options.outDir, plan(options.preset), options.onProgress);
}

function validate(options: DemoClipOptions): void {
  if (!DEMO_PRESETS.includes(options.preset)) {
    throw new Error(`preset must be one of ${DEMO_PRESETS.join(", ")}, got ${JSON.stringify(options.preset)}`);
  }
  if (options.outDir.trim() === "") throw new Error("outDir must be a folder path, got an empty string");
}

/** The steps that write one folder, cheapest first; graphs are built one at a time to bound memory. */
function plan(preset: DemoPreset): WriteStep[] {
  const model = demoClipDefinition(preset);
  const graph = (path: string, build: (seed: string, config: ClipGraphConfig) => GraphBuilder): WriteStep => ({
    what: path,
    make: () => ({ [path]: build(preset, model).serialize() }),
  });
  return [
    {
      what: "config.json",
      make: () => ({
        "config.json": files.clipConfigJson(model, model.tokenizer),
        "preprocessor_config.json": files.preprocessorConfigJson(model.vision),
        [DEMO_MARKER_FILE]: files.clipDemoMarkerJson(preset),
      }),
    },
    { what: "tokenizer.json", make: () => files.clipTokenizerFiles(model.tokenizer) },
    graph("onnx/text_model.onnx", textModelGraph),
    graph("onnx/vision_model.onnx", visionModelGraph),
    graph("onnx/model.onnx", clipModelGraph),
  ];
}


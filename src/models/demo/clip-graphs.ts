/**
 * The three graphs of a transformers.js CLIP folder, with the input/output names and dynamic axes
 * of the ONNX exports it loads: `onnx/text_model.onnx` (CLIPTextModelWithProjection),
 * `onnx/vision_model.onnx` (CLIPVisionModelWithProjection) and `onnx/model.onnx` (CLIPModel,
 * optimum's CLIPOnnxConfig). One seed per preset, so a parameter has the same values in every
 * file that holds it.
 */
import { clipTextTransformer, type ClipTextConfig } from "./components/clip-text.ts";
import { clipLogitScale, clipProjection, clipVisionTransformer, visionSequenceLength, type ClipVisionConfig } from "./components/clip-vision.ts";
import { GraphBuilder, attr } from "./onnx/graph-builder.ts";
import { seededParameters } from "./onnx/seeded-parameters.ts";

/** Everything the graphs depend on. */
export interface ClipGraphConfig {
  readonly text: ClipTextConfig;
  readonly vision: ClipVisionConfig;
  readonly projectionDim: number;
  readonly logitScaleInitValue: number;
}

/** The exporters' default opset for CLIP (optimum's CLIP configs need Trilu, hence 14). */
const CLIP_OPSET = 14;

function builder(seed: string): GraphBuilder {
  return new GraphBuilder({ opset: CLIP_OPSET, floatType: "float32", parameters: seededParameters(`${seed}/clip`) });
}

/** input_ids int64 [batch_size, sequence_length] → text_embeds, last_hidden_state. */
export function textModelGraph(seed: string, config: ClipGraphConfig): GraphBuilder {
  const g = builder(seed);
  const inputIds = g.input("input_ids", "int64", ["batch_size", "sequence_length"]);
  const { textEmbeds, lastHiddenState } = textTower(g, inputIds, config);
  g.output("text_embeds", textEmbeds, "float32", ["batch_size", config.projectionDim]);
  g.output("last_hidden_state", lastHiddenState, "float32", ["batch_size", "sequence_length", config.text.hiddenSize]);
  return g;
}

/** pixel_values float32 [batch_size, num_channels, height, width] → image_embeds, last_hidden_state. */
export function visionModelGraph(seed: string, config: ClipGraphConfig): GraphBuilder {
  const g = builder(seed);
  const pixelValues = g.input("pixel_values", "float32", ["batch_size", "num_channels", "height", "width"]);
  const { imageEmbeds, lastHiddenState } = visionTower(g, pixelValues, config);
  g.output("image_embeds", imageEmbeds, "float32", ["batch_size", config.projectionDim]);
  g.output("last_hidden_state", lastHiddenState, "float32", ["batch_size", visionSequenceLength(config.vision), config.vision.hiddenSize]);
  return g;
}

/**
 * CLIPModel: input_ids, pixel_values, attention_mask → logits_per_image, logits_per_text, and the
 * L2-normalized text_embeds / image_embeds. `attention_mask` is declared as the export declares it,
 * but the demo text tower does not read it: CLIP pools at the end-of-text token, which under the
 * causal mask sees only earlier tokens, so right padding (what CLIP tokenizers do) changes nothing.
 */
export function clipModelGraph(seed: string, config: ClipGraphConfig): GraphBuilder {
  const g = builder(seed);
  const inputIds = g.input("input_ids", "int64", ["text_batch_size", "sequence_length"]);
  const pixelValues = g.input("pixel_values", "float32", ["image_batch_size", "num_channels", "height", "width"]);
  g.input("attention_mask", "int64", ["text_batch_size", "sequence_length"]);
  const textEmbeds = normalized(g, textTower(g, inputIds, config).textEmbeds);
  const imageEmbeds = normalized(g, visionTower(g, pixelValues, config).imageEmbeds);
  const scale = g.op("Exp", [clipLogitScale(g, config.logitScaleInitValue)]);
  const logitsPerText = g.op("Mul", [g.op("MatMul", [textEmbeds, g.op("Transpose", [imageEmbeds], { perm: attr.ints([1, 0]) })]), scale]);
  const logitsPerImage = g.op("Transpose", [logitsPerText], { perm: attr.ints([1, 0]) });
  g.output("logits_per_image", logitsPerImage, "float32", ["image_batch_size", "text_batch_size"]);
  g.output("logits_per_text", logitsPerText, "float32", ["text_batch_size", "image_batch_size"]);
  g.output("text_embeds", textEmbeds, "float32", ["text_batch_size", config.projectionDim]);
  g.output("image_embeds", imageEmbeds, "float32", ["image_batch_size", config.projectionDim]);
  return g;
}

function textTower(g: GraphBuilder, inputIds: string, config: ClipGraphConfig): { textEmbeds: string; lastHiddenState: string } {
  const { lastHiddenState, pooledOutput } = clipTextTransformer(g, "text_model", inputIds, config.text);
  return { textEmbeds: clipProjection(g, "text_projection", pooledOutput, config.text.hiddenSize, config.projectionDim), lastHiddenState };
}

function visionTower(g: GraphBuilder, pixelValues: string, config: ClipGraphConfig): { imageEmbeds: string; lastHiddenState: string } {
  const { lastHiddenState, pooledOutput } = clipVisionTransformer(g, "vision_model", pixelValues, config.vision);
  return { imageEmbeds: clipProjection(g, "visual_projection", pooledOutput, config.vision.hiddenSize, config.projectionDim), lastHiddenState };
}

/** x / x.norm(p=2, dim=-1, keepdim=True), which torch exports as ReduceL2 + Div. */
function normalized(g: GraphBuilder, x: string): string {
  return g.op("Div", [x, g.op("ReduceL2", [x], { axes: attr.ints([-1]), keepdims: attr.int(1) })]);
}
